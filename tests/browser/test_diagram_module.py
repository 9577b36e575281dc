"""Real-browser tests of the diagram and chart modules (static/js/diagram.js, charts.js).

The modules are driven by a static fixture page (tests/browser/fixtures/) that builds
synthetic frames in the format of docs/frames.md; no Flask server is needed. The repo
root is served by a tiny static HTTP server on 127.0.0.1. Screenshots go to
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, free_port

REPO = Path(__file__).resolve().parents[2]
FIXTURE = "/tests/browser/fixtures/diagram_fixture.html"

# Inputs + units of every layer: what a person counts on screen.
SIZES = {
    "default": [2, 4, 2, 1],
    "big": [2, 8, 8, 8, 8, 8, 8, 1],
    "features": [7, 6, 1],
    "widest": [7, 16, 16, 16, 16, 16, 16, 1],
    "logreg": [2, 1],
}


@pytest.fixture(scope="module")
def static_server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + FIXTURE, timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("static server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def _open(browser, base, reduced_motion="no-preference"):
    context = browser.new_context(viewport={"width": 1120, "height": 760}, reduced_motion=reduced_motion)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append("request failed: " + r.url))
    page.goto(base + FIXTURE)
    page.wait_for_function("window.fixture !== undefined")
    return context, page, errors


@pytest.fixture
def page(browser, static_server):
    context, pg, errors = _open(browser, static_server)
    yield pg
    context.close()
    assert errors == [], f"console errors: {errors}"


def show(page, kind="default", **overrides):
    page.evaluate("([k, o]) => window.fixture.setFrame(k, o)", [kind, overrides])
    page.evaluate("() => window.fixture.settle()")


def caption(page) -> str:
    return page.inner_text(".nd-caption-main")


def edge_stroke(page, layer, to, frm) -> str:
    return page.evaluate(
        """([l, i, j]) => {
            const hits = [...document.querySelectorAll(`.nd-hit[data-layer="${l}"]`)];
            const k = hits.findIndex(h => h.dataset.to == i && h.dataset.from == j);
            const edges = document.querySelectorAll(`.nd-edges[data-layer="${l}"] .nd-edge`);
            return edges[k].getAttribute("stroke");
        }""",
        [layer, to, frm],
    )


def rgb_css(value: str) -> tuple[int, ...]:
    """'rgb(1, 2, 3)' → (1, 2, 3)"""
    return tuple(int(v) for v in re.findall(r"\d+", value)[:3])


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def edge_attr(page, layer, index, name):
    """Attribute of the index-th visible edge of a weight layer (row-major: to, from)."""
    return page.evaluate(
        '([l, k, a]) => document.querySelectorAll(`.nd-edges[data-layer="${l}"] .nd-edge`)[k].getAttribute(a)',
        [layer, index, name],
    )


def box_style(page, layer, unit, prop):
    return page.evaluate(
        "([l, i, p]) => getComputedStyle(document.querySelector("
        '`.nd-node[data-layer="${l}"][data-unit="${i}"] .nd-box`))[p]',
        [layer, unit, prop],
    )


def hover_edge(page, layer, to, frm):
    """Move the mouse onto a point of the edge that no other edge covers."""
    point = page.evaluate(
        """([l, i, j]) => {
            const sel = `.nd-hit[data-layer="${l}"][data-to="${i}"][data-from="${j}"]`;
            const hit = document.querySelector(sel);
            const len = hit.getTotalLength();
            const m = hit.getScreenCTM();
            for (let t = 0.5; t > 0.05; t -= 0.05) {
                for (const u of [t, 1 - t]) {
                    const p = hit.getPointAtLength(len * u).matrixTransform(m);
                    if (document.elementFromPoint(p.x, p.y) === hit) return [p.x, p.y];
                }
            }
            return null;
        }""",
        [layer, to, frm],
    )
    assert point, "the edge can be hovered somewhere"
    page.mouse.move(*point)


# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SIZES))
def test_nodes_and_edges_match_the_network(page, kind):
    sizes = SIZES[kind]
    show(page, kind)
    assert page.locator(".nd-node").count() == sum(sizes)
    for layer, n in enumerate(sizes):
        assert page.locator(f'.nd-node[data-layer="{layer}"]').count() == n
    edges = sum(a * b for a, b in zip(sizes, sizes[1:]))
    assert page.locator(".nd-hit[data-kind=edge]").count() == edges
    assert page.locator(".nd-edge").count() == edges
    # every unit of a 2-D problem shows its heatmap
    visible = page.evaluate("() => [...document.querySelectorAll('.nd-heat')].filter(c => !c.hidden).length")
    assert visible == sum(sizes)
    # biases of every non-input unit, the output's too
    assert page.locator(".nd-bias").count() == sum(sizes[1:])


def test_input_labels_use_course_notation(page):
    show(page, "features")
    labels = page.locator('.nd-node[data-layer="0"] .nd-label').all_text_contents()
    assert labels == ["x₁", "x₂", "x₁²", "x₂²", "x₁x₂", "sin x₁", "sin x₂"]
    titles = page.locator(".nd-col-title").all_text_contents()
    assert titles == ["a⁽¹⁾", "a⁽²⁾", "a⁽³⁾"]


def test_heatmap_of_x1_runs_orange_to_blue(page):
    """The input x₁'s heatmap: negative (orange) on the left, positive (blue) on the right."""
    show(page, "default")
    left, right = page.evaluate(
        """() => {
            const cv = document.querySelectorAll('.nd-heat')[0];
            const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
            const px = (x, y) => [...d.slice((y * cv.width + x) * 4, (y * cv.width + x) * 4 + 3)];
            return [px(0, 8), px(cv.width - 1, 8)];
        }"""
    )
    assert left[0] > left[2]  # orange: red above blue
    assert right[2] > right[0]  # blue


