"""The explanation panels below the main screen, driven as a student would: walk the
six steps, read the maths for a clicked edge, nudge a unit's z, run gradient checking,
see zeros init keep the units identical, remove every hidden layer, train digits.
Screenshots of every panel go to tests/artifacts/panels-*.png (looked at by a person)."""

import json
import math
import re
import time

import numpy as np
import pytest

from app.engine import THRESHOLD, Network
from tests.browser.test_page import wait_until
from tests.conftest import ARTIFACTS

SMALL_NET = "seed=1&layers=3&activation=sigmoid&init_epsilon=0.12&dataset=xor"


def fmt3(x: float) -> str:
    """format.js's fmt(): 3 significant figures, a real minus sign."""
    if x is None or not math.isfinite(x):
        return "NaN"
    if x == 0:
        return "0"
    sign = "−" if x < 0 else ""
    mant, exp = f"{abs(x):.2e}".split("e")
    exp = int(exp)
    if -3 <= exp <= 2:
        return sign + f"{abs(x):.{2 - exp}f}"
    return sign + mant + "e" + ("−" if exp < 0 else "") + str(abs(exp))


def number(text: str) -> float:
    text = text.strip().replace("−", "-")
    m = re.search(r"-?\d+(\.\d+)?(e-?\d+)?", text)
    assert m, text
    return float(m.group(0))


def open_panels(page, base: str, query: str = "seed=1", tab: str | None = None) -> None:
    page.goto(f"{base}/?{query}")
    page.wait_for_selector("#diagram [data-kind=node]")
    if tab:
        page.locator(f"#tab-{tab}").click()
    page.locator("#panels").scroll_into_view_if_needed()
    # The panels get their first frame once Plotly is there (main.js loads it lazily),
    # and draw only what is on screen.
    wait_until(page, "document.querySelector('#mx-blocks .pn-mx-block') !== null", 15)


def api(page, path: str, method: str = "GET", body=None):
    sid = page.evaluate("document.getElementById('session-id').value")
    opts = {"method": method, "headers": {"Content-Type": "application/json"}}
    if body is not None:
        opts["body"] = json.dumps(body)
    return page.evaluate(
        "([url, opts]) => fetch(url, opts).then(r => r.json())", [f"/api/sessions/{sid}{path}", opts])


def shot(page, name: str, selector: str = "#panels") -> None:
    page.locator(selector).screenshot(path=str(ARTIFACTS / f"panels-{name}.png"))


def step_title(page) -> str:
    return page.locator("#st-title").inner_text()


def click_next(page, expect: str) -> None:
    page.locator("#st-next").click()
    wait_until(page, f"document.getElementById('st-title').textContent.includes({json.dumps(expect)})")


def highlighted(page):
    return page.eval_on_selector_all("#diagram .highlighted-layer", "els => els.map(e => e.dataset.layer)")


def test_stepper_walks_the_six_steps(page, live_server):
    open_panels(page, live_server)
    assert "Step 1 of 6" in step_title(page)
    assert "random" in page.locator("#st-text").inner_text().lower()
    # 2: forward propagation, one layer at a time (default network 2-4-2-1).
    for layer in (2, 3, 4):
        click_next(page, f"Forward propagation — layer {layer} of 4")
        wait_until(page, f"document.querySelector('#diagram .highlighted-layer')?.dataset.layer === '{layer - 1}'")
        # The numbers are the frame's: z and a of that layer for the focus example.
        assert page.locator("#st-numbers td").count() >= 2
    shot(page, "stepper-forward")
    click_next(page, "Step 3 of 6 · Cost J")
    assert "J (average over the training set, m_train = 250)" in page.locator("#st-numbers").inner_text()
    for layer in (4, 3, 2):
        click_next(page, f"Backpropagation — δ of layer {layer} of 4")
        assert highlighted(page) == [str(layer - 1)]
    assert "δ⁽²⁾" in page.locator("#st-numbers").inner_text()
    shot(page, "stepper-backward")
    click_next(page, "Step 5 of 6 · Gradient checking")
    wait_until(page, "document.getElementById('st-numbers').textContent.includes('relative difference')", 15)
    text = page.locator("#st-numbers").inner_text()
    assert "backprop is right" in text, text
    shot(page, "stepper-gradcheck")
    click_next(page, "Step 6 of 6 · Gradient descent")
    wait_until(page, "document.getElementById('step').textContent.trim() === '1'")
    assert "→" in page.locator("#st-numbers").inner_text()  # J before → after
    shot(page, "stepper-descent")
    click_next(page, "Forward propagation — layer 2 of 4")
    # Back: reset to step 1 with the same initial weights.
    page.locator("#st-back").click()
    wait_until(page, "document.getElementById('st-title').textContent.includes('Step 1 of 6')")
    wait_until(page, "document.getElementById('step').textContent.trim() === '0'")
    # Guided mode docks Next at the bottom while the card is scrolled away.
    page.evaluate("window.scrollTo(0, 0)")
    dock = page.locator(".pn-dock")
    dock.wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / "panels-stepper-dock.png"))
    dock.get_by_role("button", name=re.compile("forward propagation")).click()
    wait_until(page, "document.querySelector('.pn-dock-title').textContent.includes('layer 2 of 4')")
    assert page.errors == []


