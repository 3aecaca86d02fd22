"""Charts as inline SVG, drawn on the server: no script, no CDN, nothing for the CSP to allow.

Every label is escaped here; numbers are formatted by us. The result is ``Markup`` so the
templates insert it as is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
WIDTH, HEIGHT = 560, 220
LEFT, BOTTOM, TOP = 36, 36, 16


def _svg(label: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> Markup:
    title = escape(label)
    return Markup(
        f'<svg class="chart" role="img" aria-label="{title}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
        + "".join(body)
        + "</svg>"
    )


def _axis(top: float) -> list[str]:
    base = HEIGHT - BOTTOM
    return [
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - 8}" y2="{base}" stroke="#9ca3af"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" font-size="10" fill="#6b7280">{_num(top)}</text>',
        f'<text x="{LEFT - 4}" y="{base}" text-anchor="end" font-size="10" fill="#6b7280">0</text>',
    ]


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def bars(items: Sequence[tuple[str, float]], *, label: str, color: str = PALETTE[0]) -> Markup:
    """One column per item, its value above it and its label below."""
    top = max((value for _, value in items), default=0) or 1
    span = WIDTH - LEFT - 8
    slot = span / max(len(items), 1)
    base, tall = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP
    body = _axis(top)
    for index, (name, value) in enumerate(items):
        x = LEFT + index * slot + slot * 0.15
        h = tall * value / top
        body.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>{escape(name)}: {_num(value)}</title></rect>"
        )
        middle = x + slot * 0.35
        body.append(
            f'<text x="{middle:.1f}" y="{base - h - 3:.1f}" text-anchor="middle" font-size="11">{_num(value)}</text>'
        )
        body.append(
            f'<text x="{middle:.1f}" y="{base + 14}" text-anchor="middle" font-size="10">{escape(name)}</text>'
        )
    return _svg(label, body)


def stacked(columns: Sequence[str], series: Mapping[str, Sequence[int]], *, label: str) -> Markup:
    """Stacked columns (one per day), a colour per series (channel), with a legend."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(columns))]
    top = max(totals, default=0) or 1
    span = WIDTH - LEFT - 8
    slot = span / max(len(columns), 1)
    base, tall = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP
    body = _axis(top)
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    every = max(1, len(columns) // 8)
    for index, column in enumerate(columns):
        x = LEFT + index * slot + slot * 0.1
        y = float(base)
        for name, values in series.items():
            value = values[index]
            if not value:
                continue
            h = tall * value / top
            y -= h
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}" fill="{colors[name]}">'
                f"<title>{escape(column)} {escape(name)}: {value}</title></rect>"
            )
        if index % every == 0:
            body.append(
                f'<text x="{x + slot * 0.4:.1f}" y="{base + 14}" text-anchor="middle" font-size="9">'
                f"{escape(column[5:])}</text>"
            )
    for i, name in enumerate(series):
        lx = LEFT + i * 110
        body.append(f'<rect x="{lx}" y="{HEIGHT - 14}" width="10" height="10" fill="{colors[name]}"/>')
        body.append(f'<text x="{lx + 14}" y="{HEIGHT - 5}" font-size="10">{escape(name)}</text>')
    return _svg(label, body)


def share(part: int, total: int, *, label: str, part_label: str, rest_label: str) -> Markup:
    """One horizontal bar split into ``part`` and the rest of ``total``."""
    width, height = WIDTH, 56
    inner = width - 16
    filled = inner * part / total if total else 0
    percent = 100 * part / total if total else 0
    body = [
        f'<rect x="8" y="8" width="{inner}" height="22" fill="#e5e7eb"/>',
        f'<rect x="8" y="8" width="{filled:.1f}" height="22" fill="{PALETTE[1]}"/>',
        f'<text x="8" y="46" font-size="11">{escape(part_label)}: {part} ({percent:.0f} %)</text>',
        f'<text x="{width - 8}" y="46" font-size="11" text-anchor="end">{escape(rest_label)}: {total - part}</text>',
    ]
    return _svg(label, body, width, height)
