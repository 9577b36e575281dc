"""Issue 11's diagram findings, driven in Chromium on the real page: the legend follows
what is drawn (|w| or |∂J/∂w| widths, the moving signal, the update flash, dot, diamond,
ring); the update flash keeps one scale across updates, so 10× α flashes 10× wider; in
"slower" mode the signal travels along the edges (forward left→right, δ right→left) and
a phase stays ~2 s on screen, and reduced motion shows none of it; digits with 25 and 32
hidden units stays readable. The numbers asserted come from the API (/params), not from
the page. Screenshots go to tests/artifacts/issue11-*.png (looked at by a person)."""

import re
import statistics
import time

import pytest

from tests.browser.test_diagram_module import assert_units_inside_and_apart
from tests.browser.test_issue11_controls import api, wait_for_session
from tests.browser.test_page import open_page, wait_until
from tests.conftest import ARTIFACTS

# gd (full batch, as in the course): one update is W ← W − α·D exactly, so D = −ΔW/α, and
# two updates in a row have nearly the same D.
COURSE = "seed=1&optimizer=gd&learning_rate=0.03"

LEGEND = """(() => Object.fromEntries([...document.querySelectorAll('#diagram .nd-legend-item')]
    .filter(it => it.querySelector('.nd-legend-text'))
    .map(it => [it.classList[1].replace('nd-legend-', ''),
                it.checkVisibility() ? it.querySelector('.nd-legend-text').textContent : null])))()"""


def legend(page) -> dict:
    """The legend's entries by kind (width, signal, flash, dot, bias, ring…): text, or None if hidden."""
    return page.evaluate(LEGEND)


def number(text: str) -> float:
    """A number as the page writes it (− for minus, 1.23e−4)."""
    return float(text.replace("−", "-"))


def numbers_after(label: str, text: str) -> list[float]:
    return [number(m) for m in re.findall(re.escape(label) + r" ([−\d.e]+)", text)]


def caption(page) -> str:
    return page.inner_text("#diagram .nd-caption-main")


def step_phase(page) -> str:
    """One click on Step (by phase); returns the caption of the phase it drew."""
    before = caption(page)
    page.locator("#btn-step").click()
    wait_until(page, f"document.querySelector('#diagram .nd-caption-main').textContent !== {before!r}")
    return caption(page)


def step_until(page, word: str, limit: int = 12) -> str:
    for _ in range(limit):
        cap = step_phase(page)
        if word in cap:
            return cap
    raise AssertionError(f"no {word!r} phase within {limit} steps")


def weights(page) -> list:
    return api(page, "/params")["weights"]


def flat(matrices) -> list[float]:
    return [v for M in matrices for row in M for v in row]


def edge_widths(page, group: str) -> list[list[float]]:
    """stroke-width of every path of each weight layer's group ('nd-edges' drawn, 'nd-fx' motion)."""
    return page.evaluate("""g => [...document.querySelectorAll(`#diagram .${g}`)]
        .map(el => [...el.querySelectorAll('path')].map(p => +p.getAttribute('stroke-width')))""", group)


def freeze_motion_at(page, fraction: float) -> None:
    """Hold every running animation of the diagram at `fraction` of its duration (for a screenshot)."""
    page.evaluate("""f => document.querySelectorAll('#diagram .nd-fx path').forEach(p => p.getAnimations()
        .filter(a => a.playState === 'running')
        .forEach(a => { a.pause(); a.currentTime = f * a.effect.getTiming().duration; }))""", fraction)


