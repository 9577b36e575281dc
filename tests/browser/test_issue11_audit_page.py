"""Issue 11's remaining findings, driven in Chromium as the student met them: the δ probe
shows the focus example's δ (the maths panel's) beside the batch average, each labelled;
the stepper opens in the course's setting from the tour's link and says what differs
otherwise; both "why not…" cards count backprop's work the same way; the sweep's chart,
when it lands below the window, says so; the tour's divergence recipe pauses with where
and why and the screen's numbers are the true ones; dead ReLUs are named; the digits
projection is not squashed under its legend and its confusion counts do not overlap.
Screenshots go to tests/artifacts/issue11-audit-*.png (looked at by a person)."""

import re

import pytest

from app.engine import work_counts
from tests.browser.test_page import open_page, wait_until
from tests.browser.test_panel_numbers import server_frame as frame
from tests.browser.test_panels import api, fmt3, open_panels
from tests.conftest import ARTIFACTS


def shot(page, name: str, selector: str | None = None) -> None:
    target = page.locator(selector) if selector else page
    target.screenshot(path=str(ARTIFACTS / f"issue11-audit-{name}.png"))


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text()


def test_the_probe_shows_the_focus_examples_delta_beside_the_batch_average(page, live_server):
    open_panels(page, live_server, "seed=2", tab="delta")
    api(page, "/focus", "POST", {"index": 7})
    api(page, "/step", "POST", {"unit": "phase", "count": 7})   # 2-4-2-1: forward ×3, cost, backward ×3
    page.locator("#pr-unit").select_option("1:2")
    page.locator("#pr-go").click()
    wait_until(page, "!document.getElementById('pr-focus').hidden && "
                     "document.getElementById('pr-focus-delta').textContent !== '–'", 15)
    f = frame(page)
    assert f["focus"]["index"] == 7 and f["cursor"]["phase"] == "backward"
    # each δ says what it averages over
    assert text(page, "#pr-delta-over") == "(average over the batch, m = 10 examples)"
    assert text(page, "#pr-focus-label") == "example #7 only"
    # the focus example's δ is the frame's — the one the maths panel shows for this unit
    want = fmt3(f["focus"]["delta"][1][2])
    assert text(page, "#pr-focus-delta") == want == text(page, "#pr-focus-num")
    wait_until(page, "[...document.querySelectorAll('#mx-blocks [data-term=delta] .pn-num')]"
                     f".some(e => e.textContent === {want!r})", 10)
    # the batch's δ is another number, and its slope agrees with it
    assert text(page, "#pr-delta") == text(page, "#pr-num") != want
    assert "example #7 alone" in text(page, "#pr-say")
    shot(page, "probe-focus", "#panel-delta")
    assert page.errors == []


def test_the_tours_link_opens_the_stepper_in_the_courses_setting(page, live_server):
    open_panels(page, live_server, "seed=1&optimizer=gd")
    wait_until(page, "document.getElementById('st-title').textContent.length > 0")
    assert page.locator("#st-note").is_hidden() and page.locator("#st-course").is_hidden()
    page.locator("#st-next").click()
    wait_until(page, "document.getElementById('st-title').textContent.includes('Forward propagation')")
    f = frame(page)
    assert f["maths"]["m_batch"] == f["maths"]["m_train"] == 250
    # The page's default (mini-batch SGD) says plainly what differs, and one click goes back.
    open_panels(page, live_server, "seed=1")
    wait_until(page, "!document.getElementById('st-note').hidden")
    note = text(page, "#st-note")
    assert "course does full-batch gradient descent" in note and "m_batch = 10" in note and "m = 250" in note
    shot(page, "stepper-not-the-course", "#panel-steps")
    page.locator("#st-course").click()
    wait_until(page, "location.search.includes('optimizer=gd')")
    wait_until(page, "document.getElementById('st-note').hidden")
    assert page.errors == []


def test_both_cards_count_backprops_work_the_same_way(page, live_server):
    open_panels(page, live_server, "seed=1&layers=3&dataset=xor", tab="direct")
    wait_until(page, "document.getElementById('dr-say').textContent.includes('Both give')")
    direct = text(page, "#panel-direct")
    assert "2 passes — 1 forward + 1 backward" in direct
    # The table's counts are the server's (GET /paths; the engine's work_counts): backprop's
    # multiplications are its 1 forward + 1 backward pass, directly's the forward + every path.
    yours = api(page, "/paths?layer=0&to=0&from=0")["work"][0]
    assert yours["sizes"] == [2, 3, 1]
    w = work_counts([2, 3, 1])
    assert (yours["weights"], yours["paths"], yours["direct"], yours["backprop"]) == \
        (w.weights, w.paths, w.direct, w.backprop) == (9, 9, 9 + 6 * 3 + 3, 9 + 3 + 3 + 9)
    row = page.locator("#dr-table tbody tr").first.inner_text().split("\t")
    assert [c.strip() for c in row] == ["yours (2–3–1)", "9", "9", "30", "24"]
    page.locator("#tab-numerical").click()
    numerical = text(page, "#panel-numerical")
    assert "1 forward + 1 backward pass" in numerical
    page.locator("#nm-run").click()
    wait_until(page, "document.getElementById('nm-bp-passes').textContent.length > 0", 15)
    assert text(page, "#nm-bp-passes") == "2 (1 forward + 1 backward)"
    assert page.locator("#nm-result th").nth(2).inner_text() == "passes"
    everything = text(page, "#panels")
    for contradiction in ("three", "3 forward", "float32", "rounding"):
        assert contradiction not in everything, contradiction
    assert page.errors == []


