"""The outbox in the admin: credentials never shown, merged when typed, counts per destination,
a retry action through the service."""

from django.urls import reverse

from attribution.models import Conversion, Destination
from tests.attribution.conversion_helpers import make_destination
from tests.factories import ConversionFactory


def test_the_change_page_never_shows_credentials(admin_client, account):
    destination = make_destination(account, "meta")
    response = admin_client.get(
        reverse("admin:attribution_destination_change", args=[destination.pk])
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "meta-token" not in page
    assert "access_token" in page  # which keys are set, never their values


def test_typed_credentials_are_merged_into_the_stored_ones(admin_client, account):
    destination = make_destination(account, "meta", rules=[])
    url = reverse("admin:attribution_destination_change", args=[destination.pk])
    form = {
        "account": account.pk,
        "name": destination.name,
        "enabled": "on",
        "base_url": "",
        "config": '{"pixel_id": "1234567890"}',
        "click_window_days": 90,
        "new_credentials": '{"extra": "x"}',
        "rules-TOTAL_FORMS": 0,
        "rules-INITIAL_FORMS": 0,
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    destination.refresh_from_db()
    assert destination.credentials == {"access_token": "meta-token", "extra": "x"}


def test_the_destination_list_counts_rows_by_status(admin_client, account):
    destination = make_destination(account, "webhook", rules=[])
    for status in ["accepted", "accepted", "rejected", "dead"]:
        ConversionFactory(destination=destination, status=status)
    response = admin_client.get(reverse("admin:attribution_destination_changelist"))
    assert response.status_code == 200
    row = response.context["cl"].result_list.get(pk=destination.pk)
    assert (row.n_accepted, row.n_rejected, row.n_dead, row.n_pending) == (2, 1, 1, 0)


def test_the_retry_action_makes_rejected_rows_due_and_reports_refusals(admin_client, account):
    destination = make_destination(account, "webhook", rules=[])
    rejected = ConversionFactory(destination=destination, status="rejected", attempts=3)
    accepted = ConversionFactory(destination=destination, status="accepted")
    response = admin_client.post(
        reverse("admin:attribution_conversion_changelist"),
        {"action": "retry", "_selected_action": [rejected.pk, accepted.pk]},
        follow=True,
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert "Queued 1 conversion(s) again." in messages
    assert any("already accepted" in m for m in messages)
    rejected.refresh_from_db()
    assert (rejected.status, rejected.attempts) == ("pending", 0)
    assert Conversion.objects.get(pk=accepted.pk).status == "accepted"
    assert Destination.objects.count() == 1
