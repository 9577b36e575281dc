"""One machine, N processes: gunicorn app processes on 127.0.0.1:5001…, nginx in front
routing each session to one of them, all sharing one session store.

    python3 deploy/cluster.py                          # one process per core, nginx on 127.0.0.1:8080
    python3 deploy/cluster.py --processes 4 --listen 0.0.0.0:80 \\
        --store redis://127.0.0.1:6379/0
    python3 deploy/cluster.py --print-nginx > /etc/nginx/conf.d/backprop-lens.conf

The store defaults to BPL_STORE or the SQLite file instance/sessions.db (fine for one
machine); several machines need Redis. Ctrl-C (or SIGTERM) stops everything. The tests
use the functions below to start the same setup.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("nginx.conf.in")


def render_nginx(listen: str, upstreams: list[str], run_dir: Path | str, workers: str = "auto") -> str:
    """The nginx configuration for these app addresses ("host:port")."""
    servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=5s;" for u in upstreams)
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    return (TEMPLATE.read_text().replace("@WORKERS@", workers).replace("@RUN@", str(run_dir))
            .replace("@USER@", user).replace("@UPSTREAMS@", servers).replace("@LISTEN@", listen))


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def start_app(address: str, env: dict[str, str] | None = None, log=subprocess.DEVNULL) -> subprocess.Popen:
    """`gunicorn -c gunicorn.conf.py "app:create_app()"` bound to `address`, in its own
    process group (a kill of the group takes gunicorn and its worker); waits for /healthz."""
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                             "app:create_app()"], cwd=ROOT, env={**os.environ, **(env or {}), "BPL_BIND": address},
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_until_up(f"http://{address}/healthz", proc)
    return proc


def start_nginx(config: str, run_dir: Path, probe: str) -> subprocess.Popen:
    """nginx in the foreground with `config` (written to run_dir/nginx.conf); waits until
    `probe` (a URL through it) answers."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "nginx.conf").write_text(config)
    proc = subprocess.Popen(["nginx", "-p", str(run_dir), "-c", str(run_dir / "nginx.conf"), "-e",
                             str(run_dir / "error.log"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_until_up(probe, proc, 15)
    except RuntimeError:
        proc.kill()
        raise RuntimeError("nginx did not start:\n" + (run_dir / "error.log").read_text()[-2000:]) from None
    return proc


def stop(proc: subprocess.Popen, wait: float = 10) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="app processes (default: one per core)")
    parser.add_argument("--listen", default="127.0.0.1:8080", help="nginx's address (default 127.0.0.1:8080)")
    parser.add_argument("--first-port", type=int, default=5001, help="app processes listen on 127.0.0.1:PORT…")
    parser.add_argument("--store", default=os.environ.get("BPL_STORE", ""),
                        help="BPL_STORE for every process (default: BPL_STORE or instance/sessions.db)")
    parser.add_argument("--run-dir", default=str(ROOT / "instance" / "nginx"),
                        help="nginx's pid, log and temp files (default instance/nginx)")
    parser.add_argument("--upstreams", help="with --print-nginx: comma-separated app addresses "
                                            "(host:port) instead of 127.0.0.1:PORT…")
    parser.add_argument("--print-nginx", action="store_true", help="print the nginx configuration and exit")
    args = parser.parse_args()

    upstreams = args.upstreams.split(",") if args.upstreams else \
        [f"127.0.0.1:{args.first_port + k}" for k in range(args.processes)]
    run_dir = Path(args.run_dir).resolve()
    config = render_nginx(args.listen, upstreams, run_dir)
    if args.print_nginx:
        print(config)
        return
    store = args.store or f"sqlite:///{ROOT / 'instance' / 'sessions.db'}"
    host, _, port = args.listen.rpartition(":")
    allowed = os.environ.get("BPL_ALLOWED_HOSTS") or (
        f"127.0.0.1:{port},localhost:{port}" if host in ("", "0.0.0.0", "127.0.0.1") else args.listen)
    env = {"BPL_STORE": store, "BPL_ALLOWED_HOSTS": allowed}
    procs: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for address in upstreams:
            procs.append(start_app(address, env, log=None))
        probe = f"http://{'127.0.0.1' if host in ('', '0.0.0.0', '[::]') else host}:{port}/healthz"
        procs.append(start_nginx(config, run_dir, probe))
        print(f"Backprop Lens: http://{args.listen}/ → {args.processes} processes, store {store}", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print("a process exited; stopping", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for p in reversed(procs):
            stop(p)


if __name__ == "__main__":
    main()