def test_legend_follows_what_is_drawn_phase_by_phase(page, live_server):
    """Forward: widths ∝ |w|, a dash moving →; backward: widths ∝ |∂J/∂w| on the layers δ
    has reached (the number is the API's D), a dash moving ←; the flash entry only at the
    update; dot, diamond and ring in words whenever they are drawn."""
    open_page(page, live_server, COURSE)
    wait_for_session(page)
    page.select_option("#step-unit", "phase")
    w0 = weights(page)
    max_w = max(abs(v) for v in flat(w0))

    assert "Forward" in step_phase(page)
    lg = legend(page)
    assert lg["width"].startswith("edge width ∝ |w|") and "∂J" not in lg["width"], lg["width"]
    assert numbers_after("max |w|", lg["width"]) == [pytest.approx(max_w, rel=5e-3)]
    assert lg["signal"] and "moving dash →" in lg["signal"] and "W⁽¹⁾" in lg["signal"] and "|w·a|" in lg["signal"]
    assert lg["flash"] is None, "no flash is drawn in a forward phase"
    assert lg["ring"] is None and page.locator("#diagram .nd-ring:not(.off)").count() == 0
    for kind, words in (("dot", "dot: a of the focus example"), ("bias", "diamond: bias b")):
        assert lg[kind] == words
    assert page.locator("#diagram .nd-badge:not(.off)").count() > 0      # the dots it explains
    assert page.locator("#diagram .nd-bias").count() == 4 + 2 + 1         # one diamond per unit

    assert "Cost" in step_until(page, "Cost")
    lg = legend(page)
    assert lg["signal"] is None and lg["flash"] is None

    assert "δ of layer 4" in step_phase(page)
    backward_shot = edge_widths(page, "nd-edges")
    lg = legend(page)
    assert lg["ring"] == "ring: δ = ∂J/∂z of the focus example"
    assert page.locator("#diagram .nd-ring:not(.off)").count() == 1      # δ⁽⁴⁾ only, so far
    assert "|∂J/∂w|" in lg["width"] and "on W⁽³⁾," in lg["width"] and "|w|" in lg["width"], lg["width"]
    grad_max = numbers_after("|∂J/∂w| (max", lg["width"])[0]

    assert "δ of layer 3" in step_phase(page)
    lg = legend(page)
    assert lg["signal"] and "moving dash ←" in lg["signal"] and "W⁽³⁾" in lg["signal"] and "|w·δ|" in lg["signal"]
    assert "on W⁽²⁾ W⁽³⁾," in lg["width"]

    assert "update" in step_until(page, "update")
    lg = legend(page)
    assert lg["signal"] is None
    assert lg["flash"] and "this update's ΔW" in lg["flash"] and "width ∝ |ΔW|" in lg["flash"]
    assert lg["width"].startswith("edge width ∝ |w|")

    # The backward numbers were the gradient: D = −ΔW/α of this very update.
    alpha = api(page)["config"]["learning_rate"]
    w1 = weights(page)
    D = [[[(a - b) / alpha for a, b in zip(r0, r1)] for r0, r1 in zip(M0, M1)] for M0, M1 in zip(w0, w1)]
    last = flat([D[2]])
    assert grad_max == pytest.approx(max(map(abs, last)), rel=5e-3)
    # …and the drawn widths: W⁽³⁾ (2→1, at most 6 px) ∝ |D|, W⁽¹⁾ still ∝ |w| (its D not known yet)
    d_max = max(map(abs, last))
    for width, d in zip(backward_shot[2], last):
        assert width == pytest.approx(0.5 + 5.5 * abs(d) / d_max, abs=0.13)
    biases = api(page, "/params")["biases"]
    scale = max(max_w, max(abs(v) for b in biases for v in b))
    first = flat([w0[0]])
    order = sorted(range(len(first)), key=lambda k: abs(first[k]))
    assert [backward_shot[0][k] for k in order] == sorted(backward_shot[0]), "W⁽¹⁾ widths follow |w|"
    assert max(backward_shot[0]) <= 0.5 + 5.5 * max(map(abs, first)) / scale + 0.13

    # Entries come and go with the phases, yet after one cycle nothing under the diagram jumps.
    below = "Math.round(document.querySelector('#diagram .nd-legend').getBoundingClientRect().bottom)"
    bottoms = set()
    for _ in range(8):
        step_phase(page)
        bottoms.add(page.evaluate(below))
    assert len(bottoms) == 1, bottoms
    assert page.errors == []