def test_edge_colour_follows_the_sign_of_the_weight(page):
    show(page, "default", weight={"l": 0, "i": 1, "j": 0, "value": 0.9})
    r, _, b = rgb(edge_stroke(page, 0, 1, 0))
    assert b > r, "a positive weight is blue"
    wide = edge_attr(page, 0, 2, "stroke-width")
    show(page, "default", weight={"l": 0, "i": 1, "j": 0, "value": -0.9})
    r, _, b = rgb(edge_stroke(page, 0, 1, 0))
    assert r > b, "a negative weight is orange"
    show(page, "default", weight={"l": 0, "i": 1, "j": 0, "value": 0.001})
    thin = edge_attr(page, 0, 2, "stroke-width")
    assert 0.5 <= float(thin) < float(wide) <= 6


def test_hovering_an_edge_shows_live_values(page):
    show(page, "default", weight={"l": 1, "i": 0, "j": 2, "value": -0.012345})
    hover_edge(page, 1, 0, 2)
    tip = page.locator(".diagram-tooltip[role=tooltip]")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert re.search(r"^w\s+−0\.0123$", text, re.M), text
    assert "∂J/∂w" in text and "last ΔW" in text
    # the tooltip keeps updating while training
    show(page, "default", weight={"l": 1, "i": 0, "j": 2, "value": 1234.5})
    assert re.search(r"^w\s+1\.23e3$", tip.inner_text(), re.M)
    # clicking an edge hands its weight to the page (to edit it)
    page.mouse.down()
    page.mouse.up()
    clicks = page.evaluate("() => window.fixture.clicks")
    assert clicks[-1] == {"kind": "edge", "l": 1, "i": 0, "j": 2, "w": 1234.5}


def test_hovering_a_node_shows_z_a_delta(page):
    show(page, "default")
    page.hover('.nd-node[data-layer="2"][data-unit="1"] .nd-box')
    text = page.locator(".diagram-tooltip").inner_text()
    for label in ("z⁽³⁾₂", "a⁽³⁾₂ = g(z)", "δ⁽³⁾₂", "b (bias)"):
        assert label in text
    page.hover('.nd-node[data-layer="0"][data-unit="0"] .nd-box')
    assert "a = x" in page.locator(".diagram-tooltip").inner_text()
    page.click('.nd-node[data-layer="1"][data-unit="3"] .nd-box')
    assert page.evaluate("() => window.fixture.clicks.at(-1)") == {"kind": "node", "l": 1, "i": 3}


