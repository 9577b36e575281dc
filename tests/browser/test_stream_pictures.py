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