def test_maths_panel_shows_the_selected_edges_numbers(page, live_server):
    open_panels(page, live_server)
    page.locator("#step-unit").select_option("batch")
    page.locator("#btn-step").click()
    wait_until(page, "document.getElementById('step').textContent.trim() === '1'")
    # Click a weight of the second weight layer (hidden 1 → hidden 2) in the diagram,
    # with the maths panel on screen (off screen, a click opens the weight editor).
    page.locator("#pn-maths").scroll_into_view_if_needed()
    edge = page.locator("#diagram [data-kind=edge][data-layer='1']").nth(3)
    l, i, j = (int(edge.get_attribute(a)) for a in ("data-layer", "data-to", "data-from"))
    edge.dispatch_event("click")
    # The maths panel is taller than the window, so the click also opened the editor.
    if page.locator("#weight-dialog").is_visible():
        page.keyboard.press("Escape")
    wait_until(page, "document.querySelector('#mx-blocks [data-term=w]') !== null")
    shown_w = page.locator("#mx-blocks [data-term=w] td").inner_text()
    params = api(page, "/params")
    assert shown_w == fmt3(params["weights"][l][i][j])
    # δ and a of the focus example, recomputed here from the API's weights and data.
    shown = page.evaluate("""(() => {
        const t = (k) => document.querySelector('#mx-blocks [data-term=' + k + '] td').textContent;
        return {delta: t('delta'), a: t('a'), grad: t('grad')};
    })()""")
    summary, data = api(page, ""), api(page, "/data")
    k = summary["focus"]
    net = Network(summary["sizes"], activation="tanh", output="sigmoid", loss="cross_entropy")
    net.weights = [np.array(w) for w in params["weights"]]
    net.biases = [np.array(b) for b in params["biases"]]
    trace = net.trace(np.array([data["train"]["x"][k]]), np.array([[data["train"]["y"][k]]]))
    assert shown["delta"] == fmt3(trace.delta[l + 1][0, i])
    assert shown["a"] == fmt3(trace.a[l][0, j])
    assert shown["grad"] not in ("", "NaN")
    title = page.locator("#mx-blocks .pn-mx-title").first.inner_text()
    assert f"W⁽{l + 1}⁾".translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) in title, title
    assert page.locator("#mx-blocks .katex").count() > 0  # rendered, not TeX source
    shot(page, "maths-edge", "#pn-maths")
    # "Edit this weight…" opens the weight dialog; a new value shows up in the maths.
    page.locator("#mx-edit").click()
    page.locator("#weight-dialog").wait_for(state="visible")
    page.locator("#weight-value").fill("0.4321")
    page.locator("#weight-form button[value=ok]").click()
    wait_until(page, "document.querySelector('#mx-blocks [data-term=w] td').textContent === '0.432'")
    assert api(page, "/params")["weights"][l][i][j] == 0.4321
    # Selecting a unit focuses the formula on its z, a and δ.
    page.locator("#diagram [data-kind=node][data-layer='2'][data-unit='1']").dispatch_event("click")
    wait_until(page, "document.getElementById('mx-blocks').textContent.includes('δ of unit 2 of layer 3')")
    shot(page, "maths-node", "#pn-maths")
    assert page.errors == []


