"""Shared fixtures: the app and its test client; a live server for stream and browser tests."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def own_store(tmp_path, monkeypatch):
    """Every test gets a session store of its own (servers it starts inherit it), so no
    test meets another's records or leases in the instance folder."""
    monkeypatch.setenv("BPL_STORE", f"sqlite:///{tmp_path / 'sessions.db'}")


@pytest.fixture
def app():
    app = create_app({"TESTING": True, "STREAM_HEARTBEAT": 0.5, "STREAM_MAX_SECONDS": 5.0})
    yield app
    app.extensions["sessions"].close_all()


@pytest.fixture
def client(app):
    return app.test_client()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict | None = None) -> subprocess.Popen:
    """`python -m app` on 127.0.0.1:port, as a user runs it; waits until it answers."""
    proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def watched_page(browser, width: int = 1280, height: int = 800):
    """(context, page, uncaught errors) in a fresh browser context; close the context."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    uncaught: list[str] = []
    page.on("pageerror", lambda e: uncaught.append(str(e)))
    return context, page, uncaught


@pytest.fixture(scope="session")
def live_server():
    port = free_port()
    proc = start_server(port)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A 1280×800 page (a projector) that records console errors and page errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    ARTIFACTS.mkdir(exist_ok=True)
    yield pg
    context.close()
