"""Compare runs in Chromium, as a person does it: "Compare…" forks the page's run with one
setting changed, and one play / step drives both runs, side by side."""

import json
import time
import urllib.request

from tests.browser.test_page import wait_until as poll
from tests.conftest import ARTIFACTS

STEPS = ("document.getElementById('cmp-a-step').textContent", "document.getElementById('cmp-b-step').textContent")


def wait_until(page, expression: str, timeout: float = 15.0) -> None:
    """The page tests' poll, with more time: two runs train at once."""
    poll(page, expression, timeout)


def steps(page) -> tuple[int, int]:
    return tuple(int(page.evaluate(e).replace(",", "")) for e in STEPS)


def loss_points(page) -> list[int]:
    """Points of each run's train-loss line on the shared chart (traces 0 and 2)."""
    return page.evaluate("(() => { const d = document.getElementById('cmp-loss').data || [];"
                         " return [0, 2].map(i => d[i] ? d[i].x.length : 0); })()")


def session(base: str, sid: str) -> tuple[int, dict | None]:
    try:
        with urllib.request.urlopen(f"{base}/api/sessions/{sid}") as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def open_comparison(page, base: str, suggestion: str) -> None:
    page.goto(f"{base}/?seed=1")
    page.wait_for_selector("#diagram [data-kind=node]")
    page.get_by_role("button", name="Compare…").click()
    page.locator(f".cmp-pick [data-compare={suggestion}]").click()
    wait_until(page, "document.getElementById('compare').dataset.state === 'comparing'")
    wait_until(page, "document.querySelectorAll('#compare .cmp-run [data-kind=node]').length === 18")


def test_compare_from_the_page_trains_both_runs_together(page, live_server):
    open_comparison(page, live_server, "lr10")
    assert page.locator("#cmp-title").inner_text() == "α 0.03 vs 0.3"
    a = page.locator(".cmp-run[data-run=a]")
    b = page.locator(".cmp-run[data-run=b]")
    assert a.locator(".cmp-label").inner_text() == "α 0.03"
    assert b.locator(".cmp-label").inner_text() == "α 0.3"
    ids = a.get_attribute("data-session"), b.get_attribute("data-session")
    assert ids[0] == page.locator("#session-id").input_value() and ids[1] != ids[0]
    assert session(live_server, ids[1])[1]["config"]["learning_rate"] == 0.3
    assert steps(page) == (0, 0)
    # Both decision boundaries are drawn, one loss chart holds both runs' curves.
    wait_until(page, "[...document.querySelectorAll('#compare .cmp-boundary')]"
                     ".filter(b => b.querySelector('circle.pt-train')).length >= 2")   # both runs' points
    wait_until(page, "(document.getElementById('cmp-loss').data || []).length === 4")

    page.keyboard.press("Space")                      # one play drives both
    wait_until(page, "document.getElementById('compare').dataset.status === 'running'")
    wait_until(page, f"parseInt({STEPS[0]}.replace(/,/g, '')) > 0 && parseInt({STEPS[1]}.replace(/,/g, '')) > 0")
    first, points = steps(page), loss_points(page)
    time.sleep(1.5)
    second = steps(page)
    assert second[0] > first[0] and second[1] > first[1]      # both counters rise …
    wait_until(page, f"(() => {{ const d = document.getElementById('cmp-loss').data;"
                     f" return d[0].x.length > {points[0]} && d[2].x.length > {points[1]}; }})()")
    assert min(loss_points(page)) >= 3                         # … and both curves grow
    page.get_by_role("button", name="Pause both").click()
    wait_until(page, "document.getElementById('compare').dataset.status === 'paused'")
    assert session(live_server, ids[0])[1]["status"] == session(live_server, ids[1])[1]["status"] == "paused"
    assert page.locator("#btn-play").get_attribute("aria-label") == "Play"   # the page follows its run

    page.get_by_role("button", name="Back to my run").click()
    assert not page.locator("#compare").is_visible()
    end = time.monotonic() + 5
    while session(live_server, ids[1])[0] != 404 and time.monotonic() < end:
        time.sleep(0.05)
    assert session(live_server, ids[1])[0] == 404            # the fork is gone …
    assert session(live_server, ids[0])[0] == 200            # … your run carries on
    assert page.errors == []


