"""`manage.py importcalls`: the CSV backfill (COPY into staging, set-based upsert, attribution
and spam rules) stores exactly what the per-call ingestion path stores."""

import csv
import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from calls import services
from calls.models import Call, SpamReason
from tests.factories import (
    AssignmentFactory,
    BlockedNumberFactory,
    CampaignFactory,
    KeywordFactory,
    PoolFactory,
    PoolNumberFactory,
    SessionFactory,
    StaticNumberFactory,
)

COLUMNS = [
    "provider",
    "external_id",
    "tracking_number",
    "caller_number",
    "started_at",
    "duration_seconds",
    "status",
    "talk_seconds",
    "recording_url",
    "agent",
    "transferred",
]
T = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
STATIC = "+16465550101"
CALLER = "+14155552671"
COMPARED = [
    "status",
    "tracking_number_id",
    "tracking_e164",
    "caller_e164",
    "caller_raw",
    "started_at",
    "duration_seconds",
    "talk_seconds",
    "recording_url",
    "agent",
    "transferred",
    "spam",
    "spam_reason",
    "session_id",
    "campaign_id",
    "keyword_id",
    "confidence",
]


def row(external_id: str, **fields) -> dict:
    return {
        "provider": "legacy",
        "external_id": external_id,
        "tracking_number": STATIC,
        "caller_number": CALLER,
        "started_at": T.isoformat(),
        "duration_seconds": "120",
        "status": "answered",
        **fields,
    }