def test_phases_highlight_the_right_column(page):
    show(page, "default", cursor={"phase": "forward", "layer": 2}, status="paused")
    active = page.locator(".nd-col.active-layer")
    assert active.count() == 1 and active.get_attribute("data-layer") == "2"
    assert caption(page).startswith("Forward propagation — layer 3 of 4")
    # a⁽⁴⁾ is not computed yet: faded, no activation badge, no δ rings anywhere
    assert page.locator('.nd-col[data-layer="3"].pending').count() == 1
    assert page.locator(".nd-ring:not(.off)").count() == 0

    show(page, "default", cursor={"phase": "backward", "layer": 1}, status="paused")
    assert active.get_attribute("data-layer") == "1"
    assert caption(page).startswith("Backpropagation — δ of layer 2: δ⁽²⁾ = (W⁽²⁾)ᵀδ⁽³⁾")
    assert page.locator('.nd-node[data-layer="1"] .nd-ring:not(.off)').count() == 4
    # edges carrying δ show ∂J/∂W on the purple–green scale
    stroke = edge_attr(page, 1, 0, "stroke")
    assert stroke in page.evaluate("() => import('/static/js/format.js').then(m => m.GRAD_SCALE.css)")

    show(page, "default", cursor={"phase": "cost", "layer": None}, status="paused")
    assert active.get_attribute("data-layer") == "3"
    assert caption(page).startswith("Cost J = ")

    show(page, "default", cursor={"phase": "update", "layer": None}, status="paused")
    assert caption(page).startswith("Gradient descent update")
    assert page.locator(".nd-fx.flash-a, .nd-fx.flash-b").count() == 3

    page.evaluate("() => window.fixture.diagram.setMode('fast')")
    show(page, "default", step=1234, epoch=49.43)
    # fast mode refreshes the caption at most ~20×/s, with a trailing draw for the last frame
    end = time.monotonic() + 2
    while caption(page) != "Training — step 1,234 · epoch 49.4" and time.monotonic() < end:
        time.sleep(0.02)
    assert caption(page) == "Training — step 1,234 · epoch 49.4"


def test_gradients_not_computed_yet_are_not_nan(page):
    """A gradient layer sent as all-null (not computed yet) shows weights, not NaN."""
    page.evaluate(
        """() => {
            const f = window.fixture.buildFrame('default', {cursor: {phase: 'backward', layer: 2}});
            f.grads.W[0] = f.weights[0].map(r => r.map(() => null));
            window.fixture.diagram.render(f);
            return window.fixture.settle();
        }"""
    )
    assert page.locator('.nd-edges[data-layer="0"] .nd-edge.nan').count() == 0
    weight_colours = page.evaluate("() => import('/static/js/format.js').then(m => m.WEIGHT_SCALE.css)")
    assert edge_attr(page, 0, 0, "stroke") in weight_colours
    assert edge_attr(page, 1, 0, "stroke") not in weight_colours


def test_guided_highlight(page):
    show(page, "default")
    page.evaluate("() => window.fixture.diagram.highlight(1)")
    page.evaluate("() => window.fixture.settle()")
    assert page.locator(".nd-col.highlighted-layer").get_attribute("data-layer") == "1"
    page.evaluate("() => window.fixture.diagram.highlight(null)")
    page.evaluate("() => window.fixture.settle()")
    assert page.locator(".nd-col.highlighted-layer").count() == 0


def _no_nan_paint(page):
    bad = page.evaluate(
        """() => [...document.querySelectorAll('.nd-root *')].flatMap(el =>
              ['fill', 'stroke', 'stroke-width', 'd', 'x', 'y'].map(a => el.getAttribute(a))
              .filter(v => v && /nan|undefined|infinity/i.test(v)))"""
    )
    assert bad == []


def test_diverged_frame_shows_the_message_not_nan(page):
    show(page, "default")
    message = "Training diverged: the loss became NaN at step 812. Lower the learning rate."
    show(page, "default", nan=True, status="diverged", message=message)
    overlay = page.locator(".nd-overlay[role=alert]")
    assert overlay.is_visible() and overlay.inner_text() == message
    assert caption(page).startswith("Training diverged")
    _no_nan_paint(page)
    # the first frame of a session can already be diverged
    show(page, "big", nan=True, status="diverged", message=message)
    assert overlay.is_visible()
    _no_nan_paint(page)
    show(page, "default")
    assert not overlay.is_visible()


def test_a_session_that_starts_diverged_is_neutral_grey(page):
    show(page, "big", nan=True, status="diverged", message="Training diverged.")
    fills = page.evaluate("() => [...document.querySelectorAll('.nd-box')].map(b => b.getAttribute('fill'))")
    assert set(fills) == {"#f4f4f4"}
    _no_nan_paint(page)


