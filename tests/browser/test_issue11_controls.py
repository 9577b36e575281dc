"""Issue 11's control findings, driven in Chromium as a person would: click an edge to
edit its weight (at 1440×900 and 1920×1080), → steps wherever the focus is, structural
changes while playing rebuild and keep playing, a data set brings its own default
layers, and the page scales up on a projector and keeps play/step at hand on a phone.
Screenshots go to tests/artifacts/issue11-*.png (looked at by a person)."""

import json
import time

import pytest

from tests.browser.test_page import open_page, wait_until
from tests.conftest import ARTIFACTS


def api(page, path: str = ""):
    """The server's view of this page's session (GET /api/sessions/<id><path>)."""
    sid = page.evaluate("document.getElementById('session-id').value")
    assert sid, "the page has no session yet"
    return page.evaluate("url => fetch(url).then(r => r.json())", f"/api/sessions/{sid}{path}")


def wait_for_session(page) -> None:
    wait_until(page, "document.getElementById('session-id').value !== ''")


def step_count(page) -> int:
    return int(page.locator("#step").inner_text().replace(",", "").strip())


def steppers(page) -> list[int]:
    """The units each +/− stepper under the diagram says its hidden layer has."""
    return [int(t) for t in page.locator("#field-layers .unit-count").all_inner_texts()]


def layers_in_url(page) -> list[int]:
    return page.evaluate("""(() => {
        const v = new URLSearchParams(location.search).get('layers');
        return v === null ? null : v.split(',').filter(Boolean).map(Number);
    })()""")


def point_on_an_edge(page) -> dict:
    """A point on screen where a real click lands on an edge of the diagram: a point along
    one edge's hit path that the browser hit-tests to that very edge (a crossing edge or
    a unit drawn on top would take the click instead)."""
    spot = page.evaluate("""(() => {
        const paths = [...document.querySelectorAll('#diagram path[data-kind=edge]')];
        for (const t of [0.3, 0.7, 0.2, 0.8, 0.4, 0.6]) {
            for (const p of paths) {
                const at = p.getPointAtLength(p.getTotalLength() * t);
                const m = p.getScreenCTM();
                const x = m.a * at.x + m.c * at.y + m.e, y = m.b * at.x + m.d * at.y + m.f;
                if (y < 0 || y > innerHeight || x < 0 || x > innerWidth) continue;
                const hit = document.elementFromPoint(x, y)?.closest('[data-kind]');
                if (hit === p) return {x, y, l: +p.dataset.layer, i: +p.dataset.to, j: +p.dataset.from};
            }
        }
        return null;
    })()""")
    assert spot, "no point of any edge takes a click"
    return spot


def open_weight_editor(page) -> dict:
    """Click an edge with the mouse and get to the weight editor the way a user can: the
    click opens it, or (the maths panel on screen) focuses the maths, whose visible
    "Edit this weight…" button opens it."""
    spot = point_on_an_edge(page)
    page.mouse.click(spot["x"], spot["y"])
    dialog = page.locator("#weight-dialog")
    try:
        dialog.wait_for(state="visible", timeout=2000)
    except Exception:
        edit = page.locator("#mx-edit")
        assert edit.is_visible(), "clicking an edge neither opened the editor nor offered 'Edit this weight…'"
        box = edit.bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= page.viewport_size["height"], \
            "the 'Edit this weight…' button is off screen: the click seemed to do nothing"
        edit.click()
        dialog.wait_for(state="visible", timeout=2000)
    assert json.loads(page.evaluate("document.getElementById('weight-dialog').dataset.edge")) == \
        {"layer": spot["l"], "to": spot["i"], "from": spot["j"]}, "the editor is for another edge"
    return spot


def peek_maths_panel(page, by: int = 120) -> None:
    """Scroll so that the top `by` px of the maths panel peek in at the bottom of the
    window, the diagram's edges still on screen above it (where the click used to be
    swallowed: the panel counted as "on screen")."""
    top = page.evaluate("document.getElementById('pn-maths').getBoundingClientRect().top + scrollY")
    page.evaluate(f"window.scrollTo(0, {top - page.viewport_size['height'] + by})")
    wait_until(page, "document.querySelector('#mx-blocks .pn-mx-block') !== null", 15)   # drawn once in view
    time.sleep(0.2)
    r = page.evaluate("(() => { const r = document.getElementById('pn-maths').getBoundingClientRect();"
                      " return [r.top, r.bottom]; })()")
    assert r[0] < page.viewport_size["height"] < r[1], r


