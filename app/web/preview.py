"""The network diagram as the page's HTML first shows it, before any script runs: units
with their heatmaps (small PNG data URIs in <img decoding=sync>, which the first paint
draws, where an SVG <image> would come a frame or more later) and edges coloured and
sized by weight, drawn
from the preview frame the page carries. The page's diagram module (static/js/diagram.js)
replaces it with the live diagram on its first draw, with the same geometry
(diagram-layout.js at the nominal width) and the same colours (format.js, diagram-paint.js),
so that the first paint already shows the network, the heatmaps included.

Formatting and drawing only: every value is the frame's."""

import base64
import binascii
import math
import struct
import zlib

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 420          # the diagram's stage at 1280×800 (diagram.js: baseHeight 420)
IMAGE_INPUTS = 16                 # more inputs than this: the live diagram draws an image instead
MAX_NODE, MIN_NODE, PAD_TOP, PAD_BOTTOM = 40, 11, 46, 12
# Bigger networks are left to the script: their picture would weigh more than the page
# (six layers of 32 units: ~150 KB gzipped) and paint later than the script draws them.
MAX_UNITS, MAX_EDGES = 64, 600


def _scale(neg, mid, pos) -> list[tuple[int, int, int]]:
    """format.js makeScale: 256 colours from neg through mid to pos."""
    out = []
    for k in range(256):
        t = k / 255 * 2 - 1
        a, b, u = (mid, neg, -t) if t < 0 else (mid, pos, t)
        out.append(tuple(math.floor(a[c] + (b[c] - a[c]) * u + 0.5) for c in range(3)))
    return out


WEIGHT_SCALE = _scale((0xF5, 0x93, 0x22), (0xF7, 0xF7, 0xF7), (0x08, 0x77, 0xBD))
PENDING_FILL = "#f4f4f4"


def _index(t: float) -> int:
    """format.js scaleIndex for a finite t."""
    return min(255, max(0, math.floor((t + 1) * 127.5 + 0.5)))