def write_csv(path, rows: list[dict], columns=COLUMNS):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(account, path, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("importcalls", str(account.pk), str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def static_number(account):
    return StaticNumberFactory(campaign=CampaignFactory(account=account, name="Print"), e164=STATIC)


def test_a_few_thousand_rows_are_imported_with_a_progress_bar(account, static_number, tmp_path):
    rows = [
        row(f"c{i}", caller_number=f"+1415555{i % 9000 + 1000:04d}", duration_seconds="60")
        for i in range(3000)
    ]
    out, err = run(account, write_csv(tmp_path / "calls.csv", rows), "--batch", "1000")
    assert out == (
        f"Imported 3000 call(s) into account {account.pk}: 3000 created, 0 updated, "
        "0 unchanged; 0 invalid row(s) skipped.\n"
    )
    assert "3000/3000" in err
    calls = Call.objects.filter(account=account)
    assert calls.count() == 3000
    assert set(calls.values_list("confidence", "campaign_id").distinct()) == {
        ("static", static_number.campaign_id)
    }


def test_bad_rows_refuse_the_whole_file_and_name_their_lines(account, static_number, tmp_path):
    rows = [
        row("ok"),
        row("bad-caller", caller_number="12ab"),
        row("bad-status", status="hung_up"),
        row("ok"),
        row("too-long", duration_seconds="10", talk_seconds="20"),
        row("bad-number", tracking_number="555"),
    ]
    with pytest.raises(CommandError) as refused:
        run(account, write_csv(tmp_path / "calls.csv", rows))
    assert str(refused.value).splitlines() == [
        f"Nothing imported: 5 invalid row(s) in {tmp_path / 'calls.csv'} "
        "(fix them or pass --skip-invalid).",
        "  line 3: caller_number: '12ab' is not a phone number",
        '  line 4: status: "hung_up" is not a valid choice.',
        "  line 5: external_id: Same provider and external_id as line 2.",
        "  line 6: talk_seconds: Cannot be longer than duration_seconds.",
        "  line 7: tracking_number: '555' is not a valid phone number",
    ]
    assert not Call.objects.exists()


def test_a_row_is_refused_with_the_apis_own_message(api, account, static_number, tmp_path):
    bad = row("x", caller_number="hello", started_at="yesterday")
    response = api.post("/api/v1/calls/", bad)
    with pytest.raises(CommandError) as refused:
        run(account, write_csv(tmp_path / "calls.csv", [bad]))
    api_errors = response.json()["errors"]
    assert "started_at" in api_errors
    expected = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in api_errors.items())
    assert f"line 2: {expected}" in str(refused.value)


def test_skip_invalid_stores_the_good_rows_and_lists_the_others(account, static_number, tmp_path):
    rows = [row("a"), row("b", caller_number="12ab"), row("c")]
    out, err = run(account, write_csv(tmp_path / "calls.csv", rows), "--skip-invalid")
    assert "3 call(s)" not in out
    assert "Imported 2 call(s)" in out
    assert "1 invalid row(s) skipped." in out
    assert "  line 3: caller_number: '12ab' is not a phone number" in err.splitlines()
    assert sorted(Call.objects.values_list("external_id", flat=True)) == ["a", "c"]


def test_the_header_must_name_known_columns_and_a_provider(account, static_number, tmp_path):
    path = write_csv(tmp_path / "calls.csv", [row("a")], columns=[*COLUMNS[1:], "colour"])
    with pytest.raises(CommandError, match=r"line 1: colour: Unknown column.*provider: Missing"):
        run(account, path)
    assert not Call.objects.exists()


def test_provider_option_names_the_provider_of_rows_without_one(account, static_number, tmp_path):
    path = write_csv(tmp_path / "calls.csv", [row("a")], columns=COLUMNS[1:])
    run(account, path, "--provider", "ringba")
    assert list(Call.objects.values_list("provider", "external_id")) == [("ringba", "a")]


def test_a_reimport_changes_nothing(account, static_number, tmp_path):
    path = write_csv(tmp_path / "calls.csv", [row("a"), row("b", status="missed")])
    run(account, path)
    before = {c.external_id: c for c in Call.objects.all()}
    out, _ = run(account, path)
    assert "Imported 2 call(s)" in out
    assert "0 created, 0 updated, 2 unchanged" in out
    for call in Call.objects.all():
        old = before[call.external_id]
        assert [getattr(call, f) for f in [*COMPARED, "updated_at"]] == [
            getattr(old, f) for f in [*COMPARED, "updated_at"]
        ]


def test_a_reimport_never_moves_a_call_backwards(account, static_number, tmp_path):
    first = [
        row("a", status="answered", duration_seconds="300", talk_seconds="250", agent="Ann"),
        row("b", status="ringing", duration_seconds="0"),
    ]
    run(account, write_csv(tmp_path / "1.csv", first))
    later = T + dt.timedelta(minutes=1)
    second = [
        row("a", status="ringing", duration_seconds="0", started_at=later.isoformat()),
        row("b", status="answered", duration_seconds="90", recording_url="https://r.example/b"),
    ]
    out, _ = run(account, write_csv(tmp_path / "2.csv", second))
    assert "0 created, 1 updated, 1 unchanged" in out  # nothing in a's row can move it
    a, b = Call.objects.get(external_id="a"), Call.objects.get(external_id="b")
    assert (a.status, a.started_at, a.duration_seconds, a.talk_seconds, a.agent) == (
        "answered",
        T,
        300,
        250,
        "Ann",
    )
    assert (b.status, b.duration_seconds, b.recording_url) == (
        "answered",
        90,
        "https://r.example/b",
    )


def test_withheld_callers_are_stored_without_a_number_and_their_raw_text(
    account, static_number, tmp_path
):
    raws = ["anonymous", "", "+266696687", "sip:alice@pbx.example", "+1 212 555 000"]
    rows = [row(f"w{i}", caller_number=raw) for i, raw in enumerate(raws)]
    run(account, write_csv(tmp_path / "calls.csv", rows))
    stored = dict(Call.objects.values_list("external_id", "caller_raw"))
    assert stored == {f"w{i}": raw for i, raw in enumerate(raws)}
    assert set(Call.objects.values_list("caller_e164", flat=True)) == {""}
    assert not Call.objects.filter(spam=True).exists()  # a withheld caller alone is not spam


def test_spam_rules_mark_blocklisted_callers_and_bursts(account, static_number, tmp_path):
    BlockedNumberFactory(account=account, e164="+14155550100")
    burst = [
        row(f"s{i}", caller_number="+14155550199", duration_seconds="3", started_at=at.isoformat())
        for i, at in enumerate(T + dt.timedelta(minutes=m) for m in (0, 20, 50, 200))
    ]
    rows = [row("blocked", caller_number="+14155550100"), *burst, row("fine")]
    run(account, write_csv(tmp_path / "calls.csv", rows))
    assert dict(Call.objects.values_list("external_id", "spam_reason")) == {
        "blocked": SpamReason.BLOCKLIST,
        "s0": SpamReason.AUTO,
        "s1": SpamReason.AUTO,
        "s2": SpamReason.AUTO,
        "s3": "",
        "fine": "",
    }


def test_a_reimport_with_real_durations_lifts_the_automatic_marks_that_no_longer_hold(
    account, static_number, tmp_path
):
    # Three calls reported finished with no duration yet look like a burst; the next export
    # carries the real duration of one of them: two short calls are no burst any more.
    at = [(T + dt.timedelta(minutes=m)).isoformat() for m in (0, 20, 50)]
    early = [row(f"s{i}", duration_seconds="0", started_at=a) for i, a in enumerate(at)]
    run(account, write_csv(tmp_path / "early.csv", early))
    assert set(Call.objects.values_list("spam_reason", flat=True)) == {SpamReason.AUTO}
    later = [row("s1", duration_seconds="240", started_at=at[1])]
    run(account, write_csv(tmp_path / "later.csv", later))
    assert dict(Call.objects.values_list("external_id", "spam")) == {
        "s0": False,
        "s1": False,
        "s2": False,
    }
    assert set(Call.objects.values_list("spam_reason", flat=True)) == {""}


def test_a_users_mark_survives_a_reimport(account, static_number, tmp_path):
    at = [(T + dt.timedelta(minutes=m)).isoformat() for m in (0, 20, 50)]
    early = [row(f"s{i}", duration_seconds="0", started_at=a) for i, a in enumerate(at)]
    run(account, write_csv(tmp_path / "early.csv", early))
    services.update_call(account=account, call=Call.objects.get(external_id="s0"), spam=False)
    services.update_call(account=account, call=Call.objects.get(external_id="s2"), spam=True)
    run(account, write_csv(tmp_path / "later.csv", [row("s1", duration_seconds="240",
                                                        started_at=at[1])]))  # fmt: skip
    assert dict(Call.objects.values_list("external_id", "spam_reason")) == {
        "s0": SpamReason.CLEARED,
        "s1": "",
        "s2": SpamReason.USER,
    }


@pytest.fixture
def lease_history(account, other_account):
    """Numbers and leases for every kind of attribution, around T."""
    search = CampaignFactory(account=account, name="Search")
    keyword = KeywordFactory(campaign=search, text="boiler repair")
    pool = PoolFactory(campaign=search)
    hour = dt.timedelta(hours=1)

    def lease(number, *, starts, ends, seen, overflow=False, grace=None, **session):
        visit = SessionFactory(
            account=account, started_at=T + starts, last_seen_at=T + seen, **session
        )
        AssignmentFactory(
            number=number,
            session=visit,
            starts_at=T + starts,
            ends_at=T + ends,
            grace_ends_at=None if grace is None else T + grace,
            overflow=overflow,
        )
        return visit

    exact, shared, tie, bare = (PoolNumberFactory(pool=pool) for _ in range(4))
    lease(exact, starts=-hour, ends=hour, seen=-hour, campaign=search, keyword=keyword)
    lease(shared, starts=-hour, ends=hour, seen=-hour / 2, campaign=search)
    lease(shared, starts=-hour / 3, ends=hour, seen=-hour / 6, overflow=True, keyword=keyword)
    lease(tie, starts=-hour, ends=hour, seen=-hour / 2)  # both last seen at once
    lease(tie, starts=-hour / 2, ends=hour, seen=-hour / 2, overflow=True)
    lease(bare, starts=-hour, ends=hour, seen=-hour)  # a session matched to no campaign
    graced, handed = PoolNumberFactory(pool=pool), PoolNumberFactory(pool=pool)
    # Idle since -1h30, its grace runs to +1h: calls in between are still its.
    lease(graced, starts=-2 * hour, ends=-hour / 2, seen=-2 * hour, grace=hour, campaign=search)
    # Handed to another session at -30 min, which cut the first one's grace short there.
    lease(handed, starts=-2 * hour, ends=-hour, seen=-2 * hour, grace=-hour / 2)
    lease(handed, starts=-hour / 2, ends=hour, seen=-hour / 2, grace=2 * hour, keyword=keyword)
    foreign = StaticNumberFactory(campaign=CampaignFactory(account=other_account))
    return {
        "exact": exact.e164,
        "shared": shared.e164,
        "tie": tie.e164,
        "bare": bare.e164,
        "foreign": foreign.e164,
        "graced": graced.e164,
        "handed": handed.e164,
    }


def attribution_rows(numbers) -> list[dict]:
    hour = dt.timedelta(hours=1)
    at = {"now": T, "early": T - hour * 3 / 4, "start": T - hour, "end": T + hour}
    at["after"] = T + 2 * hour
    cases = [
        ("static", STATIC, "now"),
        ("exact", numbers["exact"], "now"),
        ("lease-start", numbers["exact"], "start"),
        ("lease-end", numbers["exact"], "end"),
        ("after-lease", numbers["exact"], "after"),
        ("overflow", numbers["shared"], "now"),
        ("before-overflow", numbers["shared"], "early"),
        ("tie", numbers["tie"], "now"),
        ("bare", numbers["bare"], "now"),
        ("not-ours", "+16465559876", "now"),
        ("other-account", numbers["foreign"], "now"),
        ("in-grace", numbers["graced"], "now"),
        ("after-grace", numbers["graced"], "after"),
        ("grace-before-handing", numbers["handed"], "early"),
        ("handed-on", numbers["handed"], "now"),
    ]
    return [
        row(name, tracking_number=e164, started_at=at[when].isoformat())
        for name, e164, when in cases
    ]


def test_set_based_attribution_equals_services_attribute(
    account, static_number, lease_history, tmp_path
):
    run(account, write_csv(tmp_path / "calls.csv", attribution_rows(lease_history)))
    calls = Call.objects.filter(account=account).select_related("tracking_number")
    assert dict(calls.values_list("external_id", "confidence")) == {
        "static": "static",
        "exact": "exact",
        "lease-start": "exact",
        "lease-end": "source",
        "after-lease": "source",
        "overflow": "ambiguous",
        "before-overflow": "exact",
        "tie": "ambiguous",
        "bare": "exact",
        "not-ours": "none",
        "other-account": "none",
        "in-grace": "exact",
        "after-grace": "source",
        "grace-before-handing": "exact",
        "handed-on": "exact",
    }
    for call in calls:
        link = services.attribute(number=call.tracking_number, at=call.started_at)
        stored = (call.session_id, call.campaign_id, call.keyword_id, call.confidence)
        assert stored == tuple(vars(link).values()), call.external_id


def test_the_import_stores_what_record_calls_stores(
    account, static_number, lease_history, tmp_path
):
    BlockedNumberFactory(account=account, e164="+14155550100")
    rows = [
        *attribution_rows(lease_history),
        row("blocked", caller_number="+14155550100", status="busy", duration_seconds="0"),
        row("anon", caller_number="restricted", talk_seconds="30", agent="Bo"),
        *(
            row(f"burst{i}", caller_number="+14155550199", duration_seconds="2", status="missed")
            for i in range(3)
        ),
    ]
    run(account, write_csv(tmp_path / "calls.csv", rows))
    serializer_rows = []
    from calls.inputs import CallInputSerializer

    for item in rows:
        data = CallInputSerializer(data={**item, "provider": "api"}, context={"account": account})
        data.is_valid(raise_exception=True)
        serializer_rows.append(services.CallInput(**data.validated_data))
    services.record_calls(account=account, items=serializer_rows)
    imported = {c.external_id: c for c in Call.objects.filter(provider="legacy")}
    recorded = {c.external_id: c for c in Call.objects.filter(provider="api")}
    assert imported.keys() == recorded.keys()
    for external_id, call in imported.items():
        assert [getattr(call, f) for f in COMPARED] == [
            getattr(recorded[external_id], f) for f in COMPARED
        ], external_id


def test_a_file_that_is_not_utf8_csv_is_refused(account, static_number, tmp_path):
    path = write_csv(tmp_path / "calls.csv", [row("a")])
    path.write_bytes(path.read_bytes() + b"legacy,b,\xff\xfe,,2026-03-02,1,answered\n")
    with pytest.raises(CommandError, match="file: Not UTF-8 text: save the CSV as UTF-8."):
        run(account, path)
    assert not Call.objects.exists()


def test_a_row_with_more_cells_than_the_header_is_refused(account, static_number, tmp_path):
    path = write_csv(tmp_path / "calls.csv", [row("a")])
    path.write_text(
        path.read_text() + "legacy,b,+16465550101,,2026-03-02T12:00Z,1,answered,,,,,x\n"
    )
    with pytest.raises(CommandError, match="line 3: row: More cells than the header has columns."):
        run(account, path)


def test_a_reimport_that_moves_a_call_into_a_lease_attributes_it_there(
    account, static_number, lease_history, tmp_path
):
    after, during = T + dt.timedelta(hours=2), T
    moved = {"tracking_number": lease_history["exact"]}
    run(account, write_csv(tmp_path / "1.csv", [row("m", **moved, started_at=after.isoformat())]))
    assert Call.objects.get().confidence == "source"
    out, _ = run(
        account, write_csv(tmp_path / "2.csv", [row("m", **moved, started_at=during.isoformat())])
    )
    assert "0 created, 1 updated" in out
    call = Call.objects.select_related("tracking_number").get()
    link = services.attribute(number=call.tracking_number, at=call.started_at)
    assert (call.started_at, call.confidence) == (during, "exact")
    assert (call.session_id, call.campaign_id, call.keyword_id, call.confidence) == tuple(
        vars(link).values()
    )


def test_error_lines_are_numbered_as_csv_dictreader_numbers_them(account, static_number, tmp_path):
    """Blank lines are no rows and a quoted cell can span lines: numbers as before."""
    rows = [
        row("a"),
        row("b", caller_number="12ab"),
        row("c", agent="two\nlines"),
        row("d", status="hung_up"),
        row("e", agent="x"),
    ]
    path = write_csv(tmp_path / "calls.csv", rows)
    lines = path.read_text().split("\n")
    lines[2:2] = ["", ""]  # two blank lines before b
    lines[-1:-1] = [""]  # and one before the last row
    path.write_text("\n".join(lines))
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        numbered = {line["external_id"]: reader.line_num for line in reader}
    with pytest.raises(CommandError) as refused:
        run(account, path)
    assert str(refused.value).splitlines()[1:] == [
        f"  line {numbered['b']}: caller_number: '12ab' is not a phone number",
        f'  line {numbered["d"]}: status: "hung_up" is not a valid choice.',
    ]
    assert (numbered["b"], numbered["d"]) == (5, 8)


def test_a_reimport_attributes_again_the_calls_it_leaves_unchanged(
    account, static_number, tmp_path
):
    """ON CONFLICT locks the rows it leaves alone too: ATTRIBUTE tells the calls that existed
    from the new ones by that lock, so an unchanged call is still worked out again."""
    pool = PoolFactory(campaign=CampaignFactory(account=account, name="Search"))
    number = PoolNumberFactory(pool=pool)
    path = write_csv(tmp_path / "calls.csv", [row("late", tracking_number=number.e164)])
    run(account, path)
    assert Call.objects.get().confidence == "source"  # no lease covered it (yet)
    visit = SessionFactory(account=account, started_at=T - dt.timedelta(minutes=5))
    AssignmentFactory(number=number, session=visit, starts_at=T - dt.timedelta(minutes=5))
    out, _ = run(account, path)
    assert "0 created, 0 updated, 1 unchanged" in out
    assert Call.objects.values_list("session_id", "confidence").get() == (visit.pk, "exact")