def test_the_sweep_chart_below_the_window_says_so(page, live_server):
    open_panels(page, live_server, "seed=1", tab="numerical")
    # The student's view: the buttons near the bottom of the window, the chart will land below it.
    page.evaluate("document.getElementById('nm-sweep').scrollIntoView({block: 'end'})")
    page.locator("#nm-sweep").click()
    wait_until(page, "document.querySelector('#nm-growth .main-svg') !== null", 30)
    wait_until(page, "document.getElementById('nm-status').textContent.includes('below')", 5)
    assert page.evaluate("document.getElementById('nm-growth').getBoundingClientRect().top") > 800 - 40
    go = page.locator("#nm-status button")
    assert go.inner_text() == "The timing chart is below ↓ (scroll to it)"
    shot(page, "sweep-says-below")
    go.click()
    wait_until(page, "(() => { const r = document.getElementById('nm-growth').getBoundingClientRect();"
                     " return r.top >= 0 && r.bottom <= innerHeight; })()", 5)
    assert page.errors == []


def test_the_tours_divergence_recipe_says_where_with_the_true_numbers(page, live_server):
    open_page(page, live_server, "seed=0&dataset=plane&learning_rate=3")
    page.locator("#btn-play").click()
    wait_until(page, "document.body.dataset.status === 'diverged'", 20)
    message = text(page, "#message-text")
    assert re.search(r"the weights into unit \d+ of layer \d+ .* at step \d+: each update overshot", message), message
    summary = api(page, "")
    params = api(page, "/params")
    J = summary["loss"]["train"]
    max_w = max(abs(w) for layer in params["weights"] for row in layer for w in row)
    assert max_w > 1e6
    wait_until(page, f"document.getElementById('loss-train').textContent === {fmt3(J)!r}")
    # the legend's max |w| and the overlay's are the weights' own, not the last finite picture
    wait_until(page, f"document.querySelector('#diagram .nd-legend').textContent.includes('max |w| {fmt3(max_w)}')")
    legend = page.locator("#diagram .nd-legend").inner_text()
    assert f"max |w| {fmt3(max_w)}" in legend, legend
    assert f"largest |w| = {fmt3(max_w)}" in text(page, "#diagram"), text(page, "#diagram")
    # J is finite: nothing on the boundary chart claims NaN
    assert "NaN" not in page.locator("#boundary-chart").inner_text()
    assert "NaN" not in legend and "NaN" not in (page.locator("#diagram svg").first.text_content() or "")
    shot(page, "diverged")
    assert page.errors == []


def test_dead_relus_are_named_on_the_page(page, live_server):
    open_page(page, live_server, "seed=0&activation=relu&learning_rate=3&optimizer=sgd")
    page.locator("#btn-play").click()
    wait_until(page, "document.getElementById('message-text').textContent.includes('dead ReLUs')", 30)
    page.locator("#btn-play").click()   # pause
    message = text(page, "#message-text")
    assert re.search(r"units? of hidden layer \d+ output 0 for every training example", message), message
    assert "no gradient flows back" in message
    assert page.locator("#message").is_visible()
    shot(page, "dead-relus")
    assert page.errors == []


