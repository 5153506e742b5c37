import itertools
import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from attribution.models import (
    Conversion,
    NumberAssignment,
    PoolExhaustion,
    Touchpoint,
    VisitorSession,
)
from attribution.models.credits import RemovalEffect
from campaigns import selectors, services
from campaigns.admin_scoping import account_id_of
from campaigns.audit.models import AuditEvent
from campaigns.models import (
    Account,
    ApiKey,
    Campaign,
    DailyCost,
    IdempotencyKey,
    Keyword,
    Membership,
    Role,
    TrackingNumber,
)
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    CostFactory,
    PoolFactory,
    make_for_account,
)

APPS = ["campaigns", "calls", "attribution"]
MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label in APPS),
    key=lambda model: model._meta.label,
)
# Rows the system writes (DNI, credits, idempotent replays): shown, never added by hand.
NOT_ADDED_BY_HAND = {
    Conversion,
    VisitorSession,
    NumberAssignment,
    PoolExhaustion,
    Touchpoint,
    RemovalEffect,
    IdempotencyKey,
    AuditEvent,
}
# The audit trail: nobody deletes a row of it, whichever account it belongs to.
NEVER_DELETED = {AuditEvent}
KEY_PATTERN = re.compile(r"cp_[0-9a-f]{8}_\S+")
_usernames = (f"member-{n}" for n in itertools.count())


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def make(model, account, django_user_model):
    """One object of any registered model, owned by `account`."""
    if model is Account:
        return account
    if model is ApiKey:
        return services.issue_api_key(account=account, role=Role.REPORTING)[0]
    if model is Membership:
        user = django_user_model.objects.create_user(next(_usernames))
        return services.add_member(account=account, user=user)
    return make_for_account(model, account)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def account_form(account, **changes) -> dict:
    """The account change form as a browser posts it, with no membership rows."""
    return {
        "name": account.name,
        "currency": account.currency,
        "time_zone": account.time_zone,
        "region": account.region,
        "allowed_origins": "",
        "twilio_auth_token": "",
        "lookback_days": account.lookback_days,
        "match_window_days": account.match_window_days,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        **changes,
    }


@pytest.fixture
def staff(db, django_user_model, account):
    """A staff member of `account` holding every permission of the three apps."""
    user = django_user_model.objects.create_user("carol", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=APPS))
    services.add_member(account=account, user=user)
    return user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


# The report rollups: derived tables that triggers and `rebuildrollups` keep, shown through the
# ROI dashboard; a row-by-row admin would only show a cache.
DERIVED = {"attribution.models.reports"}


def test_every_model_of_the_apps_is_in_the_admin():
    # Registered, or shown inline on its parent's page (an outcome's history).
    models = {
        model
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        if model.__module__ not in DERIVED
    }
    inline = {
        inline.model
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }
    assert set(MODELS) | inline == models


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_superuser_opens_every_changelist_change_and_add_page(
    admin_client, account, model, django_user_model
):
    obj = make(model, account, django_user_model)

    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200
    add_status = 403 if model in NOT_ADDED_BY_HAND else 200
    assert admin_client.get(url(model, "add")).status_code == add_status


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_staff_sees_only_their_accounts_rows(
    staff_client, account, other_account, model, django_user_model
):
    mine = make(model, account, django_user_model)
    theirs = make(model, other_account, django_user_model)

    response = staff_client.get(url(model, "changelist"))

    assert response.status_code == 200
    shown = response.context["cl"].result_list
    assert mine.pk in {obj.pk for obj in shown}
    assert {account_id_of(obj) for obj in shown} == {account.pk}
    assert staff_client.get(url(model, "change", mine.pk)).status_code == 200
    for view in ("change", "delete", "history"):
        response = staff_client.get(url(model, view, theirs.pk))
        if view == "delete" and model in NEVER_DELETED:
            assert response.status_code == 403
            continue
        assert (response.status_code, response.url) == (302, reverse("admin:index"))


