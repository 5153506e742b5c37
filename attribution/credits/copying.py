"""Touchpoint rows as COPY text: the touches a selector gathered, every model's shares from
`rules`, streamed into attribution_touchpoint. Used by `services` only.

The shares that repeat are rendered once: those that depend on the number of touches alone,
and the data-driven shares of each campaign path; only time decay is computed per call.
"""

from functools import lru_cache
from itertools import groupby
from operator import itemgetter

from django.db import connection

from attribution.credits import rules, selectors

_COPY = """COPY attribution_touchpoint (account_id, call_id, position, session_id, campaign_id,
    keyword_id, touched_at, last_touch, first_touch, linear, position_based, time_decay,
    data_driven) FROM STDIN"""
_NULL = "\\N"  # NULL in COPY's text format
_FLUSH_BYTES = 1 << 20
_ONE_TOUCH = "\t".join([rules.as_text(rules.UNIT)] * len(rules.MODELS))


@lru_cache(maxsize=256)
def _by_length(n: int) -> tuple[str, ...]:
    """Per touch: last_touch, first_touch, linear and position_based as COPY text."""
    columns = (rules.last_touch(n), rules.first_touch(n), rules.linear(n), rules.position_based(n))
    return tuple("\t".join(map(rules.as_text, shares)) for shares in zip(*columns, strict=True))


class Shares:
    """Each touch's six shares as COPY text, in the column order of _COPY, for one set of
    removal effects."""

    def __init__(self, effects: dict):
        self.data_driven = rules.DataDriven(effects)
        self._paths: dict[tuple, tuple[str, ...]] = {}

    def __call__(self, touches: list[selectors.TouchRow]) -> list[str]:
        n = len(touches)
        if n == 1:
            return [_ONE_TOUCH]
        path = tuple(touch[2] for touch in touches)
        driven = self._paths.get(path)
        if driven is None:
            driven = self._paths[path] = tuple(map(rules.as_text, self.data_driven(path)))
        decay = rules.time_decay([touch[5] for touch in touches])
        return [
            f"{fixed}\t{rules.as_text(units)}\t{share}"
            for fixed, units, share in zip(_by_length(n), decay, driven, strict=True)
        ]


def copy_touchpoints(*, account, rows: list[selectors.TouchRow], shares: Shares) -> int:
    """COPY the touch rows (ordered by call, then position) with their shares, on the
    current connection. Returns the number of rows written."""
    account_id = str(account.pk)
    written = 0
    with connection.cursor() as cursor, cursor.cursor.copy(_COPY) as copy:
        lines: list[str] = []
        size = 0
        for call_id, group in groupby(rows, key=itemgetter(0)):
            touches = list(group)
            for position, (touch, columns) in enumerate(zip(touches, shares(touches), strict=True)):
                _, session_id, campaign_id, keyword_id, touched_at, _ = touch
                line = (
                    f"{account_id}\t{call_id}\t{position}\t{session_id or _NULL}\t"
                    f"{_NULL if campaign_id is None else campaign_id}\t"
                    f"{_NULL if keyword_id is None else keyword_id}\t{touched_at}\t{columns}\n"
                )
                lines.append(line)
                size += len(line)
            written += len(touches)
            if size > _FLUSH_BYTES:
                copy.write("".join(lines))
                lines.clear()
                size = 0
        copy.write("".join(lines))
    return written