def test_the_symmetry_question_compares_random_and_constant_init_step_by_step(page, live_server):
    page.goto(f"{live_server}/?seed=1")
    page.wait_for_selector("#diagram [data-kind=node]")
    page.locator("#tab-symmetry").click()
    page.get_by_role("button", name="Compare side by side: random vs constant init").click()
    wait_until(page, "document.getElementById('compare').dataset.state === 'comparing'")
    assert page.locator("#cmp-title").inner_text() == "uniform vs constant init"
    wait_until(page, f"{STEPS[0]} === '0' && {STEPS[1]} === '0'")
    page.locator("#cmp-unit").select_option("batch")
    for _ in range(3):
        page.get_by_role("button", name="Step both").click()
        time.sleep(0.2)
    wait_until(page, f"{STEPS[0]} === '3' && {STEPS[1]} === '3'")
    fork = page.locator(".cmp-run[data-run=b]").get_attribute("data-session")
    W = session(live_server, fork)[1]
    assert W["step"] == 3 and W["config"]["init"] == "constant"
    assert page.errors == []


def test_the_learning_rate_explanation_opens_a_comparison(page, live_server):
    page.goto(f"{live_server}/?seed=1&learning_rate=0.1")
    page.wait_for_selector("#diagram [data-kind=node]")
    page.get_by_role("button", name="What does α do? Compare α with 10·α side by side").click()
    wait_until(page, "document.getElementById('compare').dataset.state === 'comparing'")
    assert page.locator("#cmp-title").inner_text() == "α 0.1 vs 1"
    assert page.errors == []


def test_the_pair_fits_a_projector_and_stacks_on_a_phone(page, live_server):
    open_comparison(page, live_server, "adam")
    assert page.locator("#cmp-title").inner_text() == "sgd vs adam"
    box = lambda run: page.locator(f".cmp-run[data-run={run}]").bounding_box()  # noqa: E731
    fits = "(() => { const d = document.getElementById('compare');" \
           " return d.scrollHeight <= d.clientHeight && d.scrollWidth <= d.clientWidth; })()"
    wait_until(page, "document.querySelectorAll('#compare .cmp-boundary .chart-svg text.tick').length > 0"
                     " && document.querySelector('#cmp-loss .main-svg') !== null")
    assert page.evaluate(fits)                                    # 1280×800: no scrolling
    a, b = box("a"), box("b")
    assert abs(a["y"] - b["y"]) < 1 and b["x"] >= a["x"] + a["width"]   # side by side
    loss = page.locator("#cmp-loss").bounding_box()
    assert loss["y"] + loss["height"] <= 800
    page.screenshot(path=str(ARTIFACTS / "compare-1280.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    wait_until(page, "document.querySelector('.cmp-run[data-run=b]').getBoundingClientRect().top >"
                     " document.querySelector('.cmp-run[data-run=a]').getBoundingClientRect().bottom - 1")
    wait_until(page, "document.getElementById('compare').scrollWidth <= 390")   # stacked, no sideways scroll
    a, b = box("a"), box("b")
    assert a["width"] <= 390 and b["width"] <= 390
    page.locator(".cmp-run[data-run=b]").scroll_into_view_if_needed()
    page.wait_for_timeout(600)
    page.screenshot(path=str(ARTIFACTS / "compare-390.png"))
    assert page.errors == []


def test_sigmoid_vs_relu_first_sets_your_run_to_sigmoid_through_its_own_control(page, live_server):
    open_comparison(page, live_server, "activation")     # the page's run starts as tanh
    assert page.locator("#cmp-title").inner_text() == "sigmoid vs ReLU"
    assert page.locator("#input-activation").input_value() == "sigmoid"
    wait_until(page, "location.search.includes('activation=sigmoid')")
    ids = [page.locator(f".cmp-run[data-run={r}]").get_attribute("data-session") for r in "ab"]
    assert [session(live_server, i)[1]["config"]["activation"] for i in ids] == ["sigmoid", "relu"]
    assert page.errors == []