def test_delta_probe_agrees_with_backprop(page, live_server):
    open_panels(page, live_server, tab="delta")
    page.locator("#pr-unit").select_option("1:2")
    page.locator("#pr-go").click()
    wait_until(page, "document.getElementById('pr-delta').textContent !== '–'", 15)
    numerical = page.locator("#pr-num").inner_text()
    delta = page.locator("#pr-delta").inner_text()
    assert numerical == delta, (numerical, delta)
    assert number(page.locator("#pr-diff").inner_text()) < 1e-6
    plus, minus = page.locator("#pr-plus").inner_text(), page.locator("#pr-minus").inner_text()
    assert plus != minus  # enough digits to see J move
    wait_until(page, "document.querySelector('#pr-chart .main-svg') !== null")
    assert "gradient descent will" in page.locator("#pr-say").inner_text()
    shot(page, "delta-probe")
    assert page.errors == []


def big(n: int) -> str:
    """direct.js's count format: whole numbers with separators below 10⁷, else 3 s.f."""
    return f"{n:,}" if n < 1e7 else fmt3(n)


def work_table(page) -> list[list[str]]:
    rows = page.locator("#dr-table tbody tr")
    return [[c.strip() for c in rows.nth(k).inner_text().split("\t")] for k in range(rows.count())]


def test_why_not_directly_sums_the_paths(page, live_server):
    """The card shows the server's paths (GET /paths), not numbers of its own."""
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/paths?" in r.url else None)
    open_panels(page, live_server, "seed=1&layers=4+3+3", tab="direct")
    wait_until(page, "document.getElementById('dr-say').textContent.includes('Both give')")
    assert any("layer=0&to=0&from=0" in url for url in asked), asked
    r = api(page, "/paths?layer=0&to=0&from=0")
    say = page.locator("#dr-say").inner_text()
    assert "rounding" not in say, say
    assert f"Both give {fmt3(r['sum'])}." in say and f"needs {big(r['count'])} path products" in say
    assert r["count"] == 3 * 3 * 1 and r["sum"] == pytest.approx(r["backprop"], rel=1e-9)
    tex = page.locator("#dr-tex annotation").text_content()   # the TeX the card rendered
    for factor in r["shown"][0]["factors"] + r["shown"][2]["factors"]:
        assert fmt3(abs(factor["value"])).split("e")[0] in tex, (factor, tex)
    assert f"{r['count'] - 3}\\text{{ more paths}}" in tex and f"{r['count']}\\text{{ paths}}" in tex
    columns = ("weights", "paths", "direct", "backprop")
    yours, deep = r["work"]
    assert work_table(page) == [
        [f"yours ({'–'.join(map(str, yours['sizes']))})", *(big(yours[k]) for k in columns)],
        [f"6 hidden layers of 16 ({'–'.join(map(str, deep['sizes']))})", *(big(deep[k]) for k in columns)]]
    shot(page, "direct")
    # Another weight, picked in the list: the card asks again and shows that answer.
    page.select_option("#dr-weight", "3:0:1")
    r = api(page, "/paths?layer=3&to=0&from=1")
    wait_until(page, f"document.getElementById('dr-say').textContent.includes('Both give {fmt3(r['sum'])}.')")
    assert r["count"] == 1 and "one path" in page.locator("#dr-say").inner_text()
    assert any("layer=3&to=0&from=1" in url for url in asked), asked
    # Train on, then show step 0 on the timeline: the card shows that moment's paths.
    api(page, "/step", "POST", {"unit": "epoch", "count": 2})
    wait_until(page, "document.getElementById('step').textContent === '50'")
    wait_until(page, f"!document.getElementById('dr-say').textContent.includes('Both give {fmt3(r['sum'])}.')")
    slider = page.locator("#timeline-slider")
    slider.focus()
    wait_until(page, "Number(document.getElementById('timeline-slider').max) >= 1")
    slider.press("Home")
    wait_until(page, "document.getElementById('step').textContent === '0'")
    page.locator("#panel-direct").scroll_into_view_if_needed()
    wait_until(page, f"document.getElementById('dr-say').textContent.includes('Both give {fmt3(r['sum'])}.')")
    assert any("layer=3&to=0&from=1&step=0" in url for url in asked), asked
    assert page.errors == []


