"""The audit trail of the REST API: reads and exports of personal data, and changes to settings
and credentials, each one event naming the key, never holding the personal data itself."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services
from campaigns.audit.models import AuditEvent
from campaigns.models import ApiKey, Role
from tests.factories import (
    AuditEventFactory,
    CallFactory,
    ConversionFactory,
    OutcomeFactory,
    PoolFactory,
    SessionFactory,
)

CALLER = "+14155552671"  # CallFactory's caller


def events(account, **filters):
    return list(AuditEvent.objects.filter(account=account, **filters).order_by("id"))


def reads(account):
    return events(account, action__in=["read", "export"])


def no_personal_data(event) -> bool:
    text = json.dumps(event.detail) + event.path + event.object_id + event.actor_label
    return "4155552671" not in text and "@" not in text


def test_a_call_list_read_is_one_event_with_the_count_and_the_filter_names(api, account):
    CallFactory.create_batch(3, account=account)
    response = api.get("/api/v1/calls/", {"caller": CALLER, "status": "answered", "page_size": 2})
    assert response.status_code == 200
    [event] = reads(account)
    key = ApiKey.objects.get(account=account)
    assert (event.actor_kind, event.api_key, event.actor_label) == (
        "api_key",
        key,
        f"{key.prefix}… (admin)",
    )
    assert (event.action, event.resource, event.object_id) == ("read", "calls", "")
    assert (event.method, event.path, event.ip) == ("GET", "/api/v1/calls/", "127.0.0.1")
    assert event.detail == {"count": 2, "filters": ["caller", "status"]}
    assert no_personal_data(event)


def test_a_call_detail_and_its_context_name_the_call(api, account):
    call = CallFactory(account=account)
    assert api.get(f"/api/v1/calls/{call.pk}/").status_code == 200
    assert api.get(f"/api/v1/calls/{call.pk}/context/").status_code == 200
    assert [(e.resource, e.object_id, e.detail) for e in reads(account)] == [
        ("calls", str(call.pk), {"count": 1, "filters": []}),
        ("call_context", str(call.pk), {"count": 1, "filters": []}),
    ]


def test_outcomes_sessions_and_conversions_reads_are_audited(api, account):
    OutcomeFactory.create_batch(2, account=account, caller_e164=CALLER, email="a@example.com")
    SessionFactory(account=account)
    ConversionFactory(destination__account=account)
    for path in ["/api/v1/outcomes/", "/api/v1/sessions/", "/api/v1/conversions/"]:
        assert api.get(path).status_code == 200
    found = [(e.resource, e.detail["count"]) for e in reads(account)]
    assert found == [("outcomes", 2), ("sessions", 1), ("conversions", 1)]
    assert all(no_personal_data(event) for event in AuditEvent.objects.all())


def test_a_refused_or_missing_read_records_nothing(api, api_for, account, other_account):
    theirs = CallFactory(account=other_account)
    assert api.get(f"/api/v1/calls/{theirs.pk}/").status_code == 404
    assert api.get("/api/v1/calls/", {"start": "yesterday"}).status_code == 400
    assert api_for(account, Role.INTEGRATION).get("/api/v1/reports/roi/").status_code == 403
    assert reads(account) == []
    assert reads(other_account) == []


def test_the_finance_export_is_an_export_event_counting_its_rows(api_for, account):
    client = api_for(account, Role.FINANCE)
    params = {"start": "2026-01-01", "end": "2026-01-31", "format": "csv"}
    response = client.get("/api/v1/reports/cost-per-call/", params)
    assert response.status_code == 200
    [event] = reads(account)
    rows = len(response.content.decode().splitlines()) - 2  # the header and the Total line
    assert (event.action, event.resource) == ("export", "cost_per_call")
    assert event.detail == {"count": rows, "filters": ["end", "format", "start"]}


def test_roi_aggregates_are_not_audited(api_for, account):
    response = api_for(account, Role.REPORTING).get(
        "/api/v1/reports/roi/", {"start": "2026-01-01", "end": "2026-01-31"}
    )
    assert response.status_code == 200
    assert reads(account) == []


def test_list_reads_cost_one_insert_however_many_rows(api, account):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/api/v1/calls/").status_code == 200
        return len(captured.captured_queries)

    CallFactory(account=account)
    queries()  # the key's first use records its last use
    one = queries()
    CallFactory.create_batch(20, account=account)
    assert queries() == one
    assert len(reads(account)) == 3


def test_an_account_patch_names_the_changed_fields_never_the_token(api, account):
    response = api.patch(
        "/api/v1/account/", {"name": "Alice Plumbing", "twilio_auth_token": "tok-s3cret"}
    )
    assert response.status_code == 200
    [event] = events(account, resource="account")
    assert (event.action, event.actor_kind, event.object_id) == (
        "update",
        "api_key",
        str(account.pk),
    )
    assert event.detail == {"fields": ["twilio_auth_token"]}  # the name did not change
    assert (event.method, event.path) == ("PATCH", "/api/v1/account/")
    assert "tok-s3cret" not in json.dumps([e.detail for e in AuditEvent.objects.all()])


def test_a_rejected_settings_change_writes_no_event(api, account):
    response = api.patch("/api/v1/account/", {"time_zone": "Mars/Base"})
    assert response.status_code == 400
    assert events(account, resource="account") == []


def test_destination_writes_name_credential_keys_only(api, account):
    body = {
        "name": "CRM",
        "kind": "webhook",
        "config": {"url": "https://crm.example.com/hook"},
        "credentials": {"secret": "whsec-one"},
    }
    created = api.post("/api/v1/destinations/", body)
    assert created.status_code == 201
    pk = created.json()["id"]
    patch = {"credentials": {"secret": "whsec-two"}, "enabled": False}
    assert api.patch(f"/api/v1/destinations/{pk}/", patch).status_code == 200
    assert api.delete(f"/api/v1/destinations/{pk}/").status_code == 204
    found = [(e.action, e.object_id, e.detail) for e in events(account, resource="destinations")]
    assert found == [
        (
            "create",
            str(pk),
            {"fields": ["config", "kind", "name"], "kind": "webhook", "credentials": ["secret"]},
        ),
        ("update", str(pk), {"fields": ["enabled"], "kind": "webhook", "credentials": ["secret"]}),
        ("delete", str(pk), {"kind": "webhook"}),
    ]
    assert "whsec" not in json.dumps([e.detail for e in AuditEvent.objects.all()])


def test_pool_settings_and_crm_stage_changes_are_audited(api, account):
    pool = PoolFactory(campaign__account=account)
    response = api.patch(f"/api/v1/pools/{pool.pk}/", {"idle_timeout_seconds": 900})
    assert response.status_code == 200
    mapping = api.post(
        "/api/v1/crm-stages/", {"crm": "hubspot", "crm_stage": "appt", "stage": "qualified"}
    )
    assert mapping.status_code == 201
    assert api.delete(f"/api/v1/crm-stages/{mapping.json()['id']}/").status_code == 204
    found = [
        (e.resource, e.action, e.detail)
        for e in events(account, method__in=["PATCH", "POST", "DELETE"])
    ]
    assert found == [
        ("pools", "update", {"fields": ["idle_timeout_seconds"]}),
        ("crm_stages", "create", {"fields": ["crm", "crm_stage", "stage"], "crm": "hubspot"}),
        ("crm_stages", "delete", {}),
    ]


def test_keys_issued_by_command_and_revoked_are_audited_as_the_system(account):
    call_command("createapikey", str(account.pk), "--role", "reporting", stdout=StringIO())
    key = ApiKey.objects.get(account=account)
    assert services.revoke_api_keys(keys=[key, key]) == 1
    assert services.revoke_api_keys(keys=[key]) == 0  # already revoked: no second event
    found = [
        (e.actor_kind, e.action, e.object_id, e.detail)
        for e in events(account, resource="api_keys")
    ]
    assert found == [
        ("system", "create", str(key.pk), {"role": "reporting", "prefix": key.prefix}),
        ("system", "update", str(key.pk), {"fields": ["revoked_at"], "prefix": key.prefix}),
    ]


def test_the_audit_log_api_lists_the_accounts_events_and_filters(api_for, account, other_account):
    AuditEventFactory(account=other_account, resource="calls", action="read")
    client = api_for(account)  # writes its own "create api_keys" event
    AuditEventFactory(account=account, resource="calls", action="read")
    assert api_for(account, Role.REPORTING).get("/api/v1/audit-events/").status_code == 403
    body = client.get("/api/v1/audit-events/").json()
    assert [(r["action"], r["resource"], r["actor_kind"]) for r in body["results"]] == [
        ("create", "api_keys", "system"),  # the reporting key's issue, newest first
        ("read", "calls", "system"),
        ("create", "api_keys", "system"),
    ]
    filtered = client.get("/api/v1/audit-events/", {"resource": "calls", "action": "read"})
    assert [r["resource"] for r in filtered.json()["results"]] == ["calls"]
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/audit-events/", {"start": tomorrow}).json()["results"] == []
    # Reading the trail is not itself audited: still the three events.
    assert len(events(account)) == 3


@pytest.mark.parametrize("role", [Role.INTEGRATION, Role.FINANCE])
def test_non_admin_keys_may_not_read_the_audit_log(api_for, account, role):
    assert api_for(account, role).get("/api/v1/audit-events/").status_code == 403