def test_keyboard_walks_the_units(page):
    show(page, "default")
    page.focus('.nd-node[tabindex="0"]')
    assert (
        page.evaluate("() => document.activeElement.dataset.layer + ':' + document.activeElement.dataset.unit") == "0:0"
    )
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => [document.activeElement.dataset.layer, document.activeElement.dataset.unit]")
    assert focused == ["1", "1"]
    assert "Hidden unit 2 of layer 2" in page.locator(".diagram-tooltip").inner_text()
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.fixture.clicks.at(-1)") == {"kind": "node", "l": 1, "i": 1}
    assert page.locator('.nd-node[tabindex="0"]').count() == 1


def test_a_single_nan_is_grey_dashed_and_says_nan(page):
    show(page, "default", nanUnit={"l": 2, "i": 0}, heatmaps=None)
    node = page.locator('.nd-node[data-layer="2"][data-unit="0"]')
    assert "nan" in node.get_attribute("class")
    assert box_style(page, 2, 0, "strokeDasharray") not in ("", "none")
    assert rgb_css(box_style(page, 2, 0, "stroke")) == (0x9E, 0x9E, 0x9E)
    page.hover('.nd-node[data-layer="2"][data-unit="0"] .nd-box')
    text = page.locator(".diagram-tooltip").inner_text()
    assert re.search(r"^z⁽³⁾₁\s+NaN$", text, re.M), text
    _no_nan_paint(page)


def test_reduced_motion_updates_instantly(browser, static_server):
    context, page, errors = _open(browser, static_server, reduced_motion="reduce")
    try:
        show(page, "default", cursor={"phase": "forward", "layer": 1}, status="paused")
        w = {"l": 0, "i": 1, "j": 0, "value": 0.9}
        show(page, "default", weight=w, cursor={"phase": "forward", "layer": 2})
        r, _, b = rgb(edge_stroke(page, 0, 1, 0))
        assert b > r
        show(page, "default", weight={**w, "value": -0.9}, cursor={"phase": "forward", "layer": 3})
        r, _, b = rgb(edge_stroke(page, 0, 1, 0))
        assert r > b
        motion = page.evaluate(
            """() => {
                const box = getComputedStyle(document.querySelector('.nd-box'));
                const fx = document.querySelector('.nd-fx');
                const heat = getComputedStyle(document.querySelector('.nd-heat'));
                return [box.transitionDuration, getComputedStyle(fx).display, heat.transitionDuration,
                        document.querySelectorAll('.nd-fx.fwd-a, .nd-fx.fwd-b').length];
            }"""
        )
        assert motion == ["0s", "none", "0s", 0]
    finally:
        context.close()
    assert errors == []


def test_renders_are_coalesced_into_animation_frames(page):
    show(page, "big")
    builds = page.evaluate("() => window.fixture.diagram.stats.builds")
    r = page.evaluate("() => window.fixture.loop(300, 'big')")
    print("\n300 frames:", r)
    assert r["renders"] == 300
    assert 1 <= r["draws"] <= r["ticks"]
    assert r["draws"] < r["renders"]
    assert r["builds"] == 0 and page.evaluate("() => window.fixture.diagram.stats.builds") == builds
    # the last frame is what is on screen
    sign = "pos" if r["lastW000"] > 0 else "neg"
    red, _, blue = rgb(edge_stroke(page, 0, 0, 0))
    assert (blue > red) == (sign == "pos")


def test_soak_big_network_reports_frame_rate(page):
    r = page.evaluate("() => window.fixture.soak(1500, 'big')")
    print("\nsoak:", {k: round(v, 2) for k, v in r.items()})
    assert r["draws"] <= r["ticks"] + 1
    assert r["frames"] > r["draws"]


def test_digits_network(page):
    show(page, "digits")
    # the input is one 8×8 image; 25 hidden units; 10 outputs labelled 0–9
    assert page.locator('.nd-node[data-kind="image"]').count() == 1
    assert page.locator(".nd-node").count() == 1 + 25 + 10
    assert page.locator(".nd-hit[data-kind=bundle]").count() == 25
    assert page.locator(".nd-hit[data-kind=edge]").count() == 250
    labels = page.locator('.nd-node[data-layer="2"] .nd-out-label').all_text_contents()
    assert [s.split()[0] for s in labels] == [str(k) for k in range(10)]
    assert page.locator(".nd-out-label.predicted").count() == 1
    assert "predicted" in page.locator(".nd-out-label.predicted").text_content()
    # each first-layer unit shows its 64 weights as an 8×8 image
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('.nd-heat.nd-pixels')]"
        ".filter(c => !c.hidden).map(c => c.width + 'x' + c.height)"
    )
    assert sizes == ["8x8"] * 26
    hover_box = page.locator('.nd-node[data-kind="image"] .nd-box').bounding_box()
    page.mouse.move(hover_box["x"] + hover_box["width"] * 0.5, hover_box["y"] + 3)
    assert "Pixel row 1" in page.locator(".diagram-tooltip").inner_text()