def test_gradcheck_panel_on_a_small_net(page, live_server):
    open_panels(page, live_server, SMALL_NET, tab="numerical")
    page.locator("#nm-run").click()
    wait_until(page, "!document.getElementById('nm-result').hidden", 15)
    rel = number(page.locator(".pn-reldiff").inner_text())
    assert rel < 1e-9, rel
    verdict = page.locator("#nm-verdict").inner_text()
    # the server's one threshold, as the frame and the reply carry it
    shown = page.locator("#nm-threshold").inner_text()
    assert f"below the threshold {shown} ✓ backprop is right" in verdict, verdict
    assert number(shown) == THRESHOLD
    passes = page.locator("#nm-num-passes").inner_text()
    assert passes.startswith("26")  # 2 × 13 parameters
    wait_until(page, "document.querySelector('#nm-scatter .main-svg') !== null")
    points = page.evaluate("document.getElementById('nm-scatter').data[1].x.length")
    assert points == 13
    page.locator("#nm-sweep").click()
    wait_until(page, "document.querySelector('#nm-growth .main-svg') !== null", 30)
    growth = page.evaluate("document.getElementById('nm-growth').data.map(t => t.y)")
    assert growth[0][-1] > growth[1][-1]  # numerical slower than backprop
    assert "O(W²)" in page.locator("#nm-growth-say").inner_text()
    shot(page, "numerical")
    assert page.errors == []


def test_zeros_init_keeps_units_identical_random_diverges(page, live_server):
    open_panels(page, live_server, tab="symmetry")
    page.locator("#sy-zeros").click()
    wait_until(page, "document.getElementById('sy-flag').textContent.includes('zeros')")
    assert "init=zeros" in page.url
    wait_until(page, "document.getElementById('sy-layers').textContent.includes('units identical')")
    page.locator("#sy-train").click()
    wait_until(page, "Number(document.getElementById('epoch').textContent) >= 1")
    time.sleep(0.3)
    text = page.locator("#sy-layers").inner_text()
    assert text.count("units identical: max difference 0") == 2, text
    assert page.locator("#pn-sym-badge").is_visible()
    shot(page, "symmetry-zeros")
    page.locator("#sy-random").click()
    wait_until(page, "document.getElementById('sy-layers').textContent.includes('diverging')")
    assert "init=uniform" in page.url
    for _ in range(3):
        page.locator("#sy-train").click()
        time.sleep(0.3)
    wait_until(page, "document.getElementById('sy-layers').textContent.includes('at the start')")
    text = page.locator("#sy-layers").inner_text()
    assert "identical" not in text, text
    assert page.locator("#pn-sym-badge").is_hidden()
    wait_until(page, "document.querySelector('#sy-chart .main-svg') !== null")
    shot(page, "symmetry-random")
    assert page.errors == []


def test_no_hidden_layers_is_logistic_regression(page, live_server):
    open_panels(page, live_server)
    remove = page.get_by_role("button", name="Remove the last hidden layer")
    remove.click()
    wait_until(page, "document.querySelectorAll('#diagram [data-kind=node]').length === 2 + 4 + 1")
    remove.click()
    wait_until(page, "document.querySelectorAll('#diagram [data-kind=node]').length === 3")
    banner = page.locator("#pn-logreg")
    banner.wait_for(state="visible")
    assert "this is logistic regression" in banner.inner_text()
    page.locator("#panels").scroll_into_view_if_needed()
    # The stepper: one forward layer, the cost, one backward layer, check, update.
    click_next(page, "Forward propagation — layer 2 of 2")
    click_next(page, "Cost J")
    click_next(page, "Backpropagation — δ of layer 2 of 2")
    assert "logistic regression" in page.locator("#st-text").inner_text()
    click_next(page, "Gradient checking")
    wait_until(page, "document.getElementById('st-numbers').textContent.includes('backprop is right')", 15)
    click_next(page, "Gradient descent")
    assert "logistic regression" in page.locator("#mx-phase").inner_text() or \
        page.locator("#mx-blocks .katex").count() > 0
    shot(page, "logistic-regression")
    page.locator("#tab-symmetry").click()
    assert "logistic regression" in page.locator("#sy-flag").inner_text()
    page.locator("#tab-flow").click()
    page.locator("#tab-direct").click()
    wait_until(page, "document.getElementById('dr-say').textContent.includes('Both give')")
    assert page.errors == []