@pytest.mark.parametrize("width, height", [(1440, 900), (1920, 1080)])
@pytest.mark.parametrize("where", ["top", "maths-peeking"])
def test_clicking_an_edge_edits_its_weight_and_an_empty_value_changes_nothing(page, live_server, width, height, where):
    page.set_viewport_size({"width": width, "height": height})
    open_page(page, live_server)
    wait_for_session(page)
    page.wait_for_selector("#loss-chart text.tick")   # the page is fully built (charts and panels)
    if where == "maths-peeking":
        peek_maths_panel(page)
    spot = open_weight_editor(page)
    l, i, j = spot["l"], spot["i"], spot["j"]
    before = api(page, "/params")["weights"][l][i][j]
    value = 0.777 if abs(before - 0.777) > 1e-9 else -0.555
    which = page.locator("#weight-which").inner_text()     # it says which weight it edits
    assert f"from unit {j + 1} of layer {l + 1} to unit {i + 1} of layer {l + 2}" in which, which
    shown = page.locator("#weight-value").input_value()
    assert abs(float(shown) - before) <= 1e-6 * abs(before), (shown, before)   # it starts from w (as the frame has it)
    # "Set" on the value as shown keeps w exactly (not rounded to the frame's float32).
    page.locator("#weight-form button[value=ok]").click()
    page.locator("#weight-dialog").wait_for(state="hidden")
    time.sleep(0.2)
    assert api(page, "/params")["weights"][l][i][j] == before
    open_weight_editor(page)
    page.locator("#weight-value").fill(str(value))
    page.screenshot(path=str(ARTIFACTS / f"issue11-weight-editor-{width}-{where}.png"))
    if where == "top":
        page.locator("#weight-form button[value=ok]").click()
    else:
        page.locator("#weight-value").press("Enter")      # Enter sets it too (not Cancel)
    page.locator("#weight-dialog").wait_for(state="hidden")
    wait_until(page, f"fetch('/api/sessions/' + document.getElementById('session-id').value + '/params')"
                     f".then(r => r.json()).then(p => p.weights[{l}][{i}][{j}] === {value})", 3)

    # An empty value: a message in the editor, which stays open, and the weight stays.
    open_weight_editor(page)
    page.locator("#weight-value").fill("")
    page.locator("#weight-form button[value=ok]").click()
    wait_until(page, "document.getElementById('weight-error').textContent.trim().length > 0")
    message = page.locator("#weight-error").inner_text()
    assert "number" in message and "null" not in message, message
    assert page.locator("#weight-dialog").is_visible()
    page.screenshot(path=str(ARTIFACTS / f"issue11-weight-empty-{width}-{where}.png"))
    assert api(page, "/params")["weights"][l][i][j] == value
    # Not a number either: a message, nothing set.
    page.locator("#weight-value").fill("abc")
    page.locator("#weight-form button[value=ok]").click()
    wait_until(page, "document.getElementById('weight-error').textContent.includes('abc')")
    assert page.locator("#weight-dialog").is_visible()
    assert api(page, "/params")["weights"][l][i][j] == value
    page.locator("#weight-form button[value=cancel]").click()
    page.locator("#weight-dialog").wait_for(state="hidden")
    assert api(page, "/params")["weights"][l][i][j] == value
    assert [e for e in page.errors if "status of 400" not in e] == []


