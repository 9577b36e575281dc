"""Accessibility and layout: axe-core finds no serious or critical violations, every
control is reachable by keyboard with a visible focus, reduced motion is honoured,
and the page works at projector and phone sizes (screenshots saved and looked at)."""

from pathlib import Path

import pytest

from tests.browser.test_page import open_page, wait_until
from tests.conftest import ARTIFACTS

AXE = (Path(__file__).resolve().parent.parent / "vendor" / "axe-4.10.3.min.js").read_text()


def axe_violations(page) -> list:
    page.evaluate(AXE)    # evaluate is not subject to the page's CSP; a script tag would be
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_axe_reports_no_serious_violations(page, live_server):
    open_page(page, live_server)
    page.wait_for_selector("#loss-chart text.tick")
    violations = axe_violations(page)
    details = [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in violations]
    assert violations == [], details


def test_every_control_is_reachable_by_keyboard_with_visible_focus(page, live_server):
    open_page(page, live_server)
    wanted = {"btn-play", "btn-step", "btn-reset", "step-unit", "input-learning_rate", "input-activation",
              "input-dataset", "input-noise", "timeline-slider"}
    reached = set()
    for _ in range(120):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => { const e = document.activeElement;
            const s = getComputedStyle(e);
            return {id: e.id, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
                    shadow: s.boxShadow !== 'none'}; }""")
        if info["id"] in wanted:
            assert info["outline"] or info["shadow"], f"no visible focus on #{info['id']}"
            reached.add(info["id"])
        if reached == wanted:
            break
    assert reached == wanted, wanted - reached


def test_keyboard_shortcuts_play_and_step(page, live_server):
    open_page(page, live_server)
    page.locator("body").click(position={"x": 5, "y": 790})
    page.keyboard.press("ArrowRight")
    wait_until(page, "document.getElementById('step').textContent === '1'")
    page.keyboard.press("Space")
    wait_until(page, "document.body.dataset.status === 'running'")
    page.keyboard.press("Space")
    wait_until(page, "document.body.dataset.status === 'paused'")
    page.keyboard.press("r")
    wait_until(page, "document.getElementById('step').textContent === '0'")


def test_reduced_motion_turns_animation_off(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    try:
        open_page(page, live_server)
        durations = page.evaluate("""() => [...document.querySelectorAll('#diagram *')]
            .map(e => getComputedStyle(e).transitionDuration).filter(d => d && d !== '0s')""")
        assert durations == [], durations[:5]
    finally:
        context.close()


@pytest.mark.parametrize("width, height, name", [(1280, 800, "projector"), (390, 844, "phone")])
def test_layout_at_projector_and_phone_sizes(browser, live_server, width, height, name):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        open_page(page, live_server)
        page.wait_for_selector("#loss-chart text.tick")
        page.screenshot(path=str(ARTIFACTS / f"layout-{name}.png"))
        page.screenshot(path=str(ARTIFACTS / f"layout-{name}-full.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow}px of horizontal scrolling"
        diagram = page.locator("#diagram").bounding_box()
        if name == "projector":
            # the core loop fits one screen: controls, diagram, boundary and loss chart
            for sel in ("#btn-play", "#diagram", "#boundary-chart", "#loss-chart"):
                box = page.locator(sel).bounding_box()
                assert box["y"] + min(box["height"], 150) <= height, sel
        else:
            # phone: the diagram comes first, right under the top bar
            assert diagram["y"] < page.locator("#boundary-chart").bounding_box()["y"]
            assert diagram["width"] <= width
    finally:
        context.close()
