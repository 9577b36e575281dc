"""The first load: the HTML already shows the network (diagram, heatmaps, numbers) as the
page's own script then draws it, no chart library or KaTeX is fetched, each of the
session's API calls is made once; Plotly comes only with a panel that needs it; the
right column's own charts answer hover and export PNGs."""

import base64
import re
import struct
import urllib.request
import zlib

from tests.browser.test_page import wait_until
from tests.conftest import ARTIFACTS


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes) of the 8-bit RGB, unfiltered PNGs the server writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + size
    raw = zlib.decompress(idat)
    stride = 1 + 3 * width
    rows = [raw[y * stride:(y + 1) * stride] for y in range(height)]
    assert all(r[0] == 0 for r in rows)
    return width, height, [r[1:] for r in rows]


def loaded(page) -> None:
    """The live diagram, both charts and their data are drawn."""
    page.wait_for_selector("#diagram [data-kind=node]")
    page.wait_for_selector("#boundary-chart circle.pt-train", state="attached")
    wait_until(page, "Number(document.querySelector('#loss-chart path.loss-train').dataset.points) >= 1")


def test_first_load_fetches_no_chart_library_nor_katex_and_each_api_call_once(page, live_server):
    urls = []
    page.on("request", lambda r: urls.append(r.url.split("?")[0]))
    page.goto(f"{live_server}/?seed=1")
    loaded(page)
    page.wait_for_timeout(1500)                 # anything lazily loaded after the first draw
    assert not [u for u in urls if "plotly" in u or "katex" in u], urls
    api = [re.sub(r"^.*/api/sessions/[^/]+", "/api/sessions/<id>", u) for u in urls if "/api/sessions/" in u]
    for path in ("/api/sessions/<id>/data", "/api/sessions/<id>/history", "/api/sessions/<id>/projection",
                 "/api/sessions/<id>/events"):
        assert api.count(path) == 1, (path, api)
    assert page.errors == []


