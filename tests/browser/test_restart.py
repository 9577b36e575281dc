"""A server restart with the page open: the page says "reconnecting…", then rebuilds
its session from the configuration in its URL and carries on, with no JS errors."""

import time

from tests.browser.test_page import wait_until
from tests.conftest import ARTIFACTS, free_port, start_server


def test_page_recovers_after_a_server_restart(browser):
    port = free_port()
    server = start_server(port)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    uncaught = []
    page.on("pageerror", lambda e: uncaught.append(str(e)))
    try:
        page.goto(f"http://127.0.0.1:{port}/?seed=77&layers=3,3&dataset=xor")
        page.wait_for_selector("#diagram [data-kind=node]")
        old_id = page.evaluate("document.getElementById('session-id').value")
        nodes = page.locator("#diagram [data-kind=node]").count()

        server.terminate()
        server.wait(timeout=10)
        wait_until(page, "document.getElementById('connection').textContent.includes('reconnecting')")
        page.screenshot(path=str(ARTIFACTS / "page-reconnecting.png"))

        server = start_server(port)
        wait_until(page, "document.body.dataset.connection === 'live'", timeout=20)
        new_id = page.evaluate("document.getElementById('session-id').value")
        assert new_id == old_id   # the durable store: the page gets its own session back
        assert page.locator("#connection").inner_text() == ""
        assert page.locator("#diagram [data-kind=node]").count() == nodes
        assert "seed=77" in page.url and "dataset=xor" in page.url
        # the recovered session works: play trains it
        page.locator("#btn-play").click()
        time.sleep(1.0)
        page.locator("#btn-play").click()
        wait_until(page, "Number(document.getElementById('step').textContent.replace(/,/g, '')) > 0")
        assert uncaught == []
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=10)
