"""`python -m bench.simulate`: the attribution-accuracy sweep (see bench/simulate/__init__.py).

    SECRET_KEY=x .venv/bin/python scripts/with_postgres.py --dbname callpath_sim -- \\
        .venv/bin/python -m bench.simulate [--days 2] [--seed 8] [--out bench/results/simulate]

`make simulate` runs exactly that. Each configuration runs on a fresh account of its own.
"""

import argparse
import sys
import time
from pathlib import Path

from bench.simulate import market as markets
from bench.simulate import report, sweep

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "results" / "simulate"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.simulate", description=__doc__)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--visitors-per-day", type=float, default=1000.0)
    parser.add_argument("--call-share", type=float, default=0.10)
    parser.add_argument("--idle", type=int, nargs="+", default=list(sweep.IDLE_MINUTES))
    parser.add_argument("--sizes", type=float, nargs="+", default=list(sweep.SIZE_FACTORS))
    parser.add_argument(
        "--grace", type=int, nargs="+", default=list(sweep.GRACE_MINUTES), help="minutes"
    )
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse(argv)
    sweep.setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    market = markets.Market(
        days=args.days, visitors_per_day=args.visitors_per_day, call_share=args.call_share
    )
    header = [
        f"seed {args.seed}; {line}" if n == 0 else line
        for n, line in enumerate(markets.describe(market))
    ]
    print("Attribution accuracy simulation\n" + "\n".join(f"  {line}" for line in header))
    began = time.perf_counter()

    def progress(row: sweep.Row) -> None:
        print(
            f"  grace {row.grace_minutes:>2} min, idle {row.idle_minutes:>2} min, "
            f"pool {row.size_factor:g}× ({row.numbers} numbers):"
            f" {row.right_session:.2%} right session of {row.calls} calls ({row.seconds:.0f} s)",
            flush=True,
        )

    rows = sweep.sweep(
        market,
        args.seed,
        args.idle,
        args.sizes,
        workers=args.workers,
        graces=args.grace,
        on_row=progress,
    )
    elapsed = time.perf_counter() - began
    header.append(
        f"{len(rows)} configurations in {elapsed:.0f} s; pool sizes from attribution.dni.erlang "
        "at the load attribution.dni.sizing measures (busiest hour × mean lease), per pool"
    )
    print("\n" + report.text_table(rows))
    print("\nWrong joins by cause (calls):\n" + report.causes_table(rows))
    title = "Callpath DNI: calls joined to the right session, by pool size and idle timeout"
    report.write_all(rows, args.out, header=header, title=title)
    print(f"\nwritten to {args.out}/ (results.csv, results.md, accuracy.png) in {elapsed:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
