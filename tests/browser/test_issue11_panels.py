"""Issue 11's findings on the timeline, the boundary chart and the panels, driven in
Chromium as the student and the QA pass met them: the timeline's thumb sits at the
present and one click while playing shows the past with the loss curve still drawn; a
3-class plane has three distinct colours, none white; long formulas of a deep net stay
inside the maths panel; the symmetry question opens with the constant-init experiment
and the server's measured accuracies; a δ not computed yet is a dash with words, never
"NaN". Screenshots go to tests/artifacts/issue11-panels-*.png (looked at by a person)."""

import re
import time

import numpy as np

from tests.browser.test_csv import upload
from tests.browser.test_page import open_page, wait_until
from tests.browser.test_panels import fmt3, open_panels
from tests.conftest import ARTIFACTS


def shot(page, name: str, selector: str | None = None) -> None:
    target = page.locator(selector) if selector else page
    target.screenshot(path=str(ARTIFACTS / f"issue11-panels-{name}.png"))


def slider_state(page) -> dict:
    return page.evaluate("""(() => {
        const s = document.getElementById('timeline-slider');
        return {value: Number(s.value), min: Number(s.min), max: Number(s.max),
                label: document.getElementById('timeline-label').textContent};
    })()""")


def loss_points(page) -> dict:
    """What the loss chart draws: points per curve (train J, test J, …) and the length of
    the SVG path of the train curve (0 when the chart went blank)."""
    return page.evaluate("""(() => {
        const paths = [...document.querySelectorAll('#loss-chart path.loss-line')];
        return {points: paths.map(p => Number(p.dataset.points)),
                path: (paths[0].getAttribute('d') || '').length};
    })()""")


# --- 1. the timeline -----------------------------------------------------------------

def test_timeline_thumb_is_at_the_present_one_click_while_playing_shows_the_past(page, live_server):
    open_page(page, live_server, "seed=2&speed=max")
    page.wait_for_selector("#loss-chart text.tick")
    page.select_option("#step-unit", "epoch")
    for _ in range(4):
        page.locator("#btn-step").click()
        page.wait_for_timeout(250)
    wait_until(page, "document.getElementById('step').textContent === '100'")
    wait_until(page, "document.getElementById('timeline-label').textContent === 'live · step 100'")
    # Live: the thumb at the far right of a track that has more than one position.
    s = slider_state(page)
    assert s["max"] > s["min"] and s["value"] == s["max"], s
    shot(page, "timeline-live", ".timeline")

    # Playing: one click a quarter of the way along the track shows the past at once.
    page.get_by_role("button", name="Play").click()
    wait_until(page, "document.body.dataset.status === 'running'")
    time.sleep(1.5)
    live = slider_state(page)
    assert live["label"].startswith("live · step") and live["value"] == live["max"], live
    box = page.locator("#timeline-slider").bounding_box()   # where it is now, while playing
    page.mouse.click(box["x"] + 0.25 * box["width"], box["y"] + box["height"] / 2)
    wait_until(page, "document.body.dataset.viewing === 'true'", 3)
    # Viewing paused the session, and the Play button says so (the past moment's frame
    # was taken while running: its status is not the present's).
    wait_until(page, "document.body.dataset.status === 'paused'", 5)
    time.sleep(0.5)
    assert page.locator("#btn-play").get_attribute("aria-label") == "Play"
    assert page.evaluate("document.body.dataset.status") == "paused"
    wait_until(page, "/^step \\d/.test(document.getElementById('timeline-label').textContent)", 3)
    s = slider_state(page)
    assert "live" not in s["label"], s
    assert s["value"] < s["max"], s                     # the thumb went where it was clicked
    shown = page.locator("#timeline-label").inner_text().removeprefix("step ")
    wait_until(page, f"document.getElementById('step').textContent === {shown!r}")
    assert not page.locator("#timeline-resume").is_disabled()

    # Viewing the past: the loss chart still has its curves (and marks the step shown).
    time.sleep(1.2)                                      # past any pending chart flush
    drawn = loss_points(page)
    assert drawn["points"][0] > 3 and drawn["points"][1] > 3, drawn
    assert drawn["path"] > 20, drawn
    mark = page.evaluate("""(() => { const m = document.querySelector('#loss-chart line.loss-view');
        return [getComputedStyle(m).display, m.dataset.step]; })()""")
    assert mark == ["inline", shown.replace(",", "")], mark   # drawn (a line has no box to be "visible")
    shot(page, "timeline-viewing")
    page.get_by_role("button", name="Back to live").click()
    wait_until(page, "document.body.dataset.viewing === 'false'")
    wait_until(page, "document.getElementById('timeline-label').textContent.startsWith('live')")
    s = slider_state(page)
    assert s["value"] == s["max"], s
    assert page.errors == []


