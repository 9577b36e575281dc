"""The live page in Debian's Chromium, driven as a person would: it loads clean,
trains live, steps through the phases in order, and answers hover with numbers."""

import re
import time

from tests.conftest import ARTIFACTS


def wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JS expression from Python (page.wait_for_function evaluates strings,
    which the page's Content-Security-Policy rightly forbids)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if page.evaluate(expression):
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {expression}")


def open_page(page, base: str, query: str = "seed=1") -> None:
    page.goto(f"{base}/?{query}")
    page.wait_for_selector("#diagram [data-kind=node]")


def node_count(page) -> int:
    return page.locator("#diagram [data-kind=node]").count()


def test_page_loads_without_console_errors(page, live_server):
    open_page(page, live_server)
    page.wait_for_selector("#loss-chart text.tick")
    assert node_count(page) == 2 + 4 + 2 + 1
    assert page.locator("#epoch").inner_text() == "0.0"
    assert page.errors == []


def test_adding_a_hidden_unit_adds_a_node(page, live_server):
    open_page(page, live_server)
    before = node_count(page)
    page.get_by_role("button", name="Add a unit to hidden layer 1").click()
    wait_until(page, f"document.querySelectorAll('#diagram [data-kind=node]').length === {before + 1}")
    wait_until(page, "location.search.includes('layers=5%2C2')")
    page.get_by_role("button", name="Add a hidden layer").click()
    wait_until(page, f"document.querySelectorAll('#diagram [data-kind=node]').length === {before + 3}")
    assert page.errors == []


def test_play_trains_and_the_loss_falls(page, live_server):
    open_page(page, live_server)
    start = float(page.locator("#loss-train").inner_text().replace("−", "-"))
    page.keyboard.press("Space")
    wait_until(page, "document.body.dataset.status === 'running'")
    time.sleep(3)
    page.screenshot(path=str(ARTIFACTS / "page-playing.png"))
    page.get_by_role("button", name="Pause").click()
    wait_until(page, "document.body.dataset.status === 'paused'")
    text = page.locator("#loss-train").inner_text().replace("−", "-")
    assert float(text) < start / 4
    points = int(page.get_attribute("#loss-chart path.loss-train", "data-points"))
    assert points > 10
    assert int(page.locator("#step").inner_text().replace(",", "")) > 1000
    assert page.errors == []


def test_step_by_phase_walks_the_course_order(page, live_server):
    open_page(page, live_server)
    page.select_option("#step-unit", "phase")
    seen = []
    for k in range(8):
        page.locator("#btn-step").click()
        time.sleep(0.4)
        caption = page.locator("#diagram .nd-caption, #diagram [class*=caption]").first.inner_text()
        active = page.eval_on_selector_all("#diagram .active-layer", "els => els.map(e => e.dataset.layer)")
        seen.append((caption, active))
        if k == 5:
            page.screenshot(path=str(ARTIFACTS / "page-backward.png"))
    captions = [c for c, _ in seen]
    assert re.search(r"Forward", captions[0]) and re.search(r"Forward", captions[2])
    assert re.search(r"[Cc]ost", captions[3])
    assert re.search(r"Backprop", captions[4]) and re.search(r"Backprop", captions[6])
    assert re.search(r"update|descent", captions[7], re.I)
    layers = [a[0] if a else None for _, a in seen]
    assert layers[0:3] == ["1", "2", "3"]
    assert layers[4:7] == ["3", "2", "1"]
    assert page.errors == []


def test_hover_an_edge_shows_its_weight(page, live_server):
    open_page(page, live_server)
    edge = page.locator("#diagram [data-kind=edge]").first
    edge.hover(force=True)
    tip = page.locator("#diagram .diagram-tooltip")
    tip.wait_for(state="visible")
    text = tip.inner_text()
    assert re.search(r"w\S*\s*[=:]?\s*[−-]?\d", text), text
    assert page.errors == []


def test_changing_a_setting_applies_it_and_updates_the_url(page, live_server):
    open_page(page, live_server)
    page.select_option("#input-activation", "sigmoid")
    wait_until(page, "location.search.includes('activation=sigmoid')")
    wait_until(page, "document.querySelector('#diagram').textContent.includes('sigmoid')")
    page.select_option("#input-dataset", "plane")
    wait_until(page, "location.search.includes('dataset=plane')")
    # the server switched the output to linear for regression, and the form shows it
    wait_until(page, "document.getElementById('input-output').value === 'linear'")
    assert page.errors == []


def test_bad_input_shows_a_message_next_to_the_control(page, live_server):
    open_page(page, live_server)
    field = page.locator("#input-learning_rate")
    field.fill("fast")
    field.press("Enter")
    error = page.locator("#field-learning_rate-error")
    wait_until(page, "document.getElementById('field-learning_rate-error').textContent.length > 0")
    assert "number" in error.inner_text()
    assert page.locator("#input-learning_rate").get_attribute("aria-invalid") == "true"
    assert "learning_rate=0.03" in page.url            # nothing lost
    page.locator("#input-learning_rate").fill("0.1")
    page.locator("#input-learning_rate").press("Enter")
    wait_until(page, "location.search.includes('learning_rate=0.1')")
    wait_until(page, "document.getElementById('field-learning_rate-error').textContent === ''")


def test_one_bad_field_blocks_nothing_else(page, live_server):
    """A comma for a decimal point in α: its message stays next to it, and the data set
    chosen next still applies, on the server as on screen."""
    open_page(page, live_server)
    page.locator("#input-learning_rate").fill("0,3")
    page.locator("#input-learning_rate").press("Enter")
    wait_until(page, "document.getElementById('field-learning_rate-error').textContent.length > 0")
    page.select_option("#input-dataset", "xor")
    wait_until(page, "location.search.includes('dataset=xor')")
    sid = page.evaluate("document.getElementById('session-id').value")
    config = page.evaluate(f"fetch('/api/sessions/{sid}').then(r => r.json())")["config"]
    assert config["dataset"] == "xor" and config["learning_rate"] == 0.03
    assert page.locator("#input-dataset").input_value() == "xor"
    assert page.locator("#input-learning_rate").get_attribute("aria-invalid") == "true"
    assert page.locator("#field-learning_rate-error").inner_text()
    # the browser logs the 400 reply itself; nothing else went wrong
    assert [e for e in page.errors if "status of 400" not in e] == []


def test_divergence_is_said_and_offers_a_way_out(page, live_server):
    open_page(page, live_server, "seed=0&dataset=plane&activation=relu&learning_rate=10&layers=8,8&optimizer=gd")
    page.locator("#btn-play").click()
    wait_until(page, "document.body.dataset.status === 'diverged'")
    message = page.locator("#message")
    assert message.is_visible() and "diverged" in message.inner_text()
    page.screenshot(path=str(ARTIFACTS / "page-diverged.png"))
    # nothing is drawn from NaN: every node fill is a real colour
    fills = page.eval_on_selector_all("#diagram [data-kind=node] *", "els => els.map(e => e.getAttribute('fill'))")
    assert not any(f and "NaN" in f for f in fills)
    page.get_by_role("button", name="Lower the learning rate ×0.1 and reset").click()
    wait_until(page, "location.search.includes('learning_rate=1&')")
    wait_until(page, "document.body.dataset.status === 'paused'")
    assert message.is_hidden()
    assert page.locator("#step").inner_text() == "0"


def test_plane_only_settings_grey_out_for_digits(page, live_server):
    open_page(page, live_server)
    page.select_option("#input-dataset", "digits")
    wait_until(page, "location.search.includes('dataset=digits')")
    wait_until(page, "document.getElementById('input-noise').disabled")
    assert page.locator("#field-features input[type=checkbox]").first.is_disabled()
    page.select_option("#input-activation", "relu")          # the form still posts fine
    wait_until(page, "location.search.includes('activation=relu')")
    page.select_option("#input-dataset", "circle")
    wait_until(page, "!document.getElementById('input-noise').disabled")
    assert page.errors == []
