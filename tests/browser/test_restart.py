"""A server restart with the page open: the page says "reconnecting…", then rebuilds
its session from the configuration in its URL and carries on, with no JS errors."""

import json
import time

from tests.browser.test_page import wait_until
from tests.conftest import ARTIFACTS, free_port, start_server, watched_page


def restart(server, port: int, page, screenshot: str | None = None):
    """Stop the server, see the page say "reconnecting…", start it again in the same
    folder and wait until the page is live: the new server process."""
    server.terminate()
    server.wait(timeout=10)
    wait_until(page, "document.getElementById('connection').textContent.includes('reconnecting')")
    if screenshot:
        page.screenshot(path=str(ARTIFACTS / screenshot))
    server = start_server(port)
    wait_until(page, "document.body.dataset.connection === 'live'", timeout=20)
    return server


def test_page_recovers_after_a_server_restart(browser):
    port = free_port()
    server = start_server(port)
    context, page, uncaught = watched_page(browser)
    try:
        page.goto(f"http://127.0.0.1:{port}/?seed=77&layers=3,3&dataset=xor")
        page.wait_for_selector("#diagram [data-kind=node]")
        old_id = page.evaluate("document.getElementById('session-id').value")
        nodes = page.locator("#diagram [data-kind=node]").count()

        server = restart(server, port, page, "page-reconnecting.png")
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


def test_a_csv_session_comes_back_after_a_restart(browser):
    """Issue 14 #7: after an upload, a restart used to leave the page "reconnecting…" for
    ever. The store keeps the upload: the page gets its CSV session back and trains it."""
    from tests.browser.test_csv import DATA, upload

    port = free_port()
    server = start_server(port)
    context, page, uncaught = watched_page(browser)
    try:
        page.goto(f"http://127.0.0.1:{port}/?seed=3")
        page.wait_for_selector("#diagram [data-kind=node]")
        upload(page, DATA / "iris_semicolon.csv")
        wait_until(page, "location.search.includes('dataset=csv')")
        old_id = page.evaluate("document.getElementById('session-id').value")
        wait_until(page, "document.querySelectorAll('#diagram [data-kind=node]').length === 4 + 4 + 2 + 3")
        nodes = page.locator("#diagram [data-kind=node]").count()   # iris: 4 inputs, 3 classes

        server = restart(server, port, page)
        assert page.evaluate("document.getElementById('session-id').value") == old_id
        assert "dataset=csv" in page.url
        assert page.locator("#diagram [data-kind=node]").count() == nodes       # the CSV's network
        page.select_option("#step-unit", "epoch")
        page.locator("#btn-step").click()
        wait_until(page, "Number(document.getElementById('epoch').textContent) >= 1")
        assert uncaught == []
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=10)


def test_a_refused_stream_waits_as_long_as_retry_after_says(browser):
    """Issue 14 #7: when the server's streams are all taken (503, Retry-After: 2), the page
    waits between attempts instead of reopening at once, and goes live when one frees."""
    import os
    import threading
    import urllib.request

    port = free_port()
    server = start_server(port, env={**os.environ, "BPL_MAX_TOTAL_STREAMS": "1"})
    base = f"http://127.0.0.1:{port}"
    request = urllib.request.Request(f"{base}/api/sessions", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json", "Origin": base})
    other = json.loads(urllib.request.urlopen(request, timeout=5).read())["id"]
    holder = urllib.request.urlopen(f"{base}/api/sessions/{other}/events", timeout=30)   # the one slot
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    probes = []     # the page's HEAD probes of the stream, one per attempt
    page.on("request", lambda r: probes.append(time.monotonic())
            if r.url.endswith("/events") and r.method == "HEAD" else None)
    try:
        page.goto(f"{base}/?seed=5")
        page.wait_for_selector("#diagram [data-kind=node]")
        page.wait_for_timeout(6500)      # (Playwright's own wait: events arrive as they happen)
        assert page.evaluate("document.body.dataset.connection") != "live"
        # Retry-After is 2 s: one attempt per 2 s, never a burst.
        assert 2 <= len(probes) <= 4, probes
        gaps = [b - a for a, b in zip(probes, probes[1:])]
        assert all(g >= 1.8 for g in gaps), gaps
        threading.Thread(target=holder.close).start()
        wait_until(page, "document.body.dataset.connection === 'live'", timeout=15)
    finally:
        holder.close()
        context.close()
        server.terminate()
        server.wait(timeout=10)