def test_switching_networks_rebuilds_cleanly(page):
    for kind in ("digits", "default", "big", "digits", "logreg", "default"):
        show(page, kind)
    sizes = SIZES["default"]
    assert page.locator(".nd-node").count() == sum(sizes)
    assert page.locator(".nd-heat").count() == sum(sizes)
    visible = page.evaluate("() => [...document.querySelectorAll('.nd-heat')].filter(c => !c.hidden).length")
    assert visible == sum(sizes)
    assert page.locator('.nd-node[tabindex="0"]').count() == 1


def test_logistic_regression_note(page):
    show(page, "logreg")
    assert page.inner_text(".nd-caption-note") == "no hidden layers: this is logistic regression"
    show(page, "default")
    assert page.inner_text(".nd-caption-note") == ""


def test_resize_relayouts(page):
    show(page, "big")
    before = page.locator('.nd-node[data-layer="7"] .nd-box').get_attribute("x")
    page.evaluate("() => { document.getElementById('diagram').style.width = '420px'; }")
    page.wait_for_timeout(100)
    page.evaluate("() => window.fixture.settle()")
    after = page.locator('.nd-node[data-layer="7"] .nd-box').get_attribute("x")
    assert float(after) < float(before)
    width = page.evaluate("() => document.querySelector('.nd-back').getBoundingClientRect().width")
    assert width <= 421
    assert page.locator(".nd-node").count() == sum(SIZES["big"])


def legend(page) -> str:
    return page.inner_text(".nd-legend")


def test_legend_explains_every_symbol_that_is_drawn(page):
    show(page, "default", status="paused")
    text = legend(page)
    assert "activation / weight:" in text and "δ / gradient:" in text
    for symbol in ("dot: a of the focus example", "diamond: bias b", "ring: δ", "square:"):
        assert symbol in text, symbol
    assert "dark flash" not in text, "no flash is drawn outside the update phase"
    assert "NaN" not in text, "no NaN entry while nothing is NaN"
    assert page.locator(".nd-root .nd-legend").count() == 1
    # forward phase: no δ yet, so no ring entry; the edges follow |w|
    show(page, "default", cursor={"phase": "forward", "layer": 1}, status="paused")
    assert "ring: δ" not in legend(page)
    assert "edge width ∝ |w|" in legend(page)
    # backward: the widths follow the gradient, and the legend says so
    show(page, "default", cursor={"phase": "backward", "layer": 2}, status="paused")
    assert "edge width ∝ |∂J/∂w|" in legend(page)
    # the update flashes the edges, and only then does the legend name the flash
    show(page, "default", cursor={"phase": "update", "layer": None}, status="paused")
    assert "dark flash" in legend(page)
    # a NaN is said in words above the diagram, and the legend names the dashed grey
    show(page, "default", nanUnit={"l": 2, "i": 0}, heatmaps=None)
    assert "dashed grey: not a number (NaN)" in legend(page)
    note = page.locator(".nd-nan-note")
    assert note.is_visible() and "1 unit" in note.inner_text()
    # fast mode has no update flash, so no flash entry
    page.evaluate("() => window.fixture.diagram.setMode('fast')")
    show(page, "default")
    assert "dark flash" not in legend(page)
    page.wait_for_selector(".nd-nan-note", state="hidden", timeout=5000)   # hidden once the frame is drawn


def test_fmt_rules(page):
    got = page.evaluate(
        """() => import('/static/js/format.js').then(m =>
              [-0.012345, 1234.5, 0.5, 0, null, NaN, -1e-5, 999.96].map(m.fmt))"""
    )
    assert got == ["−0.0123", "1.23e3", "0.500", "0", "NaN", "NaN", "−1.00e−5", "1.00e3"]