def test_update_flash_is_held_so_ten_times_alpha_flashes_ten_times_wider(page, live_server):
    """Flash width = 1 + 6·min(1, |ΔW|/S) with S held from the first update (the legend says
    S and the step); after α ×10 (the page's α field) the same edges flash ~10× wider."""
    open_page(page, live_server, COURSE)
    wait_for_session(page)
    page.select_option("#step-unit", "phase")

    def one_update(name: str):
        before = weights(page)
        step_until(page, "update")
        freeze_motion_at(page, 0.2)    # the flash at its darkest
        page.locator("#diagram").screenshot(path=str(ARTIFACTS / f"issue11-{name}.png"))
        after = weights(page)
        dW = [abs(a - b) for a, b in zip(flat(after), flat(before))]
        return dW, [w for layer in edge_widths(page, "nd-fx") for w in layer], legend(page)["flash"]

    dW1, widths1, text1 = one_update("flash-alpha")
    assert "step 1's largest" in text1, text1
    S = numbers_after("full width at", text1)[0]
    assert S == pytest.approx(2 * max(dW1), rel=5e-3), text1
    for w, d in zip(widths1, dW1):
        assert w == pytest.approx(1 + 6 * min(1, d / S), abs=0.015)

    alpha = api(page)["config"]["learning_rate"]
    page.fill("#input-learning_rate", "0.3")
    page.dispatch_event("#input-learning_rate", "change")
    wait_until(page, "fetch(`/api/sessions/${document.getElementById('session-id').value}`)"
               ".then(r => r.json()).then(s => s.config.learning_rate === 0.3)")
    assert alpha == 0.03

    dW2, widths2, text2 = one_update("flash-10alpha")
    assert numbers_after("full width at", text2) == [S] and "step 1's largest" in text2, "the scale is held"
    for w, d in zip(widths2, dW2):
        assert w == pytest.approx(1 + 6 * min(1, d / S), abs=0.015)
    unsaturated = [k for k, d in enumerate(dW2) if d < 0.9 * S and widths1[k] - 1 >= 0.05]
    assert len(unsaturated) >= 3, "pick α so that some edges stay below full width"
    ratios = [(widths2[k] - 1) / (widths1[k] - 1) for k in unsaturated]
    assert 8.5 < statistics.median(ratios) < 11.5, ratios
    assert max(widths2) > max(widths1) + 2, "the bigger update looks bigger"
    assert page.errors == []


PACKETS = """(() => [...document.querySelectorAll('#diagram .nd-fx')]
    .filter(g => /\\b(fwd|bwd)-[ab]\\b/.test(g.getAttribute('class')))
    .map(g => {
        const p = g.querySelector('path');
        const offset = parseFloat(getComputedStyle(p).strokeDashoffset);
        const at = Math.max(0, Math.min(100, -offset));   // the dash starts at −offset (pathLength 100)
        return {layer: +g.dataset.layer, dir: g.getAttribute('class').match(/(fwd|bwd)/)[1],
                moving: p.getAnimations().some(a => a.playState === 'running'),
                x: p.getPointAtLength(at / 100 * p.getTotalLength()).x};
    }))()"""


def moving_packet(page):
    running = [p for p in page.evaluate(PACKETS) if p["moving"]]
    return running[0] if running else None


def test_slower_mode_sends_the_signal_along_the_edges_and_holds_each_phase(page, live_server):
    """Playing at speed "slower": a dash travels each weight layer left→right in the forward
    pass and right→left in the backward pass, and each phase stays ~2 s on screen."""
    open_page(page, live_server, "seed=1&speed=slower")
    wait_for_session(page)
    assert page.locator("#input-speed").input_value() == "slower"
    page.locator("#btn-play").click()
    seen: dict[str, list] = {"fwd": [], "bwd": []}
    changes: list[float] = []
    shots: set[str] = set()
    last = caption(page)
    end = time.monotonic() + 16
    while time.monotonic() < end and not (len(seen["bwd"]) >= 6 and len(changes) >= 5):
        cap = caption(page)
        if cap != last:
            changes.append(time.monotonic())
            last = cap
        p = moving_packet(page)
        if p:
            seen[p["dir"]].append((p["layer"], cap, p["x"]))
            if p["dir"] not in shots and len(seen[p["dir"]]) >= 6:     # about halfway along
                shots.add(p["dir"])
                page.locator("#diagram").screenshot(path=str(ARTIFACTS / f"issue11-signal-{p['dir']}.png"))
                lg = legend(page)["signal"]
                assert ("moving dash →" if p["dir"] == "fwd" else "moving dash ←") in lg, lg
        time.sleep(0.12)
    page.locator("#btn-play").click()
    for direction, sign in (("fwd", 1), ("bwd", -1)):
        samples = seen[direction]
        assert len(samples) >= 2, f"no {direction} signal seen moving: {seen}"
        # consecutive samples of the same wave (same layer, same phase) move the right way
        steps = [b[2] - a[2] for a, b in zip(samples, samples[1:]) if a[:2] == b[:2]]
        assert steps and all(sign * s >= 0 for s in steps) and sign * sum(steps) > 20, (direction, samples)
    assert all("Forward" in cap for _, cap, _ in seen["fwd"])
    assert all("Backpropagation" in cap for _, cap, _ in seen["bwd"])
    gaps = [b - a for a, b in zip(changes, changes[1:])]
    assert gaps and 1.6 < statistics.median(gaps) < 2.8, gaps    # config: "one phase every 2 s"
    assert page.errors == []


