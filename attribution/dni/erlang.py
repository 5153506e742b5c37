"""Erlang B: how many tracking numbers a pool needs for its traffic. Pure maths, no I/O.

A pool of numbers is a loss system: a session arriving when every number is leased cannot get
one of its own (it shares, and the assignment is flagged overflow). With sessions arriving at
random at rate λ and holding a number for a mean time h, the offered load is A = λ·h erlangs, and
the probability that an arrival finds all n numbers busy is the Erlang B formula

    B(n, A) = (Aⁿ / n!) / Σₖ₌₀ⁿ (Aᵏ / k!)

https://en.wikipedia.org/wiki/Erlang_(unit)#Erlang_B_formula

It holds for any distribution of holding times with that mean (the formula is insensitive to
it), which suits session lengths. The factorials overflow a float past n ≈ 170, so we use the
equivalent recursion, which stays in [0, 1] at every step:

    B(0, A) = 1,    B(n, A) = A·B(n-1, A) / (n + A·B(n-1, A))
"""

import math

# A pool of this many numbers is far past anything we would rent; a load needing more is an
# error upstream (a unit mistake, a runaway bot), not a sizing answer.
MAX_SERVERS = 100_000


class LoadTooLarge(ValueError):
    """No pool of at most MAX_SERVERS numbers meets the target at this load."""


def _check_load(offered_erlangs: float) -> None:
    if not math.isfinite(offered_erlangs) or offered_erlangs < 0:
        raise ValueError(f"Offered load must be a finite number >= 0, not {offered_erlangs!r}.")


def erlang_b(servers: int, offered_erlangs: float) -> float:
    """Blocking probability of `servers` numbers offered `offered_erlangs` erlangs.

    B(0, A) = 1 (with no number every arrival is blocked, even at A = 0); B(n, 0) = 0 for n ≥ 1.
    Raises ValueError for a negative server count or a negative, infinite or NaN load."""
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 0:
        raise ValueError(f"Servers must be an integer >= 0, not {servers!r}.")
    _check_load(offered_erlangs)
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = offered_erlangs * blocking / (n + offered_erlangs * blocking)
    return blocking


def smallest_size(offered_erlangs: float, target: float = 0.01) -> int:
    """The smallest number of servers n ≥ 1 with B(n, A) < `target` (strictly).

    Zero load gives 1, not 0: B(0, A) is 1 whatever the load, and a pool must have a number to
    hand out at all. Runs the recursion once, O(n). Raises ValueError for a bad load or a
    target outside (0, 1], and LoadTooLarge when even MAX_SERVERS numbers would not do."""
    _check_load(offered_erlangs)
    if not 0 < target <= 1:
        raise ValueError(f"Target blocking must be in (0, 1], not {target!r}.")
    blocking = 1.0
    for n in range(1, MAX_SERVERS + 1):
        blocking = offered_erlangs * blocking / (n + offered_erlangs * blocking)
        if blocking < target:
            return n
    raise LoadTooLarge(
        f"{offered_erlangs} erlangs need more than {MAX_SERVERS} numbers for {target:.2%} blocking."
    )