def test_digits_train_to_a_confusion_matrix(page, live_server):
    open_panels(page, live_server, tab="digits")
    page.locator("#dg-switch").click()
    page.locator("#dg-on").wait_for(state="visible", timeout=15000)
    assert "dataset=digits" in page.url
    assert page.locator("#dg-units .pn-unit").count() == 16
    for _ in range(3):
        page.locator("#dg-train").click()
        time.sleep(0.4)
    wait_until(page, "document.querySelector('#dg-confusion .main-svg') !== null", 15)
    wait_until(page, "Number(document.getElementById('epoch').textContent) >= 3")
    time.sleep(0.8)  # the matrix is restyled at most twice a second
    z = page.evaluate("document.getElementById('dg-confusion').data[0].z")
    assert len(z) == 10 and all(len(r) == 10 for r in z)
    total = sum(map(sum, z))
    right = sum(z[k][k] for k in range(10))
    assert total > 0 and right / total > 0.5, (right, total)
    assert re.search(r"Predicted \d", page.locator("#dg-pred").inner_text())
    # A hidden unit's image focuses the maths on that unit.
    page.locator("#dg-units .pn-unit").nth(2).click()
    wait_until(page, "document.getElementById('mx-phase').textContent.includes('unit 3')")
    shot(page, "digits")
    assert page.errors == []


def test_gradient_flow_in_a_deep_sigmoid_net(page, live_server):
    open_panels(page, live_server, tab="flow")
    page.locator("#gf-deep").click()
    wait_until(page, "document.querySelectorAll('#diagram [data-kind=node]').length === 2 + 5 * 8 + 1", 15)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Play").click()
    time.sleep(2.5)
    page.get_by_role("button", name="Pause").click()
    # The history was collected off screen; the chart is drawn once it is on screen.
    page.locator("#gf-chart").scroll_into_view_if_needed()
    wait_until(page, "document.getElementById('gf-chart').data?.[0]?.x.length > 10")
    traces = page.evaluate("document.getElementById('gf-chart').data.map(t => t.y.filter(v => v !== null).length)")
    assert len(traces) == 6 and all(n > 2 for n in traces), traces
    # Vanishing: over the run, the first layer's ‖∂J/∂W‖ is a median ≥ 10× below the last's.
    first, last = page.evaluate("(() => { const d = document.getElementById('gf-chart').data;"
                                " return [d[0].y, d[d.length - 1].y]; })()")
    ratios = [b / a for a, b in zip(first, last) if a and b]
    assert len(ratios) > 10 and float(np.median(ratios)) >= 10, ratios
    # The explanation (refreshed by the panel's throttled flush once on screen) reads the
    # paused frame's own two norms; one batch is noisy, so it names the factor from 3× up.
    wait_until(page, "document.getElementById('gf-say').textContent.includes('for the last.')")
    text = page.locator("#gf-say").text_content()
    norms = re.findall(r"‖ = ([^ ]+) for the", text)
    assert len(norms) == 2, text
    g1, g6 = (number(n) for n in norms)
    if g6 / g1 >= 3:
        assert "less gradient than the last" in text, text
        assert ("vanishing" in text) == (g6 / g1 >= 10), text
    else:
        assert "similar size" in text, text
    shot(page, "gradient-flow")
    assert page.errors == []


def test_tabs_are_keyboard_operable(page, live_server):
    open_panels(page, live_server)
    page.locator("#tab-steps").focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "tab-delta"
    assert page.locator("#panel-delta").is_visible()
    assert page.locator("#panel-steps").is_hidden()
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.id") == "tab-digits"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "tab-steps"
    assert page.get_attribute("#tab-steps", "aria-selected") == "true"
    assert page.errors == []