# --- 2. three classes on the plane ----------------------------------------------------

def rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.strip()
    if colour.startswith("#"):
        h = colour[1:]
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return tuple(int(h[k:k + 2], 16) for k in (0, 2, 4))
    m = re.match(r"rgba?\(([^)]*)\)", colour)
    assert m, colour
    return tuple(int(float(v)) for v in m.group(1).split(",")[:3])


def three_blobs_csv(path) -> None:
    rng = np.random.default_rng(5)
    centres = {"low": (-2.0, -1.0), "middle": (0.0, 2.0), "high": (2.5, -1.0)}
    lines = ["x1,x2,kind"]
    for name, (cx, cy) in centres.items():
        for x, y in rng.normal(0, 0.6, size=(40, 2)) + (cx, cy):
            lines.append(f"{x:.4f},{y:.4f},{name}")
    path.write_text("\n".join(lines) + "\n")


def test_three_classes_on_the_plane_have_three_distinct_colours_none_white(page, live_server, tmp_path):
    csv = tmp_path / "three_blobs.csv"
    three_blobs_csv(csv)
    open_page(page, live_server, "seed=3")
    page.wait_for_selector("#boundary-chart circle.pt-train")
    upload(page, csv)
    wait_until(page, "document.getElementById('upload-status').textContent.includes('Training on')")
    wait_until(page, "location.search.includes('dataset=csv')")
    assert page.locator("#boundary-chart").is_visible()   # two inputs: the plane, not a projection
    page.select_option("#step-unit", "epoch")
    for _ in range(5):
        page.locator("#btn-step").click()
        page.wait_for_timeout(200)
    wait_until(page, "Number(document.getElementById('epoch').textContent) >= 5", 10)
    # The train points' colours as drawn, class by class (the class of point i is the
    # session's y[i], from its /data).
    wait_until(page, "document.querySelectorAll('#boundary-chart circle.pt-train').length > 50", 10)
    sid = page.evaluate("document.getElementById('session-id').value")
    ys = page.evaluate("(url) => fetch(url).then(r => r.json()).then(d => d.train.y)", f"/api/sessions/{sid}/data")
    fills = page.eval_on_selector_all("#boundary-chart circle.pt-train",
                                      "els => els.map(e => [Number(e.dataset.i), getComputedStyle(e).fill])")
    by_class = {}
    for i, fill in fills:
        by_class.setdefault(str(ys[i]), set()).add(fill)
    by_class = {c: sorted(s) for c, s in by_class.items()}
    assert sorted(by_class) == ["0", "1", "2"], by_class
    assert all(len(v) == 1 for v in by_class.values()), by_class   # one colour a class
    colours = [rgb(by_class[c][0]) for c in ("0", "1", "2")]
    for c in colours:
        distance_from_white = sum((255 - v) ** 2 for v in c) ** 0.5
        assert distance_from_white > 120, (c, by_class)  # the scale's white middle is ~0
    for a in range(3):
        for b in range(a + 1, 3):
            assert sum((x - y) ** 2 for x, y in zip(colours[a], colours[b])) ** 0.5 > 80, colours
    shot(page, "three-classes", "#boundary-chart")
    assert page.errors == []


# --- 3. long formulas stay inside the maths panel --------------------------------------

def overflowing_formulas(page) -> list:
    """Every typeset formula of the maths panel whose ink (KaTeX's boxes; a display
    formula's own box is as wide as its column whatever it holds) passes the right edge
    of the panel, or of its column, or is scrolled out of sight within its column."""
    return page.evaluate("""(() => {
        const panel = document.getElementById('pn-maths').getBoundingClientRect();
        const out = [];
        for (const k of document.querySelectorAll('#pn-maths .katex')) {
            if (!k.getClientRects().length) continue;
            const host = k.closest('.pn-tex') || k.parentElement;
            const column = host.getBoundingClientRect();
            let right = 0;
            for (const e of k.querySelectorAll('.katex-html *')) {
                const b = e.getBoundingClientRect();
                if (b.width > 0) right = Math.max(right, b.right);
            }
            if (right > panel.right + 0.5 || right > column.right + 0.5 || host.scrollWidth > host.clientWidth + 1)
                out.push({right, panel: panel.right, column: column.right, scroll: host.scrollWidth,
                          width: host.clientWidth,
                          tex: (k.querySelector('annotation')?.textContent || '').slice(0, 80)});
        }
        return out;
    })()""")


