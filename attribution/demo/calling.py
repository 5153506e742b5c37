"""Calls to the demo's numbers, attributed the way PRODUCT.md "Attribution of a call" says.

Most calls come from web visitors while their lease is live (exact, or ambiguous on a shared
number); some dial a static number seen on a billboard, on the radio or in the newsletter;
a few dial a pool number after its lease ended (source); and a robocaller or two make bursts
of short calls that the automatic spam rule catches. Pure: builds unsaved Call rows."""

import random
from collections import defaultdict
from datetime import datetime, timedelta

from attribution.demo import timeline
from attribution.demo.catalog import Catalog
from attribution.demo.leases import LeaseBook
from attribution.models import NumberAssignment, VisitorSession
from calls.models import Call, CallStatus, Confidence
from campaigns.models import TrackingNumber

# Callers' area codes: the New York metro and its neighbours, none shared with our numbers.
CALLER_AREA_CODES = (
    *("973", "516", "631", "914", "203", "215", "267", "610", "732", "908"),
    *("845", "860", "570", "484", "551", "862", "856", "609", "302", "410"),
    *("443", "301", "202", "617", "518", "585", "716", "315", "607"),
)
WITHHELD_SHARE = 0.025
# How likely a visitor of each campaign is to pick up the phone: emergencies call.
CALL_INTENT = {"emergency": 3.0, "brand": 2.2, "organic": 1.2, "meta": 1.0, "display": 0.6}
STATIC_SHARES = {"radio": 40, "billboard": 35, "email": 25}
# Morning drive listeners call during and right after the show.
RADIO_HOURS = (*(0.1,) * 6, 3, 6, 7, 6, 4, 3, *(2.5,) * 6, 1.5, 1, 0.6, 0.4, 0.2, 0.1)
STATUSES = (
    CallStatus.ANSWERED,
    CallStatus.MISSED,
    CallStatus.VOICEMAIL,
    CallStatus.ABANDONED,
    CallStatus.BUSY,
)
OPEN_WEIGHTS = (72, 10, 8, 7, 3)
AFTER_HOURS_WEIGHTS = (45, 15, 32, 5, 3)  # one on-call plumber at night
AGENTS = ("Maria Alvarez", "James Chen", "Priya Patel", "Tom O'Brien", "Keisha Brown")
SPAM_WINDOW = timedelta(hours=1)


class Callers:
    """Who calls: one number per visitor (a returning visitor is a repeat caller), repeat
    callers among the rest, and a few withheld caller IDs. Numbers are fictional 555-01xx."""

    def __init__(self, rng: random.Random):
        self._rng = rng
        self._fresh = timeline.fictional_numbers(CALLER_AREA_CODES, taken=set())
        rng.shuffle(self._fresh)
        self._used: list[str] = []
        self._by_visitor: dict[str, tuple[str, str]] = {}

    def of_visitor(self, visitor_id: str) -> tuple[str, str]:
        if visitor_id not in self._by_visitor:
            self._by_visitor[visitor_id] = self.anyone(repeat_share=0.0)
        return self._by_visitor[visitor_id]

    def anyone(self, *, repeat_share: float = 0.2) -> tuple[str, str]:
        """(caller_e164, caller_raw) as the network would report them."""
        if self._rng.random() < WITHHELD_SHARE:
            return "", "anonymous"
        if self._used and (not self._fresh or self._rng.random() < repeat_share):
            number = self._rng.choice(self._used)
        else:
            number = self.fresh()
        return number, number

    def fresh(self, *, regular: bool = True) -> str:
        """A number not seen before; `regular=False` (a robocaller) keeps it out of the repeat
        callers. Past ~2,900 callers the fictional block runs dry and callers repeat."""
        if not self._fresh:
            return self._rng.choice(self._used)
        number = self._fresh.pop()
        if regular:
            self._used.append(number)
        return number


