"""The audit trail of the admin: staff reads of personal data, settings changes made there,
log-ins; and the trail itself, read-only and scoped to the user's accounts."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns import services
from campaigns.audit.models import AuditEvent
from campaigns.models import Role
from tests.factories import AuditEventFactory, CallFactory, OutcomeFactory

APPS = ["campaigns", "calls", "attribution"]


def staff_member(django_user_model, account, username="carol", role=Role.ADMIN):
    user = django_user_model.objects.create_user(username, password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=APPS))
    services.add_member(account=account, user=user, role=role)
    return user


@pytest.fixture
def carol(db, django_user_model, account):
    return staff_member(django_user_model, account)


@pytest.fixture
def carol_client(client, carol):
    client.force_login(carol)
    return client


def reads(account):
    return list(
        AuditEvent.objects.filter(account=account, action__in=["read", "export"]).order_by("id")
    )


def test_a_staff_read_of_the_call_list_is_one_event_per_account_shown(carol_client, carol, account):
    CallFactory.create_batch(3, account=account)
    response = carol_client.get(
        reverse("admin:calls_call_changelist"), {"status__exact": "answered", "o": "-1", "p": 0}
    )
    assert response.status_code == 200
    [event] = reads(account)
    assert (event.actor_kind, event.user, event.actor_label) == ("user", carol, "carol")
    assert (event.action, event.resource, event.object_id) == ("read", "calls", "")
    assert event.detail == {"count": 3, "filters": ["status__exact"]}
    assert event.path == "/admin/calls/call/"


def test_a_staff_read_of_a_call_or_an_outcome_page_names_it(carol_client, account):
    call = CallFactory(account=account)
    outcome = OutcomeFactory(account=account, call=call, email="jane@acme.com")
    assert carol_client.get(reverse("admin:calls_call_change", args=[call.pk])).status_code == 200
    page = reverse("admin:attribution_outcome_change", args=[outcome.pk])
    assert carol_client.get(page).status_code == 200
    assert [(e.resource, e.object_id, e.detail["count"]) for e in reads(account)] == [
        ("calls", str(call.pk), 1),
        ("outcomes", str(outcome.pk), 1),
    ]


def test_a_superuser_read_spanning_accounts_is_one_event_per_account(
    admin_client, account, other_account
):
    CallFactory.create_batch(2, account=account)
    CallFactory(account=other_account)
    assert admin_client.get(reverse("admin:calls_call_changelist")).status_code == 200
    assert [e.detail["count"] for e in reads(account)] == [2]
    assert [e.detail["count"] for e in reads(other_account)] == [1]


def test_an_admin_change_to_the_account_names_fields_not_the_token(carol_client, carol, account):
    form = {
        "name": account.name,
        "currency": account.currency,
        "time_zone": account.time_zone,
        "region": account.region,
        "allowed_origins": "",
        "twilio_auth_token": "tok-s3cret",
        "lookback_days": 45,
        "match_window_days": account.match_window_days,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = carol_client.post(reverse("admin:campaigns_account_change", args=[account.pk]), form)
    assert response.status_code == 302
    [event] = AuditEvent.objects.filter(account=account, resource="account")
    assert (event.action, event.user, event.method) == ("update", carol, "POST")
    assert event.detail == {"fields": ["lookback_days", "twilio_auth_token"]}
    assert "tok-s3cret" not in json.dumps([e.detail for e in AuditEvent.objects.all()])


def test_the_dashboard_export_is_an_export_event_of_the_staff_user(carol_client, carol, account):
    params = {
        "account": account.pk,
        "start": "2026-01-01",
        "end": "2026-01-31",
        "model": "last_touch",
        "group_by": "campaign",
        "format": "csv",
    }
    response = carol_client.get(reverse("admin:attribution_roi_export"), params)
    assert response.status_code == 200
    [event] = reads(account)
    rows = len(response.content.decode().splitlines()) - 2  # the header and the Total line
    assert (event.action, event.resource, event.user) == ("export", "cost_per_call", carol)
    assert event.detail["count"] == rows


def test_log_ins_and_failed_log_ins_are_recorded_without_the_typed_text(client, carol, account):
    login = reverse("admin:login")
    client.post(login, {"username": "carol", "password": "wrong"})
    client.post(login, {"username": "my-password-typed-here", "password": "x"})
    client.post(login, {"username": "carol", "password": "pw-for-tests"})
    found = [
        (e.account_id, e.action, e.actor_label, e.user_id)
        for e in AuditEvent.objects.filter(resource="admin_session").order_by("id")
    ]
    assert found == [
        (account.pk, "login_failed", "carol", carol.pk),
        (None, "login_failed", "unknown user", None),
        (account.pk, "login", "carol", carol.pk),
    ]
    assert not AuditEvent.objects.filter(actor_label__contains="my-password").exists()


# The trail in the admin


def test_the_trail_is_read_only_for_everyone_superusers_included(admin_client, account):
    event = AuditEventFactory(account=account)
    change = reverse("admin:campaigns_auditevent_change", args=[event.pk])
    assert admin_client.get(reverse("admin:campaigns_auditevent_changelist")).status_code == 200
    assert admin_client.get(change).status_code == 200  # the view-only page
    assert admin_client.get(reverse("admin:campaigns_auditevent_add")).status_code == 403
    assert admin_client.post(change, {"resource": "forged"}).status_code == 403
    delete = reverse("admin:campaigns_auditevent_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.resource == "account"


def test_a_staff_user_sees_only_their_accounts_events(
    carol_client, account, other_account, django_user_model
):
    mine = AuditEventFactory(account=account, resource="calls")
    theirs = AuditEventFactory(account=other_account, resource="calls")
    nobodys = AuditEventFactory(account=None, resource="admin_session")
    response = carol_client.get(
        reverse("admin:campaigns_auditevent_changelist"), {"resource": "calls"}
    )
    shown = {event.pk for event in response.context["cl"].result_list}
    assert shown == {mine.pk}
    for event in (theirs, nobodys):
        page = reverse("admin:campaigns_auditevent_change", args=[event.pk])
        assert carol_client.get(page).status_code == 302  # "does not exist": to the index


def test_the_trail_filters_and_searches(carol_client, account):
    AuditEventFactory(account=account, resource="calls", action="read", object_id="41")
    AuditEventFactory(account=account, resource="pools", action="update", object_id="7")
    changelist = reverse("admin:campaigns_auditevent_changelist")
    by_action = carol_client.get(changelist, {"action__exact": "update"}).context["cl"]
    assert [e.object_id for e in by_action.result_list] == ["7"]
    by_search = carol_client.get(changelist, {"q": "41"}).context["cl"]
    assert [e.object_id for e in by_search.result_list] == ["41"]


def account_form(account, **extra) -> dict:
    return {
        "name": account.name,
        "currency": account.currency,
        "time_zone": account.time_zone,
        "region": account.region,
        "allowed_origins": "",
        "lookback_days": account.lookback_days,
        "match_window_days": account.match_window_days,
        **extra,
    }


def membership_events(account) -> list[tuple[str, dict]]:
    events = AuditEvent.objects.filter(account=account, resource="memberships").order_by("id")
    return [(event.action, event.detail) for event in events]


def test_a_role_changed_in_the_accounts_member_inline_is_audited(
    carol_client, django_user_model, account
):
    bob = staff_member(django_user_model, account, username="bob")
    membership = bob.memberships.get()
    form = account_form(
        account,
        **{
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": membership.pk,
            "memberships-0-account": account.pk,
            "memberships-0-user": bob.pk,
            "memberships-0-role": Role.REPORTING,
        },
    )

    response = carol_client.post(reverse("admin:campaigns_account_change", args=[account.pk]), form)

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.REPORTING
    assert membership_events(account)[-1] == (
        "update",
        {"user": bob.pk, "fields": ["role"], "role": "reporting"},
    )


def test_a_member_removed_in_the_admin_is_audited(carol_client, django_user_model, account):
    bob = staff_member(django_user_model, account, username="bob")
    membership = bob.memberships.get()
    page = reverse("admin:campaigns_membership_delete", args=[membership.pk])

    response = carol_client.post(page, {"post": "yes"})

    assert response.status_code == 302
    assert not bob.memberships.exists()
    assert membership_events(account)[-1] == ("delete", {"user": bob.pk, "role": "admin"})


def test_an_api_key_renamed_in_the_admin_is_audited(carol_client, account):
    key, _ = services.issue_api_key(account=account, role=Role.REPORTING, name="Looker")
    page = reverse("admin:campaigns_apikey_change", args=[key.pk])

    response = carol_client.post(page, {"name": "Looker (finance)"})

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "Looker (finance)"
    [event] = AuditEvent.objects.filter(account=account, resource="api_keys", action="update")
    assert event.detail == {"fields": ["name"], "prefix": key.prefix}