def maths_phase_after_step(page, expect: str) -> str:
    """Step one phase (the top bar's button) and bring the maths panel on screen: the
    panels draw only what is on screen."""
    page.locator("#btn-step").click()
    page.locator("#pn-maths").scroll_into_view_if_needed()
    wait_until(page, f"document.getElementById('mx-phase').textContent.includes({expect!r})")
    wait_until(page, "document.querySelectorAll('#pn-maths .katex').length > 0")
    page.wait_for_timeout(200)   # the fitter measures after layout
    return page.locator("#mx-phase").inner_text()


def test_long_formulas_of_a_deep_net_stay_inside_the_maths_panel(page, live_server):
    open_panels(page, live_server, "seed=1&layers=8%2C8%2C8")
    wait_until(page, "document.querySelectorAll('#diagram [data-kind=node]').length === 2 + 24 + 1")
    page.select_option("#step-unit", "phase")
    for layer in (2, 3, 4, 5):
        maths_phase_after_step(page, f"Forward propagation, layer {layer}")
    maths_phase_after_step(page, "Cost")
    for layer in (5, 4, 3, 2):                 # the backward pass: δ sums over 8 units
        phase = maths_phase_after_step(page, f"Backpropagation, layer {layer}")
        assert page.locator("#pn-maths .katex").count() >= 2, phase
        assert overflowing_formulas(page) == [], phase
        if layer == 3:
            shot(page, "maths-deep-backward", "#pn-maths")
            # every unit's formulas, not just unit 1's: an 8-unit layer, the output
            for unit in ("2:7", "4:0", "1:3"):
                page.select_option(".pn-mx-pick select", unit)
                page.wait_for_timeout(300)
                assert overflowing_formulas(page) == [], unit
            # layer 2's δ is not computed yet: its words wrap inside the panel too
            assert "not computed until the backward pass" in page.locator("#pn-maths").inner_text()
            shot(page, "maths-deep-unit-not-computed", "#pn-maths")
            page.select_option(".pn-mx-pick select", "")
    # A phone's narrow column (390 px) at the same moment.
    page.set_viewport_size({"width": 390, "height": 800})
    page.locator("#pn-maths").scroll_into_view_if_needed()
    page.wait_for_timeout(600)
    assert page.locator("#pn-maths .katex").count() >= 2
    assert overflowing_formulas(page) == []
    shot(page, "maths-deep-backward-390", "#pn-maths")
    assert page.errors == []


# --- 4. the symmetry question opens with the constant-init experiment --------------------

def test_symmetry_question_first_shows_the_constant_init_experiment_measured_by_the_server(page, live_server):
    created, stepped = {}, {}

    def record(response):
        url, req = response.url, response.request
        if req.method == "POST" and re.search(r"/api/sessions$", url) and response.status == 201:
            body = response.json()
            created[body["id"]] = body["config"]["init"]
        m = re.search(r"/api/sessions/([^/]+)/step$", url)
        if req.method == "POST" and m and response.ok:
            stepped[m.group(1)] = response.json()

    page.on("response", record)
    open_panels(page, live_server, "seed=1")
    own = page.evaluate("document.getElementById('session-id').value")
    page.locator("#tab-symmetry").click()
    # The first thing the question shows is the experiment, and it runs unasked.
    first = page.evaluate("document.querySelector('#panel-symmetry .pn-card h4').textContent")
    assert "constant start" in first, first
    wait_until(page, "!document.getElementById('sy-demo-table').hidden", 60)
    rows = page.locator("#sy-demo-table tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-init") == "constant"   # constant first, not zeros
    assert rows.nth(1).get_attribute("data-init") == "uniform"
    assert "zeros" not in page.locator("#sy-demo-table").inner_text()
    # The two copies the panel trained are the server's: their /step replies' accuracy.
    copies = {init: stepped[sid] for sid, init in created.items() if sid != own and sid in stepped}
    assert set(copies) == {"constant", "uniform"}, (created, list(stepped))
    for k, init in enumerate(("constant", "uniform")):
        shown = rows.nth(k).locator(".pn-demo-acc").inner_text()
        assert shown == f"{fmt3(100 * copies[init]['accuracy']['train'])} %", (init, shown, copies[init])
        assert rows.nth(k).locator("td").nth(1).inner_text() == shown
        assert rows.nth(k).locator("td").nth(2).inner_text().replace(",", "") == str(copies[init]["step"])
    constant, rand = (copies[i]["accuracy"]["train"] for i in ("constant", "uniform"))
    assert constant < rand, (constant, rand)         # the consequence, measured
    assert "identical" in rows.nth(0).inner_text()
    assert "identical" not in rows.nth(1).inner_text()
    say = page.locator("#sy-demo-say").inner_text()
    assert f"{fmt3(100 * constant)} %" in say and f"{fmt3(100 * rand)} %" in say, say
    assert "straight line" in say
    # …and the student's own session was not touched.
    assert page.locator("#step").inner_text() == "0"
    shot(page, "symmetry-experiment", "#panel-symmetry")
    assert page.errors == []