def test_arrow_right_steps_from_the_step_button_and_from_a_select(page, live_server):
    """README: → steps. main.js: wherever the focus is, except where it moves a caret or a
    slider; a focused select does not change (→ would otherwise cycle its options)."""
    open_page(page, live_server)
    wait_for_session(page)
    assert step_count(page) == 0
    page.locator("#btn-step").focus()
    page.keyboard.press("ArrowRight")
    wait_until(page, "document.getElementById('step').textContent.trim() === '1'")
    time.sleep(0.3)
    assert step_count(page) == 1                        # one press, one step
    assert page.evaluate("document.activeElement.id") == "btn-step"

    page.locator("#step-unit").focus()
    page.keyboard.press("ArrowRight")
    wait_until(page, "document.getElementById('step').textContent.trim() === '2'")
    assert page.locator("#step-unit").input_value() == "batch"   # the select did not change

    page.locator("#input-activation").focus()            # a setting's select too
    page.keyboard.press("ArrowRight")
    wait_until(page, "document.getElementById('step').textContent.trim() === '3'")
    assert page.locator("#input-activation").input_value() == "tanh"
    assert api(page)["config"]["activation"] == "tanh"
    assert api(page)["step"] == 3

    # Where → moves a caret it is the caret's: typing in the learning rate does not step.
    page.locator("#input-learning_rate").focus()
    page.keyboard.press("ArrowRight")
    time.sleep(0.4)
    assert step_count(page) == 3
    page.screenshot(path=str(ARTIFACTS / "issue11-arrow-step.png"))
    assert page.errors == []


def assert_keeps_running(page, what: str) -> None:
    """Still running after `what`: on the page and on the server, the steppers show the
    server's layers, and the step count rises (after the rebuild)."""
    for _ in range(5):
        assert page.evaluate("document.body.dataset.status") == "running", f"stopped after {what}"
        time.sleep(0.1)
    summary = api(page)
    assert summary["status"] == "running", f"the server stopped after {what}"
    layers = json.dumps(summary["config"]["layers"], separators=(",", ":"))
    wait_until(page, "JSON.stringify([...document.querySelectorAll('#field-layers .unit-count')]"
                     f".map(e => +e.textContent)) === '{layers}'")
    first = step_count(page)
    wait_until(page, f"+document.getElementById('step').textContent.replace(/,/g, '') > {first}")
    assert page.evaluate("document.body.dataset.status") == "running"


def test_structural_changes_while_playing_rebuild_and_keep_playing(page, live_server):
    open_page(page, live_server, "seed=1&speed=10")
    wait_for_session(page)
    page.locator("#btn-play").click()
    wait_until(page, "document.body.dataset.status === 'running'")
    wait_until(page, "+document.getElementById('step').textContent.replace(/,/g, '') > 2")

    page.get_by_role("button", name="Add a hidden layer").click()
    wait_until(page, "location.search.includes('layers=4%2C2%2C2')")
    assert_keeps_running(page, "adding a layer")
    assert steppers(page) == [4, 2, 2]
    assert api(page)["config"]["layers"] == [4, 2, 2]

    page.get_by_role("button", name="Add a unit to hidden layer 3").click()
    wait_until(page, "location.search.includes('layers=4%2C2%2C3')")
    assert_keeps_running(page, "adding a unit")
    assert steppers(page) == [4, 2, 3]

    page.select_option("#input-dataset", "xor")
    wait_until(page, "location.search.includes('dataset=xor')")
    assert_keeps_running(page, "choosing the xor data set")
    assert steppers(page) == [4, 2, 3]                   # chosen layers stay

    page.locator("#field-features input[type=checkbox]:not(:checked)").first.check()
    wait_until(page, "location.search.includes('features=')")
    assert_keeps_running(page, "adding an input feature")
    features = api(page)["config"]["features"]
    shown = page.eval_on_selector_all("#field-features input[type=checkbox]:checked", "els => els.map(e => e.value)")
    assert sorted(shown) == sorted(features)

    page.locator("#input-noise").fill("20")
    page.locator("#input-noise").press("Enter")
    wait_until(page, "location.search.includes('noise=20')")
    assert_keeps_running(page, "changing the noise")

    page.select_option("#input-init", "glorot")
    wait_until(page, "location.search.includes('init=glorot')")
    assert_keeps_running(page, "changing the initialization")

    # A data set whose network is another shape: the steppers follow it, the 2-D-only
    # checkboxes are greyed out, and it keeps playing.
    page.select_option("#input-dataset", "iris")
    wait_until(page, "location.search.includes('dataset=iris')")
    assert_keeps_running(page, "choosing Iris")
    assert steppers(page) == api(page)["config"]["layers"]
    assert page.locator("#field-features input[type=checkbox]:not([disabled])").count() == 0
    wait_until(page, f"document.querySelectorAll('#diagram [data-kind=node]').length === {sum(api(page)['sizes'])}")
    page.screenshot(path=str(ARTIFACTS / "issue11-playing-after-changes.png"))
    page.locator("#btn-play").click()
    wait_until(page, "document.body.dataset.status === 'paused'")
    assert [e for e in page.errors if "status of 400" not in e] == []


