"""The sweep's figures as a printed table, CSV, markdown and a PNG plot."""

import csv
from pathlib import Path

from bench.simulate.scoring import CAUSES
from bench.simulate.sweep import Row

GOAL = 0.99  # issue 8: share of calls joined to the right session at the recommended size
COLUMNS = (
    "grace",
    "idle timeout",
    "pool (× rec.)",
    "numbers",
    "calls",
    "right session",
    "right campaign",
    "ambiguous",
    "source",
    "exhaustion",
)


def _pct(share: float) -> str:
    return f"{share:.2%}"


def cells(row: Row) -> list[str]:
    return [
        f"{row.grace_minutes} min",
        f"{row.idle_minutes} min",
        f"{row.size_factor:g}×",
        f"{row.numbers} / {row.recommended}",
        str(row.calls),
        _pct(row.right_session),
        _pct(row.right_campaign),
        _pct(row.ambiguous),
        _pct(row.source),
        _pct(row.exhaustion),
    ]


def text_table(rows: list[Row]) -> str:
    body = [list(COLUMNS)] + [cells(row) for row in rows]
    widths = [max(len(line[i]) for line in body) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in body
    )


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---:|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def causes_table(rows: list[Row]) -> str:
    """Wrong joins by cause, in calls, per configuration (markdown)."""
    head = ["grace", "idle timeout", "pool (× rec.)", "wrong", *CAUSES]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for row in rows:
        wrong = sum(row.causes.values())
        counts = [str(row.causes.get(cause, 0)) for cause in CAUSES]
        config = f"{row.grace_minutes} min | {row.idle_minutes} min | {row.size_factor:g}×"
        lines.append(f"| {config} | {wrong} | " + " | ".join(counts) + " |")
    return "\n".join(lines)


def write_csv(rows: list[Row], path: Path) -> None:
    fields = [
        "grace_minutes",
        "idle_minutes",
        "size_factor",
        "numbers",
        "recommended",
        "measured_recommended",
        "calls",
        "right_session",
        "right_campaign",
        "exact",
        "ambiguous",
        "source",
        "exhaustion",
        *CAUSES,
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for row in rows:
            values = [getattr(row, name) for name in fields[: -len(CAUSES)]]
            writer.writerow(
                [f"{v:.6f}" if isinstance(v, float) else v for v in values]
                + [row.causes.get(cause, 0) for cause in CAUSES]
            )


def plot(rows: list[Row], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display, no network: a file only
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    graces = sorted({row.grace_minutes for row in rows})
    for grace, idle in sorted({(row.grace_minutes, row.idle_minutes) for row in rows}):
        mine = sorted(
            (r for r in rows if (r.grace_minutes, r.idle_minutes) == (grace, idle)),
            key=lambda r: r.size_factor,
        )
        factors = [r.size_factor for r in mine]
        label = f"{idle} min idle" + (f", {grace} min grace" if len(graces) > 1 else "")
        style = "o--" if grace == 0 and len(graces) > 1 else "o-"
        left.plot(factors, [100 * r.right_session for r in mine], style, label=label)
        right.plot(factors, [100 * r.exhaustion for r in mine], style, label=label)
    left.axhline(100 * GOAL, color="grey", linestyle="--", linewidth=1, label="goal 99%")
    left.set_ylabel("calls joined to the right session (%)")
    right.set_ylabel("sessions that found the pool exhausted (%)")
    for axis in (left, right):
        axis.set_xscale("log", base=2)
        axis.set_xticks(sorted({row.size_factor for row in rows}))
        axis.get_xaxis().set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g×"))
        axis.set_xlabel("pool size (× Erlang B recommendation)")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def write_all(rows: list[Row], folder: Path, *, header: list[str], title: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(rows, folder / "results.csv")
    notes = "\n".join(f"- {line}" for line in header)
    (folder / "results.md").write_text(
        f"# {title}\n\n{notes}\n\n{markdown_table(rows)}\n\n"
        f"## Wrong joins by cause (calls)\n\n{causes_table(rows)}\n"
    )
    plot(rows, folder / "accuracy.png", title)