# --- 5. not computed yet: a dash with words, never NaN ---------------------------------

NOT_YET = "not computed until the backward pass reaches this layer"


def maths_delta_of(page, unit: str, weight: str = "") -> tuple[str, str]:
    """The maths panel focused on a unit ("layer:index") or one of its incoming weights:
    its δ row and its formulas' TeX. (A unit's own block in a forward phase is z and a
    only; a weight's gradient block is where δ appears before the backward pass.)"""
    page.locator("#pn-maths").scroll_into_view_if_needed()
    page.select_option("#mx-unit", unit)
    page.wait_for_timeout(150)
    page.select_option("#mx-weight", weight)
    wait_until(page, "document.querySelector('#mx-blocks [data-term=delta] td') !== null")
    page.wait_for_timeout(200)
    row = page.locator("#mx-blocks [data-term=delta] td").first.inner_text()
    tex = " ".join(page.eval_on_selector_all("#mx-blocks annotation", "els => els.map(e => e.textContent)"))
    return row, tex


def no_nan(page) -> None:
    text = page.locator("body").inner_text()
    k = text.find("NaN")
    assert k < 0, text[max(0, k - 200):k + 100]


def test_delta_before_the_backward_pass_is_a_dash_with_words_never_nan(page, live_server):
    open_panels(page, live_server, "seed=1")
    assert page.locator("#step").inner_text() == "0"
    # Step 0, phase by phase with the stepper (it steps the server's phase cursor).
    stops = ["Forward propagation — layer 2 of 4", "Forward propagation — layer 3 of 4",
             "Forward propagation — layer 4 of 4", "Cost J"]
    for stop in stops:
        page.locator("#st-next").click()
        wait_until(page, f"document.getElementById('st-title').textContent.includes({stop!r})")
        page.wait_for_timeout(300)
        # The stepper at this stop: numbers only for what exists, no NaN.
        assert "NaN" not in page.locator("#st-numbers").inner_text(), stop
        # The maths panel on W⁽¹⁾₁,₁: the δ⁽²⁾₁ it needs is a dash with words, in the
        # table and in the formula.
        row, tex = maths_delta_of(page, "1:0", "0")
        assert row.startswith("–") and NOT_YET in row, (stop, row)
        assert "NaN" not in tex and "not computed until the backward pass" in tex, (stop, tex)
        no_nan(page)
        if stop.startswith("Forward propagation — layer 3"):
            shot(page, "not-computed-forward", "#panels")
            # the diagram's hover says the same
            page.evaluate("window.scrollTo(0, 0)")
            page.locator("#diagram [data-kind=node][data-layer='1'][data-unit='0']").hover(force=True)
            tip = page.locator("#diagram .diagram-tooltip")
            tip.wait_for(state="visible")
            assert re.search(r"δ⁽²⁾₁\s+[–—] not computed until the backward pass", tip.inner_text()), tip.inner_text()
            page.mouse.move(0, 0)
    assert page.locator("#step").inner_text() == "0"
    # The backward pass at the output: δ⁽⁴⁾ is a number in the stepper, δ⁽²⁾ still a dash.
    page.locator("#st-next").click()
    wait_until(page, "document.getElementById('st-title').textContent.includes('δ of layer 4 of 4')")
    page.wait_for_timeout(300)
    cells = page.eval_on_selector_all("#st-numbers td[data-q^=delta-] .pn-num", "els => els.map(e => e.textContent)")
    assert cells and all(re.fullmatch(r"−?\d[\d.]*(e−?\d+)?", c) for c in cells), cells
    row, tex = maths_delta_of(page, "2:0")              # layer 3's unit: its Backward block
    assert row.startswith("–") and NOT_YET in row, row
    assert "not computed until the backward pass" in tex, tex
    # the words wrap inside the maths panel, never cut off at its right edge
    edge = page.evaluate("""(() => {
        const panel = document.getElementById('pn-maths').getBoundingClientRect().right;
        const td = document.querySelector('#mx-blocks [data-term=delta] td').getBoundingClientRect().right;
        return [td, panel];
    })()""")
    assert edge[0] <= edge[1] + 0.5, edge
    row_out, _ = maths_delta_of(page, "3:0")            # the output unit: computed now
    assert re.fullmatch(r"−?\d[\d.]*(e−?\d+)?", row_out), row_out
    page.select_option("#mx-unit", "2:0")
    page.wait_for_timeout(200)
    no_nan(page)
    shot(page, "not-computed-backward", "#panels")
    assert page.errors == []