def test_digits_brings_25_hidden_units_unless_the_user_chose_layers(page, live_server):
    open_page(page, live_server)
    wait_for_session(page)
    page.select_option("#input-dataset", "digits")
    wait_until(page, "location.search.includes('dataset=digits')")
    wait_until(page, "new URLSearchParams(location.search).get('layers') === '25'")
    assert layers_in_url(page) == [25]
    wait_until(page, "document.querySelectorAll('#field-layers .unit-count').length === 1")
    assert steppers(page) == [25]
    assert api(page)["config"]["layers"] == [25]
    assert page.locator("#input-layers").input_value() == "25"
    page.screenshot(path=str(ARTIFACTS / "issue11-digits-default-layers.png"))
    # back to a 2-D data set: its own default again, as nobody chose layers
    page.select_option("#input-dataset", "circle")
    wait_until(page, "new URLSearchParams(location.search).get('layers') === '4,2'")
    wait_until(page, "document.querySelectorAll('#field-layers .unit-count').length === 2")
    assert steppers(page) == [4, 2]

    # The user's own layers are kept when the data set changes.
    page.get_by_role("button", name="Add a unit to hidden layer 1").click()
    wait_until(page, "new URLSearchParams(location.search).get('layers') === '5,2'")
    page.select_option("#input-dataset", "digits")
    wait_until(page, "location.search.includes('dataset=digits')")
    time.sleep(0.3)
    assert layers_in_url(page) == [5, 2]
    assert steppers(page) == [5, 2]
    assert api(page)["config"]["layers"] == [5, 2]
    assert page.errors == []


def test_projector_scales_up_and_the_phone_keeps_play_and_step_at_hand(page, live_server):
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_page(page, live_server)
    page.wait_for_selector("#boundary-chart circle.pt-train")
    sizes = page.eval_on_selector_all(
        "#diagram svg text", "els => els.filter(e => e.getClientRects().length && e.textContent.trim())"
        ".map(e => [e.textContent.trim(), parseFloat(getComputedStyle(e).fontSize)])")
    assert sizes, "the diagram has no labels"
    small = [s for s in sizes if s[1] < 14]
    assert not small, f"labels under 14 px at 1920×1080: {small[:5]}"
    width = page.locator("#boundary-chart").bounding_box()["width"]
    assert width >= 300, width
    # the plotting square itself (it was ~210 px), not only the chart's box
    plot = page.locator("#boundary-chart rect.plot-area").bounding_box()
    assert plot["width"] >= 300 and plot["height"] >= 300, plot
    ticks = page.eval_on_selector_all("#boundary-chart text.tick",
                                      "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert ticks and min(ticks) >= 14, ticks               # the chart's labels scale up too (11 px before)
    page.screenshot(path=str(ARTIFACTS / "issue11-projector-1920.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#diagram [data-kind=node]")
    page.wait_for_selector("#boundary-chart circle.pt-train")
    page.locator("#boundary-chart").scroll_into_view_if_needed()
    page.mouse.wheel(0, 300)
    time.sleep(0.3)
    chart = page.locator("#boundary-chart").bounding_box()
    assert chart["y"] < 844 and chart["y"] + chart["height"] > 0, "the charts are not on screen"
    assert page.evaluate("scrollY") > 300
    for sel in ("#btn-play", "#btn-step"):
        box = page.locator(sel).bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= 844 and 0 <= box["x"] and box["x"] + box["width"] <= 390, \
            (sel, box)
        # on top: a tap there reaches the button, not a chart under it
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        assert page.evaluate(f"document.elementFromPoint({cx}, {cy})?.closest('button')?.id") == sel[1:]
    page.screenshot(path=str(ARTIFACTS / "issue11-phone-charts.png"))
    page.locator("#btn-step").click()
    wait_until(page, "document.getElementById('step').textContent.trim() === '1'")
    assert page.errors == []