class CallPlanner:
    def __init__(self, *, rng: random.Random, catalog: Catalog, clock, book: LeaseBook):
        self.rng, self.catalog, self.clock, self.book = rng, catalog, clock, book
        self.callers = Callers(rng)
        self.twilio_account_sid = "AC" + timeline.hex_token(rng, 32)

    def plan(self, *, sessions: list[VisitorSession], count: int) -> list[Call]:
        """About `count` calls, oldest first, spam already marked by the automatic rule."""
        spam = [call for _ in range(max(1, round(count / 250))) for call in self.spam_burst()]
        static = [self.static_call() for _ in range(max(1, round(count * 0.17)))]
        late = [self.late_call() for _ in range(max(1, round(count * 0.04)))]
        late = [call for call in late if call is not None]
        # About one missed web call in three is retried, which adds ~5% on top of the sample.
        web = self.session_calls(sessions, round((count - len(spam + static + late)) / 1.05))
        calls = sorted([*web, *static, *late, *spam], key=lambda call: call.started_at)
        mark_auto_spam(calls)
        return calls

    def session_calls(self, sessions: list[VisitorSession], count: int) -> list[Call]:
        """Calls made while the visitor's number is live; a missed call is often retried."""
        cutoff = self.clock.end - timedelta(minutes=10)
        leased = [s for s in sessions if s.pk in self.book.by_session and s.last_seen_at < cutoff]
        weights = [CALL_INTENT[self.catalog.key_of(s.campaign)] for s in leased]
        calls = []
        for session in timeline.weighted_sample(self.rng, leased, weights, max(1, count)):
            lease = self.book.by_session[session.pk]
            visit = (session.last_seen_at - session.started_at).total_seconds()
            at = session.started_at + timedelta(seconds=self.rng.randint(15, round(visit) + 600))
            calls.append(self._web_call(lease, at))
            retry_at = at + timedelta(minutes=self.rng.randint(2, 15))
            retried = calls[-1].status != CallStatus.ANSWERED and self.rng.random() < 0.35
            if retried and retry_at < min(lease.ends_at, self.clock.end):
                calls.append(self._web_call(lease, retry_at))
        return calls

    def static_call(self) -> Call:
        keys = list(STATIC_SHARES)
        key = self.rng.choices(keys, weights=[STATIC_SHARES[k] for k in keys])[0]
        hours = RADIO_HOURS if key == "radio" else timeline.HOUR_WEIGHTS
        at = self.clock.moment(self.rng, self.clock.pick_day(self.rng), hours)
        number = self.catalog.statics[key]
        caller = self.callers.anyone(repeat_share=0.2)
        return self._call(number, at, caller, Confidence.STATIC, campaign=number.campaign)

    def late_call(self) -> Call | None:
        """A visitor calls the number they were shown after its lease ended: no session can
        be named, only the pool's campaign."""
        leases = list(self.book.by_session.values())
        for _ in range(50):
            lease = self.rng.choice(leases)
            at = lease.ends_at + timedelta(minutes=self.rng.randint(30, 4 * 24 * 60))
            if at < self.clock.end and not self.book.covering(lease.number, at):
                caller = self.callers.of_visitor(lease.session.visitor_id)
                campaign = lease.number.campaign
                return self._call(lease.number, at, caller, Confidence.SOURCE, campaign=campaign)
        return None  # a tiny demo with every number busy all the time

    def spam_burst(self) -> list[Call]:
        """3–5 calls of a few seconds from one number within the hour, to a public number."""
        number = self.rng.choice(list(self.catalog.statics.values()))
        robocaller = self.callers.fresh(regular=False)
        at = self.clock.moment(self.rng, self.clock.pick_day(self.rng))
        calls = []
        for _ in range(self.rng.randint(3, 5)):
            call = self._call(number, at, (robocaller, robocaller), Confidence.STATIC)
            call.campaign = number.campaign
            call.status = self.rng.choice((CallStatus.ANSWERED, CallStatus.ABANDONED))
            call.duration_seconds = self.rng.randint(1, 8)
            call.talk_seconds = (
                call.duration_seconds // 2 if call.status == CallStatus.ANSWERED else 0
            )
            call.agent = call.recording_url = ""
            call.transferred = False
            calls.append(call)
            at += timedelta(minutes=self.rng.randint(2, 14))
        return calls

    def _web_call(self, lease: NumberAssignment, at: datetime) -> Call:
        caller = self.callers.of_visitor(lease.session.visitor_id)
        holders = self.book.covering(lease.number, at)
        if len(holders) > 1:
            # A shared number: the call goes to the most recently active holder, whoever rang.
            holder = max(holders, key=lambda a: min(a.session.last_seen_at, at)).session
            return self._call(lease.number, at, caller, Confidence.AMBIGUOUS, session=holder)
        return self._call(lease.number, at, caller, Confidence.EXACT, session=lease.session)

    def _call(self, number: TrackingNumber, at, caller, confidence, *, session=None, campaign=None):
        status, duration, talk, transferred = self._ring(at)
        answered = status == CallStatus.ANSWERED
        recording = f"Accounts/{self.twilio_account_sid}/Recordings/RE{self._hex()}"
        return Call(
            account=self.catalog.account,
            provider="twilio",
            external_id="CA" + self._hex(),
            tracking_number=number,
            tracking_e164=number.e164,
            caller_e164=caller[0],
            caller_raw=caller[1],
            started_at=at,
            duration_seconds=duration,
            talk_seconds=talk,
            status=status,
            recording_url=f"https://api.twilio.com/2010-04-01/{recording}" if answered else "",
            agent=self.rng.choice(AGENTS) if answered else "",
            transferred=transferred,
            session=session,
            campaign=session.campaign if session else campaign,
            keyword=session.keyword if session else None,
            confidence=confidence,
        )

    def _ring(self, at: datetime) -> tuple[str, int, int, bool]:
        """(status, duration, talk seconds, transferred); talk never exceeds the duration."""
        rng = self.rng
        open_hours = 7 <= self.clock.local_hour(at) < 20
        weights = OPEN_WEIGHTS if open_hours else AFTER_HOURS_WEIGHTS
        status = rng.choices(STATUSES, weights=weights)[0]
        if status == CallStatus.ANSWERED:
            talk = round(timeline.lognormal(rng, median=170, sigma=0.8, low=20, high=2700))
            transferred = rng.random() < 0.09
            talk += rng.randint(60, 400) if transferred else 0
            return status, rng.randint(3, 22) + talk, talk, transferred
        # Short unanswered calls stay at 10 s or more so that only the robocallers below trip
        # the spam rule; a busy signal ends at once.
        duration = {
            CallStatus.MISSED: rng.randint(18, 35),
            CallStatus.VOICEMAIL: rng.randint(35, 110),
            CallStatus.ABANDONED: rng.randint(10, 45),
            CallStatus.BUSY: 0,
        }[status]
        return status, duration, 0, False

    def _hex(self) -> str:
        return timeline.hex_token(self.rng, 32)


def mark_auto_spam(calls: list[Call]) -> None:
    """PRODUCT.md "Spam": a call under 10 s from a number that made 3 or more such calls
    within an hour is spam, and so is each of those calls. Withheld callers are never grouped."""
    short = defaultdict(list)
    for call in calls:
        if call.caller_e164 and call.duration_seconds < 10:
            short[call.caller_e164].append(call)
    for group in short.values():
        group.sort(key=lambda call: call.started_at)
        for i, first in enumerate(group):
            window = [c for c in group[i:] if c.started_at - first.started_at <= SPAM_WINDOW]
            if len(window) >= 3:
                for call in window:
                    call.spam, call.spam_reason = True, "auto"
