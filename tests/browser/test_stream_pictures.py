"""While playing, the server sends a unit's heatmaps and the boundary only when they look
different (docs/frames.md); the page still hands every frame on with the latest ones,
and the diagram's heatmaps keep changing as the network learns."""

import time

from tests.browser.test_page import open_page, wait_until
from tests.conftest import ARTIFACTS

RECORD = """() => { window.__pictures = [];
  document.addEventListener('bpl:frame', (e) => window.__pictures.push(
    [e.detail.step, e.detail.heatmaps_step, JSON.stringify(e.detail.heatmaps ?? null).length,
     e.detail.boundary ? e.detail.boundary.data.length : 0])); }"""

HEAT = """() => [...document.querySelectorAll('#diagram canvas.nd-heat')].filter(c => !c.hidden)
  .map(c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data).join(',')).join(';')"""


def test_every_frame_reaches_the_page_with_heatmaps_while_few_carry_them(page, live_server):
    open_page(page, live_server, "seed=1&layers=8,8,8,8,8,8&dataset=spiral&batch_size=1&speed=max")
    wait_until(page, "document.querySelectorAll('#diagram canvas.nd-heat').length > 0")
    page.evaluate(RECORD)
    before = page.evaluate(HEAT)
    page.locator("#btn-play").click()
    wait_until(page, "window.__pictures.length >= 60", 20)
    time.sleep(0.3)
    page.locator("#btn-play").click()            # pause
    wait_until(page, "document.body.dataset.status === 'paused'")
    frames = page.evaluate("window.__pictures")
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / "stream-pictures-big.png"))
    assert all(size > 1000 and boundary > 1000 for _, _, size, boundary in frames)   # never missing
    drawn_at = {hm_step for _, hm_step, _, _ in frames}
    assert all(hm_step <= step for step, hm_step, _, _ in frames)
    assert 3 <= len(drawn_at) < len(frames)      # redrawn while playing, not with every frame
    wait_until(page, f"({HEAT})() !== {before!r}".replace("\n", " "), 5)
    assert page.errors == []


def test_the_stream_asks_for_as_many_frames_as_the_page_shows(page, live_server):
    open_page(page, live_server)
    decide = ("([fps, received, shown, seconds]) => import('/static/js/stream.js')"
              ".then(m => m.nextFps(fps, received, shown, seconds))")
    ask = lambda *a: page.evaluate(decide, list(a))  # noqa: E731
    assert ask(60, 55, 12, 1.0) == 14            # shows 12 of 55: ask for 1.1 × 12
    assert ask(60, 55, 50, 1.0) is None          # shows nearly all: keep
    assert ask(14, 14, 14, 1.0) == 28            # shows all it gets at the cap: twice as many
    assert ask(40, 55, 50, 1.0) is None          # 0.8–0.95 of them: keep
    assert ask(60, 50, 0, 1.0) == 4              # a background tab shows none: the least
    assert ask(60, 5, 0, 1.0) is None            # paused or stepping: too few to judge
    assert ask(4, 4, 4, 1.0) == 8                # a low pace can still climb back
    assert ask(32, 40, 40, 1.0) == 60            # never above 60


def test_a_slow_page_gets_fewer_frames_and_more_once_it_is_fast_again(page, live_server):
    open_page(page, live_server, "seed=1&layers=8,8,8,8,8,8&dataset=spiral&batch_size=1&speed=max")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 8})
    try:
        page.evaluate("() => { window.__got = 0; document.addEventListener('bpl:frame', () => window.__got++); }")
        page.locator("#btn-play").click()
        wait_until(page, "Number(document.body.dataset.streamFps) < 60", 20)
        assert "frames a second" in page.locator("#connection").get_attribute("title")
        time.sleep(1.5)                          # the paced stream is open
        asked = int(page.evaluate("document.body.dataset.streamFps"))
        got0, t0 = page.evaluate("[window.__got, performance.now()]")
        time.sleep(3)
        got1, t1 = page.evaluate("[window.__got, performance.now()]")
        rate = (got1 - got0) / ((t1 - t0) / 1000)
        # the server keeps to what the page asked for (asked may still change once)
        assert rate <= 2 * asked + 2, (rate, asked)
    finally:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    slow = int(page.evaluate("document.body.dataset.streamFps"))
    wait_until(page, f"Number(document.body.dataset.streamFps) >= {min(60, 2 * slow)}", 20)
    page.locator("#btn-play").click()
    assert page.errors == []