def test_the_digits_projection_is_not_squashed_and_its_counts_do_not_overlap(page, live_server):
    open_page(page, live_server, "seed=1&dataset=digits")
    page.select_option("#step-unit", "epoch")
    for _ in range(3):
        page.locator("#btn-step").click()
        page.wait_for_timeout(300)
    wait_until(page, "Number(document.getElementById('epoch').textContent) >= 3", 20)
    wait_until(page, "document.querySelector('#projection-confusion .main-svg') !== null && "
                     "document.querySelector('#projection-chart .main-svg') !== null", 15)
    page.wait_for_timeout(1200)   # the view refetches at most once a second
    box = page.evaluate("""(() => {
        const chart = document.getElementById('projection-chart').getBoundingClientRect();
        const plot = document.querySelector('#projection-chart .nsewdrag').getBoundingClientRect();
        return {chart: chart.height, plot: plot.height,
                legend: document.querySelectorAll('#projection-chart .legend .traces').length};
    })()""")
    # ten classes: the per-class table is the key, the points get the chart's height
    assert box["legend"] == 0 and box["plot"] > 0.6 * box["chart"], box
    assert "key: the per-class table below" in text(page, "#projection-caption")
    assert page.locator("#projection-classes tbody tr").count() == 10
    # every count of the 10×10 matrix is drawn, and no two overlap
    boxes = page.evaluate("""[...document.querySelectorAll('#projection-confusion .heatmaplayer text')]
        .map(t => t.getBoundingClientRect()).filter(r => r.width > 0)
        .map(r => [r.left, r.top, r.right, r.bottom])""")
    assert len(boxes) == 100, len(boxes)
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    # ticks 0…9 on both axes, none dropped
    ticks = page.locator("#projection-confusion .xtick text").all_text_contents()
    assert ticks == [str(k) for k in range(10)], ticks
    shot(page, "digits-projection", "#projection")
    assert page.errors == []


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_a_squashing_output_with_mse_shows_its_delta_and_cost_in_the_stepper_and_the_caption(page, live_server, output):
    open_panels(page, live_server, f"seed=1&layers=3&output={output}&loss=mse")
    caption = "#diagram .nd-caption-main"

    def next_step(title: str) -> None:
        page.locator("#st-next").click()
        wait_until(page, f"document.getElementById('st-title').textContent.includes({title!r})")

    next_step("Forward propagation — layer 2 of 3")
    next_step("Forward propagation — layer 3 of 3")
    next_step("Cost J")
    assert "½‖h − y‖² (MSE)" in text(page, "#st-text")
    wait_until(page, f"document.querySelector({caption!r}).textContent.includes('squared error')")
    assert "mean over m = 250 training examples" in text(page, caption)
    next_step("Backpropagation — δ of layer 3 of 3")
    wait_until(page, f"document.querySelector({caption!r}).textContent.includes('δ of layer 3')")
    shown = {"stepper": text(page, "#st-text"), "caption": text(page, caption)}
    if output == "sigmoid":
        assert "(a⁽³⁾ − y) ⊙ g′(z⁽³⁾)" in shown["stepper"] and "(a⁽³⁾ − y) ⊙ g′(z⁽³⁾)" in shown["caption"], shown
    else:   # softmax is not elementwise: its Jacobian, said as such, where a single g′ would be wrong
        assert "(∂a/∂z)ᵀ(a⁽³⁾ − y)" in shown["stepper"] and "(∂a⁽³⁾/∂z⁽³⁾)ᵀ(a⁽³⁾ − y)" in shown["caption"], shown
        assert "no single g′" in shown["stepper"]
    assert "δ⁽³⁾ = a⁽³⁾ − y" not in shown["stepper"] + shown["caption"]
    shot(page, f"mse-{output}-delta", "#panel-steps")
    assert page.errors == []


LABELLED = {"delta": r"\(example #\d+\)", "cost": r"\(example #\d+ only\)",
            "grad": r"\(average over the batch, m_batch = 10\)",
            "J": r"\(average over the training set, m_train = 250\)"}


def test_every_delta_d_and_j_says_what_it_averages_over(page, live_server):
    open_panels(page, live_server, "seed=1&layers=3")
    seen = {}
    for _ in range(4):   # forward 2, 3, cost, backward 3: J, the example's cost, δ and D all on screen
        page.locator("#st-next").click()
        page.wait_for_timeout(400)
        for key in LABELLED:
            for label in page.locator(f"#mx-blocks [data-term={key}] th").all_inner_texts():
                seen.setdefault(key, set()).add(label)
    assert set(seen) == set(LABELLED), seen
    for key, labels in seen.items():
        for label in labels:
            assert re.search(LABELLED[key], label), (key, label)
    # the stepper's D says its m too
    assert "(average over the batch, m_batch = 10)" in text(page, "#st-numbers")
    assert page.errors == []


@pytest.mark.parametrize(("regularization", "term"), [("l2", "(λ/m_train)·W"), ("l1", "(λ/m_train)·sign(W)")])
def test_the_stepper_says_which_m_the_penalty_divides_by(page, live_server, regularization, term):
    open_panels(page, live_server, f"seed=1&layers=3&regularization={regularization}&lambda=1")
    for title in ("layer 2 of 3", "layer 3 of 3", "Cost J", "δ of layer 3 of 3"):
        page.locator("#st-next").click()
        wait_until(page, f"document.getElementById('st-title').textContent.includes({title!r})")
    said = text(page, "#st-text")
    assert f"D⁽²⁾ = Δ/m_batch + {term}" in said, said
    assert "(m_batch = 10; the penalty's m is m_train = 250, the same J as step 3)" in said, said
    # step 5 checks the gradient of the same J, and says on what
    for title in ("δ of layer 2 of 3", "Gradient checking"):
        page.locator("#st-next").click()
        wait_until(page, f"document.getElementById('st-title').textContent.includes({title!r})")
    wait_until(page, "document.querySelector('#st-numbers [data-q=gcm]') !== null", 15)
    assert text(page, "#st-numbers [data-q=gcm]") == ("checked on: the first m = 100 training examples (J averages "
                                                      "over them; the penalty keeps m_train = 250, as in step 3)")
    assert "✓ below" in text(page, "#st-numbers")
    assert page.errors == []