def test_object_permissions_refuse_another_accounts_object(rf, staff, account, other_account):
    # The querysets hide other accounts' rows already; this guards any caller that skips them.
    model_admin = admin.site._registry[Campaign]
    request = rf.get("/")
    request.user = staff
    mine, theirs = CampaignFactory(account=account), CampaignFactory(account=other_account)

    for check in ("view", "change", "delete"):
        has_permission = getattr(model_admin, f"has_{check}_permission")
        assert (has_permission(request, mine), has_permission(request, theirs)) == (True, False)


def test_staff_cannot_attach_a_keyword_to_another_accounts_campaign(
    staff_client, account, other_account
):
    theirs = CampaignFactory(account=other_account)

    response = staff_client.post(
        url(Keyword, "add"),
        {"account": account.pk, "campaign": theirs.pk, "text": "plumber", "active": "on"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "campaign": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert not Keyword.objects.exists()


def test_staff_cannot_add_a_campaign_to_another_account(staff_client, other_account):
    response = staff_client.post(
        url(Campaign, "add"),
        {
            "account": other_account.pk,
            "name": "Spring",
            "channel": "email",
            # The call flow's required fields, as the page fills them in.
            "ring_timeout_seconds": 20,
            "recording_mode": "record-from-answer-dual",
            "caller_id_mode": "caller",
            "voicemail_max_seconds": 120,
        },
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["account"]
    assert not Campaign.objects.exists()


def test_superuser_cannot_mix_accounts_in_one_object(admin_client, account, other_account):
    theirs = CampaignFactory(account=other_account)

    response = admin_client.post(
        url(Keyword, "add"), {"account": account.pk, "campaign": theirs.pk, "text": "plumber"}
    )

    assert response.context["adminform"].form.errors == {
        "campaign": ["This campaign belongs to another account."]
    }
    assert not Keyword.objects.exists()


def test_campaign_filter_offers_only_the_staff_users_campaigns(
    staff_client, account, other_account
):
    for name in ("Boilers", "Drains"):
        CampaignFactory(account=account, name=name)
    CampaignFactory(account=other_account, name="Roofing secret launch")

    response = staff_client.get(url(Keyword, "changelist"))

    [spec] = [s for s in response.context["cl"].filter_specs if s.field_path == "campaign"]
    names = [name for _, name in spec.lookup_choices]
    assert "Roofing secret launch" not in names
    assert {"Boilers", "Drains"} <= set(names)
    assert "Roofing secret launch" not in response.content.decode()


def test_create_admin_key_action_shows_the_key_once_and_stores_only_its_hash(admin_client, account):
    response = admin_client.post(
        url(Account, "changelist"),
        {"action": "create_admin_key", "_selected_action": [account.pk]},
        follow=True,
    )

    [message] = messages_of(response)
    raw_key = KEY_PATTERN.search(message).group()
    [key] = ApiKey.objects.filter(account=account)
    assert (key.role, key.hashed_key) == (Role.ADMIN, selectors.hash_key(raw_key))
    assert raw_key.startswith(key.prefix)
    assert raw_key in response.content.decode()
    assert raw_key not in admin_client.get(url(Account, "changelist")).content.decode()
    assert raw_key not in admin_client.get(url(ApiKey, "change", key.pk)).content.decode()


def test_adding_a_key_never_asks_for_its_hash_and_shows_the_key_once(admin_client, account):
    assert "hashed_key" not in admin_client.get(url(ApiKey, "add")).content.decode()

    response = admin_client.post(
        url(ApiKey, "add"),
        {"account": account.pk, "role": Role.REPORTING, "name": "Looker"},
        follow=True,
    )

    [raw_key] = KEY_PATTERN.findall(" ".join(messages_of(response)))
    [key] = ApiKey.objects.all()
    assert (key.account, key.role, key.name) == (account, Role.REPORTING, "Looker")
    assert key.hashed_key == selectors.hash_key(raw_key)
    change_page = admin_client.get(url(ApiKey, "change", key.pk)).content.decode()
    assert raw_key not in change_page
    assert key.hashed_key not in change_page


def test_revoke_action_revokes_the_selected_keys_only(admin_client, account):
    kept, _ = services.issue_api_key(account=account, role=Role.ADMIN)
    revoked, _ = services.issue_api_key(account=account, role=Role.ADMIN)

    response = admin_client.post(
        url(ApiKey, "changelist"),
        {"action": "revoke_keys", "_selected_action": [revoked.pk]},
        follow=True,
    )

    assert messages_of(response) == ["Revoked 1 key(s)."]
    revoked.refresh_from_db()
    kept.refresh_from_db()
    assert revoked.revoked_at is not None
    assert kept.revoked_at is None


def test_staff_cannot_revoke_another_accounts_key(staff_client, other_account):
    theirs, _ = services.issue_api_key(account=other_account, role=Role.ADMIN)

    response = staff_client.post(
        url(ApiKey, "changelist"),
        {"action": "revoke_keys", "_selected_action": [theirs.pk]},
        follow=True,
    )

    assert messages_of(response) == ["Revoked 0 key(s)."]
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_account_page_never_renders_the_twilio_token(admin_client):
    account = AccountFactory(twilio_auth_token="tw-secret-0123456789")

    response = admin_client.get(url(Account, "change", account.pk))

    assert response.status_code == 200
    assert "tw-secret-0123456789" not in response.content.decode()


@pytest.mark.parametrize(
    ("posted", "stored"),
    [
        ({"twilio_auth_token": ""}, "tw-old"),
        ({"twilio_auth_token": "tw-new"}, "tw-new"),
        ({"clear_twilio_auth_token": "on"}, ""),
    ],
    ids=["blank-keeps", "new-replaces", "clear-removes"],
)
def test_saving_the_account_keeps_the_token_unless_replaced_or_cleared(
    admin_client, posted, stored
):
    account = AccountFactory(twilio_auth_token="tw-old")

    response = admin_client.post(
        url(Account, "change", account.pk), account_form(account, **posted)
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.twilio_auth_token == stored


def test_a_service_refusal_shows_the_form_again_and_saves_nothing(admin_client, account):
    CostFactory(campaign=CampaignFactory(account=account))

    response = admin_client.post(
        url(Account, "change", account.pk), account_form(account, currency="EUR", name="Renamed")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "currency": ["The currency cannot change once costs or outcome values are recorded."]
    }
    account.refresh_from_db()
    assert (account.currency, account.name) == ("USD", "Alice Plumbing")


def test_a_pool_number_added_in_the_admin_is_normalised_and_takes_its_pools_campaign(
    admin_client, account
):
    pool = PoolFactory(campaign=CampaignFactory(account=account))

    response = admin_client.post(
        url(TrackingNumber, "add"),
        {
            "account": account.pk,
            "e164": "(212) 555-0199",
            "kind": "pool",
            "pool": pool.pk,
            "provider": "twilio",
        },
    )

    assert response.status_code == 302
    number = TrackingNumber.objects.get()
    assert (number.e164, number.pool, number.campaign) == ("+12125550199", pool, pool.campaign)


def test_a_cost_saved_in_the_admin_is_upserted_in_the_accounts_currency(admin_client, account):
    campaign = CampaignFactory(account=account)
    figures = {"amount": "12.5", "currency": "", "clicks": 0, "impressions": 0}
    form = {"account": account.pk, "campaign": campaign.pk, "date": "2026-03-01", **figures}
    response = admin_client.post(url(DailyCost, "add"), form)
    assert response.status_code == 302
    cost = DailyCost.objects.get()

    response = admin_client.post(
        url(DailyCost, "change", cost.pk), {**figures, "amount": "20", "clicks": 3}
    )

    assert response.status_code == 302
    cost = DailyCost.objects.get()
    assert (cost.amount, cost.currency, cost.clicks) == (20, "USD", 3)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_changelists_run_a_fixed_number_of_queries(
    staff_client, account, model, django_user_model, django_assert_max_num_queries
):
    for _ in range(30):
        owner = AccountFactory() if model is Account else account
        obj = make(model, owner, django_user_model)
        if model is Account:
            services.add_member(account=obj, user=django_user_model.objects.get(username="carol"))

    # 11 at most today (session, user, permissions, accounts, filter choices, count, rows, date
    # hierarchy); one query per row would be 40 and more.
    with django_assert_max_num_queries(12):
        response = staff_client.get(url(model, "changelist"))

    assert len(response.context["cl"].result_list) >= 30