def test_reduced_motion_shows_no_moving_signal_and_no_flash(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    try:
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        open_page(pg, live_server, COURSE)
        wait_for_session(pg)
        pg.select_option("#step-unit", "phase")
        for word in ("Forward", "δ of layer 3", "update"):
            assert word in step_until(pg, word)
            assert pg.evaluate(PACKETS) == []
            assert pg.evaluate("[...document.querySelectorAll('#diagram .nd-fx path')].every(p =>"
                               " p.getAnimations().length === 0 && (getComputedStyle(p).visibility === 'hidden'"
                               " || getComputedStyle(p.parentNode).display === 'none'))")
            lg = legend(pg)
            assert lg["signal"] is None and lg["flash"] is None
            assert lg["dot"] and lg["bias"]
        assert errors == []
    finally:
        context.close()


MARK_CLASHES = """(() => {
    const rect = (el) => {
        const r = el.getBoundingClientRect();
        const half = el.classList.contains('nd-ring') ? parseFloat(getComputedStyle(el).strokeWidth) / 2 : 0;
        return [r.left - half, r.top - half, r.right + half, r.bottom + half];
    };
    const units = [...document.querySelectorAll('#diagram .nd-node[data-kind=node]')].map(g => ({
        id: g.dataset.layer + ':' + g.dataset.unit,
        parts: [...g.querySelectorAll('.nd-box, .nd-ring:not(.off), .nd-badge:not(.off), .nd-bias')].map(rect)}));
    const clashes = [];
    units.forEach((u, k) => units.slice(k + 1).forEach(v => u.parts.forEach(a => v.parts.forEach(b => {
        if (Math.min(a[2], b[2]) - Math.max(a[0], b[0]) > 0.5 && Math.min(a[3], b[3]) - Math.max(a[1], b[1]) > 0.5)
            clashes.push([u.id, v.id]);
    }))));
    return clashes;
})()"""


@pytest.mark.parametrize("units", [25, 32])
def test_digits_with_25_and_32_hidden_units_stays_readable(page, live_server, units):
    open_page(page, live_server, f"seed=1&dataset=digits&layers={units}")
    wait_until(page, f"document.querySelectorAll('#diagram [data-kind=node][data-layer=\"1\"]').length === {units}")
    page.wait_for_timeout(400)
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / f"issue11-digits-{units}.png"))
    assert page.locator('#diagram [data-kind=node][data-layer="2"]').count() == 10
    assert_units_inside_and_apart(page, f"digits-{units}")
    # …and so do their marks: a unit's δ ring (with its stroke), dot and diamond never
    # cross another unit's box or marks (rings did, in a column staggered 3 wide)
    clashes = page.evaluate(MARK_CLASHES)
    assert clashes == [], clashes[:5]
    # the output labels (0…9, "◂ predicted") stay apart too
    labels = page.evaluate("[...document.querySelectorAll('#diagram .nd-out-label')]"
                           ".map(t => t.getBoundingClientRect()).map(r => [r.top, r.bottom])")
    labels.sort()
    assert all(a[1] <= b[0] + 0.5 for a, b in zip(labels, labels[1:])), labels
    assert page.errors == []
