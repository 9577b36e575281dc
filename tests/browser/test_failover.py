"""Failover in Chromium: a page served through nginx by two app processes sharing Redis.
The process that trains the page's session is killed with SIGKILL; the page says
"reconnecting…", then carries on with *its own* session (same id, training on from where
the store had it) on the other process, by itself and with no JS errors."""

from tests.browser.test_page import wait_until
from tests.conftest import ARTIFACTS, watched_page
from tests.test_cluster import Cluster, until

STEP = "Number(document.getElementById('step').textContent.replace(/,/g, ''))"


def test_page_reconnects_to_its_own_session_when_its_process_dies(browser, tmp_path):
    cluster = Cluster(tmp_path)
    context, page, uncaught = watched_page(browser)
    try:
        page.goto(f"http://127.0.0.1:{cluster.port}/?seed=21&layers=4,2&dataset=circle")
        page.wait_for_selector("#diagram [data-kind=node]")
        wait_until(page, "document.body.dataset.connection === 'live'", timeout=20)
        sid = page.evaluate("document.getElementById('session-id').value")
        page.locator("#btn-play").click()
        wait_until(page, f"{STEP} > 200", timeout=20)
        page.wait_for_timeout(3000)             # a record of the running session is in the store
        owner = until("the session leased to a process", lambda: cluster.owner(sid) is not None, 5) and \
            cluster.owner(sid)
        restored_at_least = page.evaluate(STEP)

        cluster.kill(owner)
        wait_until(page, "document.getElementById('connection').textContent.includes('reconnecting')"
                         " || document.body.dataset.connection !== 'live'", timeout=10)
        page.screenshot(path=str(ARTIFACTS / "failover-reconnecting.png"))
        wait_until(page, "document.body.dataset.connection === 'live'", timeout=30)
        wait_until(page, f"{STEP} > {restored_at_least}", timeout=30)   # training goes on over there
        assert page.evaluate("document.getElementById('session-id').value") == sid
        assert cluster.owner(sid) == 1 - owner
        assert page.locator("#connection").inner_text() == ""
        page.screenshot(path=str(ARTIFACTS / "failover-live.png"))
        assert uncaught == []
    finally:
        context.close()
        cluster.close()
