"""Personal data masked by role: `reporting` and `finance` see caller numbers, emails and IPs
masked and no recording, in the REST API and in the admin; `admin`, `integration` and
superusers see everything."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from calls.models import BlockedNumber
from campaigns import masking, services
from campaigns.audit.models import AuditEvent
from campaigns.models import Role
from tests.factories import CallFactory, OutcomeFactory, SessionFactory

CALLER = "+14155552671"
MASKED = "+1 •••-•••-••71"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"


@pytest.mark.parametrize(
    ("function", "value", "shown"),
    [
        (masking.mask_phone, CALLER, MASKED),
        (masking.mask_phone, "+442071838750", "+44 •• •••• ••50"),
        (masking.mask_phone, "", None),
        (masking.mask_digits, "+1415555", "+•••••55"),
        (masking.mask_digits, "anonymous", "anonymous"),
        (masking.mask_email, "jane.doe@acme.com", "j•••@•••.com"),
        (masking.mask_ip, "203.0.113.7", "203.0.•.•"),
        (masking.mask_ip, "2001:db8::1", "2001:0db8:•:•:•:•:•:•"),
        (masking.mask_recording, RECORDING, "recording available"),
        (masking.mask_recording, "", None),
    ],
)
def test_masks_keep_only_what_the_rule_says(function, value, shown):
    assert function(value) == shown


@pytest.mark.parametrize(
    ("role", "sees"),
    [(Role.ADMIN, True), (Role.INTEGRATION, True), (Role.REPORTING, False), (Role.FINANCE, False)],
)
def test_only_reporting_and_finance_are_masked(role, sees):
    assert masking.sees_personal_data(role) is sees


# The REST API


@pytest.fixture
def call(account):
    return CallFactory(account=account, caller_e164=CALLER, recording_url=RECORDING)


@pytest.mark.parametrize("role", [Role.REPORTING, Role.FINANCE])
def test_a_masked_key_gets_masked_callers_and_no_recording(api_for, account, call, role):
    client = api_for(account, role)
    [listed] = client.get("/api/v1/calls/").json()["results"]
    detail = client.get(f"/api/v1/calls/{call.pk}/").json()
    context = client.get(f"/api/v1/calls/{call.pk}/context/").json()
    for body in (listed, detail):
        assert (body["caller_number"], body["recording_url"]) == (MASKED, None)
    assert context["call"]["caller_number"] == MASKED


@pytest.mark.parametrize("role", [Role.ADMIN, Role.INTEGRATION])
def test_admin_and_integration_keys_see_callers_and_recordings(api_for, account, call, role):
    body = api_for(account, role).get(f"/api/v1/calls/{call.pk}/").json()
    assert (body["caller_number"], body["recording_url"]) == (CALLER, RECORDING)


def test_a_reporting_key_gets_outcomes_masked(api_for, account):
    OutcomeFactory(account=account, caller_e164=CALLER, caller_raw=CALLER, email="jane@acme.com")
    [row] = api_for(account, Role.REPORTING).get("/api/v1/outcomes/").json()["results"]
    assert (row["caller_number"], row["caller_raw"], row["email"]) == (
        MASKED,
        "+•••••••••71",
        "j•••@•••.com",
    )


def test_a_masked_key_may_not_look_a_caller_up_by_number(api_for, account, call):
    response = api_for(account, Role.REPORTING).get("/api/v1/calls/", {"caller": CALLER})
    assert response.status_code == 403
    assert "may not filter by caller" in str(response.json())
    assert not AuditEvent.objects.filter(action="read").exists()


# The admin


def member(django_user_model, account, role: str, username: str):
    user = django_user_model.objects.create_user(username, is_staff=True)
    apps = ["campaigns", "calls", "attribution"]
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=apps))
    services.add_member(account=account, user=user, role=role)
    return user


@pytest.fixture
def reporting_client(client, django_user_model, account):
    client.force_login(member(django_user_model, account, Role.REPORTING, "rita"))
    return client


def test_a_reporting_member_sees_the_call_list_masked(reporting_client, call):
    response = reporting_client.get(reverse("admin:calls_call_changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert MASKED in html
    assert "4155552671" not in html


def test_a_reporting_member_gets_a_read_only_masked_call_page(reporting_client, call):
    page = reverse("admin:calls_call_change", args=[call.pk])
    response = reporting_client.get(page)
    html = response.content.decode()
    assert response.status_code == 200
    assert MASKED in html
    assert "recording available" in html
    assert "4155552671" not in html
    assert RECORDING not in html
    assert 'name="_save"' not in html
    assert reporting_client.post(page, {"spam": "on"}).status_code == 403
    call.refresh_from_db()
    assert call.spam is False


def test_a_reporting_member_cannot_find_a_call_by_its_full_number(reporting_client, call):
    response = reporting_client.get(reverse("admin:calls_call_changelist"), {"q": CALLER})
    assert list(response.context["cl"].result_list) == []


def test_an_admin_member_sees_and_searches_full_numbers(client, django_user_model, account, call):
    client.force_login(member(django_user_model, account, Role.ADMIN, "ada"))
    response = client.get(reverse("admin:calls_call_changelist"), {"q": CALLER})
    assert [row.pk for row in response.context["cl"].result_list] == [call.pk]
    assert CALLER in response.content.decode()


def test_a_reporting_member_sees_sessions_and_outcomes_masked(reporting_client, account):
    session = SessionFactory(account=account, ip="203.0.113.7", email="jane@acme.com")
    outcome = OutcomeFactory(account=account, caller_e164=CALLER, email="jane@acme.com")
    session_page = reporting_client.get(
        reverse("admin:attribution_visitorsession_change", args=[session.pk])
    ).content.decode()
    outcome_page = reporting_client.get(
        reverse("admin:attribution_outcome_change", args=[outcome.pk])
    ).content.decode()
    assert "203.0.•.•" in session_page
    assert "203.0.113.7" not in session_page
    assert "j•••@•••.com" in outcome_page
    assert "jane@acme.com" not in outcome_page
    assert MASKED in outcome_page
    assert "4155552671" not in outcome_page


def test_a_reporting_member_sees_blocked_numbers_masked_and_cannot_search_them(
    reporting_client, account
):
    blocked = BlockedNumber.objects.create(account=account, e164=CALLER, reason="robocaller")
    other = BlockedNumber.objects.create(account=account, e164="+14155550199", reason="fax")
    changelist = reverse("admin:calls_blockednumber_changelist")

    listed = reporting_client.get(changelist).content.decode()
    page = reporting_client.get(reverse("admin:calls_blockednumber_change", args=[blocked.pk]))
    searched = reporting_client.get(changelist, {"q": CALLER})

    assert MASKED in listed
    assert "4155552671" not in listed
    assert MASKED in page.content.decode()
    assert "4155552671" not in page.content.decode()
    # The number is no search field for them: the search narrows nothing, confirms nothing.
    assert {row.pk for row in searched.context["cl"].result_list} == {blocked.pk, other.pk}


@pytest.mark.parametrize(("role", "shown"), [(Role.REPORTING, MASKED), (Role.ADMIN, CALLER)])
def test_the_blocklist_api_masks_numbers_for_masked_keys(api_for, account, role, shown):
    BlockedNumber.objects.create(account=account, e164=CALLER, reason="robocaller")

    [listed] = api_for(account, role).get("/api/v1/blocklist/").json()["results"]

    assert listed["e164"] == shown
