"""Small server-rendered SVG charts (no chart library, no script; printable and readable by
screen readers through their title and the data table printed beside them)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from api.web.fmt import num_fr

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T, PAD_R = 640, 220, 48, 28, 10, 10
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")


@dataclass(frozen=True, slots=True)
class Series:
    """A named line (``values`` per x) with an optional band (``low``, ``high``)."""

    name: str
    values: list[float]
    low: list[float] | None = None
    high: list[float] | None = None


def _scale(top: float):
    top = top if top > 0 else 1.0
    inner_h = HEIGHT - PAD_B - PAD_T

    def y(v: float) -> float:
        return PAD_T + inner_h * (1 - max(v, 0.0) / top)

    return y


def _x(n: int):
    inner_w = WIDTH - PAD_L - PAD_R

    def x(i: int) -> float:
        return PAD_L + (inner_w * i / max(n - 1, 1))

    return x


def _axes(title: str, labels: list[str], top: float, unit: str) -> list[str]:
    y = _scale(top)
    x = _x(len(labels))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{PAD_L}" y1="{y(0):.1f}" x2="{WIDTH - PAD_R}" y2="{y(0):.1f}" '
        'stroke="#4a5560"/>',
    ]
    for frac in (0.5, 1.0):
        v = top * frac
        parts.append(
            f'<line x1="{PAD_L}" y1="{y(v):.1f}" x2="{WIDTH - PAD_R}" y2="{y(v):.1f}" '
            'stroke="#c5ccd3" stroke-dasharray="3 3"/>'
            f'<text x="{PAD_L - 4}" y="{y(v) + 4:.1f}" text-anchor="end">'
            f"{escape(num_fr(v))} {escape(unit)}</text>"
        )
    step = max(1, len(labels) // 8)
    for i in range(0, len(labels), step):
        parts.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(labels[i])}</text>'
        )
    return parts


def line_chart(title: str, labels: list[str], series: list[Series], unit: str = "") -> str:
    """Lines (and bands) over ``labels``; returns the SVG markup."""
    finite = [v for s in series for v in (s.high or s.values) if v == v]
    top = max([*finite, 0.0]) * 1.05
    y, x = _scale(top), _x(len(labels))
    parts = _axes(title, labels, top, unit)
    for k, s in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        if s.low is not None and s.high is not None and s.values:
            upper = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.high) if v == v)
            lower = " ".join(
                f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(s.low))) if v == v
            )
            parts.append(f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.15"/>')
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values) if v == v)
        dash = ' stroke-dasharray="6 3"' if k % 2 else ""
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        parts.append(
            f'<text x="{WIDTH - PAD_R}" y="{PAD_T + 12 + 14 * k}" text-anchor="end" '
            f'fill="{colour}">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    title: str, labels: list[str], series: list[Series], unit: str = "", floor: list[float] = ()
) -> str:
    """Grouped bars per label (one per series), with an optional floor mark per label."""
    top = max([max(s.values or [0]) for s in series] + list(floor) + [0.0]) * 1.1
    y = _scale(top)
    inner_w = WIDTH - PAD_L - PAD_R
    group = inner_w / max(len(labels), 1)
    bar = group * 0.8 / max(len(series), 1)
    parts = _axes(title, [], top, unit)
    for i, label in enumerate(labels):
        left = PAD_L + group * i + group * 0.1
        for k, s in enumerate(series):
            v = s.values[i]
            parts.append(
                f'<rect x="{left + bar * k:.1f}" y="{y(v):.1f}" width="{bar * 0.95:.1f}" '
                f'height="{y(0) - y(v):.1f}" fill="{COLOURS[k % len(COLOURS)]}"/>'
            )
        if floor:
            parts.append(
                f'<line x1="{left:.1f}" x2="{left + group * 0.8:.1f}" y1="{y(floor[i]):.1f}" '
                f'y2="{y(floor[i]):.1f}" stroke="#000" stroke-width="2"/>'
            )
        parts.append(
            f'<text x="{left + group * 0.4:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for k, s in enumerate(series):
        parts.append(
            f'<text x="{WIDTH - PAD_R}" y="{PAD_T + 12 + 14 * k}" text-anchor="end" '
            f'fill="{COLOURS[k % len(COLOURS)]}">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