def _css(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _png(width: int, rows: list[bytes]) -> bytes:
    """An RGB PNG of the given rows (3 bytes a pixel)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def _domain(frame: dict, layer: int, r) -> tuple[float, float]:
    """diagram-paint.js Painter.domain: which value is white and which full colour."""
    last = len(frame["sizes"]) - 1
    kind = "input" if layer == 0 else frame.get("output") if layer == last else frame.get("activation")
    if kind in ("sigmoid", "softmax"):
        return 0.5, 0.5
    if kind == "tanh":
        return 0.0, 1.0
    return 0.0, max(abs(r[0]), abs(r[1]), 1e-9)


def heatmap_png(data: str, res: int, r, centre: float, half: float) -> bytes | None:
    """One unit's heatmap (base64 bytes, row 0 = lowest x₂) as the live diagram paints it."""
    try:
        grid = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(grid) < res * res:
        return None
    lut = []
    for q in range(256):
        v = r[0] + (r[1] - r[0]) * q / 255
        lut.append(bytes(WEIGHT_SCALE[_index((v - centre) / half)]))
    rows = [b"".join(lut[q] for q in grid[(res - 1 - y) * res:(res - y) * res]) for y in range(res)]
    return _png(res, rows)


def layout(sizes: list[int], labels_left: float, labels_right: float) -> dict:
    """diagram-layout.js layoutNetwork at the nominal width, zoom 1 (no image mode)."""
    L = len(sizes)
    right = max(80, labels_right + MAX_NODE / 2 + 12)
    left = max(50, labels_left + MAX_NODE / 2 + 12)
    gap_x = (WIDTH - left - right) / max(1, L - 1)
    avail = HEIGHT - PAD_TOP - PAD_BOTTOM
    cols = [{"n": n, "x": left + l * gap_x, "pitch": avail / n, "sub": 1} for l, n in enumerate(sizes)]
    s = MAX_NODE
    for c in cols:
        cs = min(c["pitch"] * 0.72, gap_x * 0.55)
        k = 2
        while k <= 4 and c["pitch"] * 0.72 < 24 and c["n"] > 8:
            sk = min(c["pitch"] * k * 0.72, (gap_x * 0.6 - 5 * (k - 1)) / k)
            if sk > cs + 2:
                cs, c["sub"] = sk, k
            k += 1
        s = min(s, cs)
    s = max(MIN_NODE, math.floor(s))
    gap = 4 if s < 16 else 6
    for c in cols:
        c["nodes"] = [(c["x"] + ((k % c["sub"]) - (c["sub"] - 1) / 2) * (s + gap), PAD_TOP + c["pitch"] * (k + 0.5))
                      for k in range(c["n"])]
    return {"s": s, "cols": cols}


MINUS = "\u2212"


def fmt(x) -> str:
    """format.js fmt: 3 significant figures, a real minus sign, NaN for a missing value."""
    if not _finite(x):
        return "NaN"
    if x == 0:
        return "0"
    sign = MINUS if x < 0 else ""
    mant, exp = f"{abs(x):.2e}".split("e")
    e = int(exp)
    if -3 <= e <= 2:
        return sign + f"{abs(x):.{2 - e}f}"
    return sign + mant + "e" + (MINUS if e < 0 else "") + str(abs(e))


def numbers(frame: dict) -> dict:
    """The counters and losses as main.js writes them, for the first paint."""
    acc = frame.get("accuracy") or {}
    percent = lambda x: f"{100 * x:.1f} %" if _finite(x) else "–"  # noqa: E731
    loss = frame.get("loss") or {}
    return {"epoch": f"{frame['epoch']:.1f}" if _finite(frame.get("epoch")) else "NaN",
            "step": f"{frame['step']:,}" if _finite(frame.get("step")) else "NaN",
            "loss_train": fmt(loss.get("train")), "loss_test": fmt(loss.get("test")),
            "acc_train": percent(acc.get("train")), "acc_test": percent(acc.get("test"))}


def _r1(v: float) -> str:
    return f"{math.floor(v * 10 + 0.5) / 10:g}"


def diagram_svg(frame: dict) -> Markup:
    """The first paint's diagram, or nothing for a network the live diagram draws otherwise."""
    sizes = frame.get("sizes") or []
    edges = sum(a * b for a, b in zip(sizes, sizes[1:]))
    if len(sizes) < 2 or sizes[0] > IMAGE_INPUTS or sum(sizes) > MAX_UNITS or edges > MAX_EDGES:
        return Markup("")
    names = frame.get("feature_names") or []
    left = max([0] + [len(str(n)) * 7.5 for n in names[:sizes[0]]])
    lay = layout(sizes, left, 150 if sizes[-1] > 1 else 80)
    s, cols = lay["s"], lay["cols"]
    weights, biases = frame.get("weights") or [], frame.get("biases") or []
    values = [abs(v) for m in weights for row in m for v in row if _finite(v)]
    values += [abs(v) for b in biases for v in b if _finite(v)]
    scale = max(values + [1e-12])
    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}">']
    images = []
    for l, m in enumerate(weights[:len(cols) - 1]):
        n_from = cols[l]["n"]
        max_w = max(1, min(6, 6 * math.sqrt(64 / max(1, cols[l + 1]["n"] * n_from))))
        for i, (bx, by) in enumerate(cols[l + 1]["nodes"]):
            for j, (ax, ay) in enumerate(cols[l]["nodes"]):
                w = m[i][j] if i < len(m) and j < len(m[i]) else None
                if not _finite(w):
                    continue
                t = w / scale
                width = math.floor((0.5 + (max_w - 0.5) * min(1, abs(t))) * 4 + 0.5) / 4
                x0, x1 = ax + s / 2, bx - s / 2
                c = (x1 - x0) * 0.5
                parts.append(f'<path d="M{_r1(x0)},{_r1(ay)}C{_r1(x0 + c)},{_r1(ay)} {_r1(x1 - c)},{_r1(by)} '
                             f'{_r1(x1)},{_r1(by)}" fill="none" stroke="{_css(WEIGHT_SCALE[_index(t)])}" '
                             f'stroke-width="{width:g}"/>')
    hm = frame.get("heatmaps") or {}
    res, ranges, layers = hm.get("res"), hm.get("range") or [], hm.get("layers") or []
    for l, c in enumerate(cols):
        for i, (x, y) in enumerate(c["nodes"]):
            box = f'x="{_r1(x - s / 2)}" y="{_r1(y - s / 2)}" width="{s}" height="{s}"'
            r = ranges[l] if l < len(ranges) else None
            r = r[i] if r and isinstance(r[0], list) else r
            data = layers[l][i] if l < len(layers) and layers[l] and i < len(layers[l]) else None
            png = None
            if data and res and r and _finite(r[0]) and _finite(r[1]):
                png = heatmap_png(data, res, r, *_domain(frame, l, r))
            if png:
                uri = "data:image/png;base64," + base64.b64encode(png).decode()
                at = (f"left:{100 * (x - s / 2) / WIDTH:.3f}%;top:{100 * (y - s / 2) / HEIGHT:.3f}%;"
                      f"width:{100 * s / WIDTH:.3f}%;height:{100 * s / HEIGHT:.3f}%")
                images.append(f'<img class="nd-ssr-heat" data-layer="{l}" data-unit="{i}" alt="" '
                              f'decoding="sync" elementtiming="heat" style="{at}" src="{uri}">')
            parts.append(f'<rect {box} rx="{round(s / 8)}" fill="{PENDING_FILL}" stroke="#555" stroke-width="1"/>')
        label = f'a<tspan dy="-0.4em" font-size="0.75em">({l + 1})</tspan>'
        parts.append(f'<text x="{_r1(c["x"])}" y="16" text-anchor="middle" font-weight="600">{label}</text>')
    if len(names) >= sizes[0]:
        for (x, y), name in zip(cols[0]["nodes"], names):
            parts.append(f'<text x="{_r1(x - s / 2 - 8)}" y="{_r1(y + 4)}" text-anchor="end">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup(f'<div class="nd-ssr" aria-hidden="true">{"".join(parts)}{"".join(images)}</div>')