def test_the_html_shows_the_network_with_the_heatmaps_the_page_then_draws(page, live_server):
    html = urllib.request.urlopen(f"{live_server}/?seed=1").read().decode()
    images = re.findall(r'<img class="nd-ssr-heat" data-layer="(\d)" data-unit="(\d+)"[^>]*'
                        r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 2 + 4 + 2 + 1          # every unit of 2-4-2-1, inputs and output included
    assert len(re.findall(r"<path d=\"M[^\"]+\" fill=\"none\" stroke=\"#", html)) == 8 + 8 + 2   # every edge
    served = {k: re.search(rf'<output id="{k}">([^<]*)</output>', html).group(1)
              for k in ("epoch", "step", "loss-train", "loss-test", "acc-train", "acc-test")}
    assert served["epoch"] == "0.0" and served["step"] == "0" and re.fullmatch(r"0\.\d{3}", served["loss-train"])

    page.goto(f"{live_server}/?seed=1")
    loaded(page)
    assert page.locator("#diagram .nd-ssr").count() == 0  # replaced by the live diagram
    # The numbers the script writes are the ones the HTML showed (same frame, same format).
    for key, text in served.items():
        assert page.locator(f"#{key}").inner_text() == text, key
    # Each heatmap image is pixel for pixel what the page's diagram paints for that unit.
    pixels = page.evaluate("""() => {
        const out = {};
        const nodes = [...document.querySelectorAll('#diagram [data-kind=node]')];
        const canvases = [...document.querySelectorAll('#diagram canvas.nd-heat')];
        nodes.forEach((n, k) => {
            const c = canvases[k];
            out[n.dataset.layer + '/' + n.dataset.unit] =
                [c.width, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];
        });
        return out;
    }""")
    for layer, unit, data in images:
        width, height, rows = read_png(base64.b64decode(data))
        size, rgba = pixels[f"{layer}/{unit}"]
        assert (width, height) == (size, size) == (16, 16)
        ours = b"".join(rows)
        theirs = bytes(v for k, v in enumerate(rgba) if k % 4 != 3)
        assert ours == theirs, (layer, unit)
    assert page.errors == []


def test_without_script_the_page_still_shows_the_diagram_and_its_numbers(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/?seed=1")
        heat = page.locator("#diagram img.nd-ssr-heat")
        assert heat.count() == 9
        box = heat.nth(2).bounding_box()
        assert box["width"] > 20 and box["height"] > 20
        assert page.evaluate("[...document.querySelectorAll('#diagram img.nd-ssr-heat')]"
                             ".every(i => i.complete && i.naturalWidth === 16)")
        assert re.fullmatch(r"0\.\d{3}", page.locator("#loss-train").inner_text())
        page.screenshot(path=str(ARTIFACTS / "first-load-html-only.png"))
    finally:
        context.close()


def test_plotly_comes_with_the_panel_that_needs_it_and_draws_there(page, live_server):
    urls = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(f"{live_server}/?seed=1")
    loaded(page)
    assert not [u for u in urls if "plotly" in u]
    page.select_option("#step-unit", "epoch")
    for _ in range(3):
        page.locator("#btn-step").click()
        page.wait_for_timeout(300)
    page.wait_for_timeout(1000)
    assert not [u for u in urls if "plotly" in u]        # training alone does not bring it
    page.locator("#tab-flow").click()
    page.locator("#gf-chart").scroll_into_view_if_needed()
    wait_until(page, "document.getElementById('gf-chart').data?.[0]?.x.length >= 2", 20)   # Plotly's chart
    assert [u for u in urls if "plotly" in u]
    assert page.errors == []


def test_charts_answer_hover_and_export_png(page, live_server):
    page.goto(f"{live_server}/?seed=1")
    loaded(page)
    page.wait_for_selector("#boundary-chart .chart-surface:not([hidden])", state="attached")
    area = page.locator("#boundary-chart rect.plot-area").bounding_box()
    page.mouse.move(area["x"] + area["width"] * 0.5, area["y"] + area["height"] * 0.1)
    tip = page.locator("#boundary-chart .chart-tip")
    tip.wait_for(state="visible")
    assert re.search(r"output \d\.\d{3}", tip.inner_text()), tip.inner_text()
    with page.expect_download() as got:
        page.locator("#boundary-chart .chart-png").click()
    png = open(got.value.path(), "rb").read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    plot = page.evaluate("(() => { const p = document.querySelector('#boundary-chart .chart-plot');"
                         " return [p.clientWidth, p.clientHeight]; })()")
    assert list(struct.unpack(">II", png[16:24])) == [2 * plot[0], 2 * plot[1]]   # at twice the size
    # The image holds the surface under the axes: the plot area's middle is coloured, not white.
    chart = page.locator("#boundary-chart .chart-plot").bounding_box()
    x, y = 2 * (area["x"] - chart["x"] + area["width"] / 2), 2 * (area["y"] - chart["y"] + area["height"] / 2)
    rgb = page.evaluate("""async ([b64, x, y]) => {
        const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        return Array.from(g.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3)); }""",
                        [base64.b64encode(png).decode(), x, y])
    assert sum(255 - v for v in rgb) > 30, rgb
    box = page.locator("#loss-chart").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.locator("#loss-chart .chart-tip").wait_for(state="visible")
    assert "train J" in page.locator("#loss-chart .chart-tip").inner_text()
    with page.expect_download() as got:
        page.locator("#loss-chart .chart-png").click()
    assert got.value.suggested_filename == "loss.png"
    assert page.errors == []


def test_the_servers_numbers_and_colours_follow_the_pages_rules(page, live_server):
    """app/web/preview.py writes numbers and colours before any script runs: the same as
    format.js (fmt, the weight scale), value for value."""
    from app.web.preview import WEIGHT_SCALE, fmt

    values = [-0.012345, 1234.5, 0.5, 0, None, float("nan"), -1e-5, 999.96, 0.0012345, 123.456, -7.25e8]
    page.goto(f"{live_server}/static/js/format.js")
    js = page.evaluate("""(vs) => import('/static/js/format.js').then(m =>
        [vs.map(m.fmt), m.WEIGHT_SCALE.css])""", [v if v == v else None for v in values])
    assert [fmt(v) for v in values] == js[0]
    assert ["#{:02x}{:02x}{:02x}".format(*c) for c in WEIGHT_SCALE] == js[1]


def test_a_network_too_big_for_the_html_is_left_to_the_script(page, live_server):
    query = "seed=1&layers=32,32,32,32,32,32"
    html = urllib.request.urlopen(f"{live_server}/?{query}").read().decode()
    assert 'class="nd-ssr"' not in html and "nd-ssr-heat" not in html.split("</style>", 1)[1]
    page.goto(f"{live_server}/?{query}")
    page.wait_for_selector("#diagram [data-kind=node]")
    assert page.locator("#diagram [data-kind=node]").count() == 2 + 6 * 32 + 1
    assert page.errors == []