def test_charts(page):
    page.evaluate("() => window.fixture.charts()")
    page.wait_for_selector("#boundary circle.pt-train")
    for t in range(1, 8):
        page.evaluate("(t) => window.fixture.chartPush('default', t)", t)
    page.wait_for_timeout(400)
    state = page.evaluate("() => window.fixture.chartState()")
    assert state["lossPoints"] == 3 + 7
    assert state["heatmapVisible"] and state["heatmapRows"] == 48
    assert page.locator("#loss .chart-png").count() == 1   # PNG export, no other clutter
    page.evaluate("() => window.fixture.chartOptions({showTest: false, discretize: true})")
    assert page.evaluate("() => window.fixture.chartState()")["testVisible"] is False
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator(".charts").screenshot(path=str(ARTIFACTS / "charts.png"))
    # clicking a training point reports its index (the page makes it the focus example)
    k, x, y = page.evaluate("() => window.fixture.isolatedTrainPoint()")
    page.mouse.click(x, y)
    assert page.evaluate("() => window.fixture.clicks.at(-1)") == {"kind": "point", "i": k}
    # thousands of steps: batched, and thinned to at most ~5,000 points
    page.evaluate("() => window.fixture.lossBurst(7000)")
    page.wait_for_timeout(400)
    points = page.evaluate("() => window.fixture.chartState().lossPoints")
    assert 2500 < points <= 5000
    page.evaluate("() => window.fixture.chartPush('default', 9, {nan: true, status: 'diverged'})")
    page.wait_for_function("() => !window.fixture.chartState().heatmapVisible", timeout=3000)
    assert "not a finite number (NaN" in page.evaluate("() => window.fixture.chartState()")["boundaryMessage"]


def assert_units_inside_and_apart(page, name: str) -> None:
    """Every unit of #diagram lies inside it, and no two units overlap (a readable picture)."""
    boxes = page.evaluate(
        "() => [...document.querySelectorAll('#diagram .nd-node .nd-box')].map(b => b.getBoundingClientRect())"
        ".map(r => [r.left, r.top, r.right, r.bottom])"
    )
    frame = page.evaluate("() => { const r = document.getElementById('diagram').getBoundingClientRect();"
                          " return [r.left, r.top, r.right, r.bottom]; }")
    assert boxes
    for left, top, right, bottom in boxes:
        assert frame[0] - 1 <= left and right <= frame[2] + 1 and frame[1] - 1 <= top and bottom <= frame[3] + 1
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap_x = min(a[2], b[2]) - max(a[0], b[0])
            overlap_y = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_x <= 0.5 or overlap_y <= 0.5, (name, a, b)


@pytest.mark.parametrize(
    ("name", "kind", "overrides"),
    [
        (
            "diagram-default-backward",
            "default",
            {"cursor": {"phase": "backward", "layer": 2}, "status": "paused"},
        ),
        ("diagram-big", "big", {"t": 2}),
        ("diagram-digits", "digits", {}),
        ("diagram-features", "features", {}),
        ("diagram-logreg", "logreg", {}),
        ("diagram-widest", "widest", {}),
        (
            "diagram-diverged",
            "default",
            {
                "nan": True,
                "status": "diverged",
                "message": "Training diverged: the loss became NaN at step 812.",
            },
        ),
    ],
)
def test_screenshots(page, name, kind, overrides):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => window.fixture.diagram.setMode('fast')")
    if overrides.get("status") == "diverged":
        show(page, kind)
    show(page, kind, **overrides)
    if kind == "default" and "cursor" in overrides:
        page.evaluate("() => window.fixture.diagram.setMode('phase')")
        page.hover('.nd-node[data-layer="2"][data-unit="1"] .nd-box')
    page.wait_for_timeout(450)  # let transitions finish
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / f"{name}.png"))
    # What the picture must show: every unit inside the diagram, no two units on top of
    # each other, and no "NaN" anywhere (a blown-up network says so in words).
    assert_units_inside_and_apart(page, name)
    shown = page.locator("#diagram").inner_text().replace(overrides.get("message", ""), "")
    assert "NaN" not in shown, shown


def test_screenshot_phone_width(page):
    """Phones (390 px): the diagram comes first and must still be readable."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 800})
    page.evaluate("() => { document.getElementById('diagram').style.width = '366px'; }")
    show(page, "big")
    page.wait_for_timeout(100)
    page.evaluate("() => window.fixture.settle()")
    boxes = page.evaluate(
        "() => [...document.querySelectorAll('.nd-node .nd-box')].map(b => b.getBoundingClientRect())"
        ".map(r => [r.left, r.right])"
    )
    page_width = page.evaluate("() => document.getElementById('diagram').getBoundingClientRect().right")
    assert all(right <= page_width + 1 for _, right in boxes)
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / "diagram-phone.png"))
