"""Chart geometry for the dashboard's server-rendered SVG, pure: values in, coordinates out.

The templates draw what these return (`admin/attribution/dashboard/_*.html`), so a chart is
plain markup: no script, no CDN, readable by a test. Geometry is a picture and uses floats;
every number a person reads (a bar's label, a tooltip) is the selector's rounded figure,
passed through as `text`.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

Number = Decimal | Fraction | int | float

WIDTH = 560
ROW = 24  # height of a bar's row
LABEL_WIDTH = 170
VALUE_WIDTH = 80
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the figure as shown ("—" for null: no bar)
    y: float
    x: float
    width: float
    negative: bool
    href: str = ""


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    zero_x: float
    value_x: float


def bars(items: Sequence[tuple[str, Number | None, str, str]]) -> BarChart:
    """Horizontal bars of (label, value, text, href), positive to the right of the zero axis
    and negative to its left; a None value has a row and its text but no bar."""
    values = [float(value) for _, value, _, _ in items if value is not None]
    low, high = min([0.0, *values]), max([0.0, *values])
    if high == low:
        high = low + 1  # all zeros: an axis, no bars
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    scale = plot / (high - low)
    zero_x = LABEL_WIDTH - low * scale
    drawn = []
    for n, (label, value, text, href) in enumerate(items):
        v = 0.0 if value is None else float(value)
        drawn.append(
            Bar(
                label=label,
                text=text,
                y=n * ROW,
                x=round(zero_x + min(v, 0.0) * scale, 1),
                width=round(abs(v) * scale, 1),
                negative=v < 0,
                href=href,
            )
        )
    return BarChart(
        bars=drawn,
        width=WIDTH,
        height=max(len(items), 1) * ROW,
        zero_x=round(zero_x, 1),
        value_x=WIDTH - VALUE_WIDTH + 6,
    )


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # the class that colours it
    points: list[Point]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


@dataclass(frozen=True)
class Tick:
    at: float
    text: str


@dataclass(frozen=True)
class LineChart:
    series: list[Series]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int
    height: int
    left: int
    bottom: float


LINE_HEIGHT = 220
LINE_LEFT = 64  # room for the y axis' labels
LINE_TOP = 10
LINE_BOTTOM = 24  # room for the x axis' labels


def lines(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[tuple[Number, str]]]],
    *,
    max_x_ticks: int = 8,
) -> LineChart:
    """Lines over the same periods: `series` holds (name, css class, [(value, text) per
    label]). The y axis starts at 0 and ends at a round step above the highest value."""
    values = [float(v) for _, _, points in series for v, _ in points]
    step, top = nice_scale(max([0.0, *values]))
    plot_w = WIDTH - LINE_LEFT - 10
    plot_h = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM
    bottom = LINE_TOP + plot_h

    def x_of(i: int) -> float:
        if len(labels) == 1:
            return round(LINE_LEFT + plot_w / 2, 1)
        return round(LINE_LEFT + plot_w * i / (len(labels) - 1), 1)

    def y_of(value: float) -> float:
        return round(bottom - plot_h * value / top, 1)

    drawn = [
        Series(
            name=name,
            css=css,
            points=[
                Point(x_of(i), y_of(float(v)), f"{labels[i]} {name}: {text}")
                for i, (v, text) in enumerate(points)
            ],
        )
        for name, css, points in series
    ]
    every = max(1, math.ceil(len(labels) / max_x_ticks))
    x_ticks = [Tick(x_of(i), label) for i, label in enumerate(labels) if i % every == 0]
    y_ticks = [Tick(y_of(step * k), _plain(step * k)) for k in range(int(round(top / step)) + 1)]
    return LineChart(drawn, x_ticks, y_ticks, WIDTH, LINE_HEIGHT, LINE_LEFT, bottom)


def nice_scale(highest: float, ticks: int = 4) -> tuple[float, float]:
    """A round step (1, 2, 2.5 or 5 × 10^k) and the axis' top (a multiple of it, ≥ highest)."""
    if highest <= 0:
        return 1.0, float(ticks)
    raw = highest / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return step, step * math.ceil(highest / step - 1e-9)


def _plain(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:g}"


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    shade: float  # 0 … 1 of the darkest cell
    title: str


@dataclass(frozen=True)
class HeatMap:
    cells: list[Cell]
    rows: list[Tick]  # weekday labels
    columns: list[Tick]  # hour labels
    width: int
    height: int
    size: int


HEAT_SIZE = 20
HEAT_LEFT = 40
HEAT_TOP = 18


def heat_map(cells: Sequence[dict]) -> HeatMap:
    """The weekday × hour grid from the KPI selector's cells (`shown()` dicts: weekday, hour,
    calls, conversions, conversion_rate), shaded by conversions, darkest the busiest."""
    most = max([0, *(cell["conversions"] for cell in cells)])
    drawn = []
    for cell in cells:
        rate = cell["conversion_rate"]
        rate_text = "—" if rate is None else f"{rate}"
        drawn.append(
            Cell(
                x=HEAT_LEFT + cell["hour"] * HEAT_SIZE,
                y=HEAT_TOP + cell["weekday"] * HEAT_SIZE,
                shade=round(cell["conversions"] / most, 3) if most else 0.0,
                title=(
                    f"{WEEKDAYS[cell['weekday']]} {cell['hour']:02d}:00: {cell['calls']} calls, "
                    f"{cell['conversions']} conversions, conversion rate {rate_text}"
                ),
            )
        )
    rows = [Tick(HEAT_TOP + n * HEAT_SIZE + HEAT_SIZE * 0.7, day) for n, day in enumerate(WEEKDAYS)]
    columns = [
        Tick(HEAT_LEFT + hour * HEAT_SIZE + HEAT_SIZE / 2, f"{hour:02d}")
        for hour in range(0, 24, 3)
    ]
    return HeatMap(
        cells=drawn,
        rows=rows,
        columns=columns,
        width=HEAT_LEFT + 24 * HEAT_SIZE + 4,
        height=HEAT_TOP + 7 * HEAT_SIZE + 4,
        size=HEAT_SIZE - 2,
    )
