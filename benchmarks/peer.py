"""Our page and a peer page (TF Playground, served by you) side by side in one Chromium:
the same figures for both, measured interleaved, printed as medians and ratios ours/peer.

The peer is given by URL (`--peer http://127.0.0.1:PORT/`): this script never fetches,
builds or serves it. Build TF Playground from its repository with npm in a folder outside
this one and serve its `dist/` on 127.0.0.1 (see benchmarks/README.md). Its networks are
set through its URL hash, ours through the query:

- default: 2-4-2-1 tanh, batch 10, circle, lr 0.03, 50 % training data (TF Playground's
  own default network);
- big: 2-8-8-8-8-8-8-1 tanh, batch 1, spiral.

For each of --runs runs (default 3), in alternating order (ours, peer; peer, ours; ...):

1. a cold load of the default network in a fresh context: navigation → first contentful
   paint; navigation → the first node heatmap painted (ours: benchmarks.page's
   HEAT_SELECTOR, a unit's `canvas.nd-heat` shown or the HTML's heatmap image, its data there;
   the peer's: a node's canvas in `#network`; "painted" as in benchmarks.page,
   after the rendering update that drew it); the first load's bytes as gzip: every
   response body compressed at gzip level 6 (as a server would send it; our server
   gzips, Python's http.server does not), plus the stream's bytes as received, until no
   request has been open for 1 s (our lazily loaded Plotly included);
2. each network playing for --seconds (default 5) in a fresh context, after 1 s of play:
   frames/s that show new training (ours: rendering updates of a requestAnimationFrame
   loop with a new SSE frame since the last; the peer's: every callback of that loop,
   since it trains one step per animation frame), main thread busy
   (CDP TaskDuration growth ÷ wall time; ThreadTime beside it), and epochs/s while live —
   ours from the API's counter (`GET /api/sessions/<id>` → `epoch`), the peer's from its
   on-page counter (`#iter-number`: one iteration is one epoch of its training data).

Both pages run with every host but 127.0.0.1 unresolvable (a Chromium host rule), so the
peer's Google Fonts and analytics fail at once instead of timing out; their bytes are not
counted. The 1-minute load average is printed at the start and the end, and the
machine's calibration beside it: bare engine epochs/s (`train_epoch`) of the default
network, measured in this process at the start and at the end.

Two options change the conditions for both pages alike: `--cpu-throttle RATE` slows the
page's renderer RATE times (a student's small laptop; the server keeps this machine's CPU,
as a classroom server would), and `--uncapped` lifts the 60 Hz frame-rate limit.

    python -m benchmarks.peer --peer http://127.0.0.1:PORT/ [--runs 3] [--seconds 5]
                              [--cpu-throttle RATE] [--uncapped] [--only first-load|playing]
                              [--chromium PATH] [--json PATH]
"""

import argparse
import base64
import gzip
import json
import os
import time
from urllib.parse import urlsplit

from .common import (
    blas_limited,
    blas_threads,
    fmt,
    load_average,
    machine_description,
    median,
    playground_epochs,
    print_table,
    ratio_summary,
    write_json,
)
from .page import (
    CHROMIUM_ARGS,
    HEAT_SELECTOR,
    NETWORKS,
    SETTLE,
    NetworkLog,
    chromium_path,
    metrics,
    new_page,
    set_status,
    snapshot,
    wait_for,
    window_figures,
)
from .stream import HOST, call, server

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - benchmark-only dependency
    sync_playwright = None

# TF Playground's hash keys (src/state.ts); every field it reads, so nothing is left to chance.
_PEER_COMMON = ("activation=tanh&regularization=none&regDataset=reg-plane&learningRate=0.03"
                "&regularizationRate=0&noise=0&seed=0.1&showTestData=false&discretize=false"
                "&percTrainData=50&x=true&y=true&xTimesY=false&xSquared=false&ySquared=false"
                "&cosX=false&sinX=false&cosY=false&sinY=false&collectStats=false"
                "&problem=classification&initZero=false&hideText=false")
PEER_HASH = {
    "default": f"#{_PEER_COMMON}&batchSize=10&dataset=circle&networkShape=4,2",
    "big": f"#{_PEER_COMMON}&batchSize=1&dataset=spiral&networkShape=8,8,8,8,8,8",
}
# Only 127.0.0.1 resolves: the peer's external fonts and analytics fail immediately.
ARGS = [*CHROMIUM_ARGS, f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}"]
# --uncapped: no vsync, no frame-rate limit, so a page renders as many frames as its work
# allows. At the display's 60 Hz both pages can sit at the ceiling and the ratio says
# nothing; uncapped, frames/s measures the page's headroom.
UNCAPPED = ["--disable-frame-rate-limit", "--disable-gpu-vsync"]
GZIP_LEVEL = 6

# The first node heatmap: a MutationObserver sees `selector` match, then the time after
# the rendering update that paints it (window.__bench.afterPaint of benchmarks.page); for
# an image with elementtiming="heat" (ours, drawn by the server), the paint time Chromium
# reports for it (benchmarks.page's init script), whichever is earlier.
HEAT_SCRIPT = r"""
((selector) => {
  const B = window.__bench;
  if (window !== window.top || !B || B.heatSelector) return;
  B.heatSelector = selector;
  B.firstHeat = null;
  B.firstHeatPaint = null;
  const watch = new MutationObserver(() => {
    if (B.firstHeat !== null || !document.querySelector(selector)) return;
    watch.disconnect();
    B.firstHeat = performance.now();
    // the earliest paint wins: benchmarks.page's init script may have timed a server image
    B.afterPaint((t) => { if (B.firstHeatPaint === null || t < B.firstHeatPaint) B.firstHeatPaint = t; });
  });
  watch.observe(document, { childList: true, subtree: true, attributes: true,
                            attributeFilter: ["hidden", "class", "style", "width", "data-loaded"] });
})(%s);
"""
COLD = """() => {
  const B = window.__bench;
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return {fcp: fcp ? fcp.startTime : null, heat: B.firstHeatPaint, heat_in_dom: B.firstHeat};
}"""
TARGETS = {  # issue 13: ratio ours/peer (and an absolute floor for frames/s)
    "fps_default": ("≥", 2.0, 55), "fps_big": ("≥", 4.0, 55),
    "busy_default": ("≤", 0.5, None), "busy_big": ("≤", 0.5, None),
    "epochs_default": ("≥", 3.0, None), "epochs_big": ("≥", 3.0, None),
    "heat_ms": ("≤", 0.6, None), "fcp_ms": ("≤", 1.0, None), "gzip_bytes": ("≤", 2.5, None),
}
LABELS = {
    "fps_default": "frames/s, default 2-4-2-1 batch 10 circle",
    "fps_big": "frames/s, big 2-8×6-1 batch 1 spiral",
    "busy_default": "main thread busy while playing, default",
    "busy_big": "main thread busy while playing, big",
    "epochs_default": "epochs/s while live, default",
    "epochs_big": "epochs/s while live, big",
    "heat_ms": "navigation → first node heatmap painted",
    "fcp_ms": "first contentful paint",
    "gzip_bytes": "first load, bytes as gzip",
}


class Side:
    """One page of the comparison: where it is, how to play and pause it, its epoch counter."""

    throttle = 1.0      # CPU slow-down of the page's renderer (--cpu-throttle), both sides alike

    def __init__(self, name: str, base: str, urls: dict[str, str], heat: str, pid: int = 0) -> None:
        self.name, self.base, self.urls, self.heat, self.pid = name, base, urls, heat, pid

    def open(self, browser, network: str, log: bool = False):
        context, page = new_page(browser, self.base)
        page.add_init_script(HEAT_SCRIPT % json.dumps(self.heat))
        cdp = context.new_cdp_session(page)
        if self.throttle > 1:
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": self.throttle})
        network_log = NetworkLog(cdp) if log else None
        page.goto(self.urls[network])
        wait_for(page, "() => window.__bench.firstHeatPaint != null", what="paint a node heatmap")
        wait_for(page, "() => document.readyState === 'complete'", what="finish loading")
        return context, page, cdp, network_log

    def play(self, page) -> None:
        raise NotImplementedError

    def pause(self, page) -> None:
        raise NotImplementedError

    def epochs(self, page) -> float:
        raise NotImplementedError


class Ours(Side):
    def __init__(self, port: int, pid: int) -> None:
        super().__init__("ours", f"http://{HOST}:{port}", {k: "/?" + q for k, q in NETWORKS.items()},
                         HEAT_SELECTOR, pid)
        self.port = port

    def play(self, page) -> None:
        set_status(page, "running")

    def pause(self, page) -> None:
        set_status(page, "paused")

    def epochs(self, page) -> float:
        sid = page.evaluate("() => document.getElementById('session-id').value")
        status, body = call(self.port, "GET", f"/api/sessions/{sid}")
        if status != 200:
            raise SystemExit(f"GET /api/sessions/<id> answered {status}: {body}")
        return float(body["epoch"])


class Peer(Side):
    PLAYING = "() => document.getElementById('play-pause-button').classList.contains('playing')"

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        path = parts.path or "/"
        super().__init__("peer", base, {k: path + h for k, h in PEER_HASH.items()},
                         "#network .canvas canvas")

    def play(self, page) -> None:
        if not page.evaluate(self.PLAYING):
            page.click("#play-pause-button")
        wait_for(page, self.PLAYING, what="start playing")

    def pause(self, page) -> None:
        if page.evaluate(self.PLAYING):
            page.click("#play-pause-button")
        wait_for(page, f"() => !({self.PLAYING})()", what="pause")

    def epochs(self, page) -> float:
        text = page.evaluate("() => document.getElementById('iter-number').textContent")
        return float(text.replace(",", "").strip() or 0)


def timed_epochs(side: Side, page) -> tuple[float, float]:
    """(time, epochs): the counter read, timed at the middle of the read."""
    t0 = time.perf_counter()
    e = side.epochs(page)
    return (t0 + time.perf_counter()) / 2, e


# -- the two measurements ---------------------------------------------------------------------
def gzip_bytes(cdp, log: NetworkLog, origin: str) -> dict:
    """The first load's bytes: every response body gzipped, the stream as received."""
    bodies = streams = wire = 0
    files = []
    for rid, r in list(log.requests.items()):
        if not r["url"].startswith(origin) or r["status"] != 200:
            continue
        wire += r["wire"]
        if r["type"] == "EventSource":
            streams += r["decoded"]
            continue
        try:
            reply = cdp.send("Network.getResponseBody", {"requestId": rid})
        except Exception:           # noqa: BLE001 - a body Chromium no longer holds
            continue
        raw = base64.b64decode(reply["body"]) if reply.get("base64Encoded") else reply["body"].encode()
        size = len(gzip.compress(raw, GZIP_LEVEL))
        bodies += size
        files.append([urlsplit(r["url"]).path, size])
    files.sort(key=lambda f: -f[1])
    return {"gzip": bodies + streams, "bodies_gzip": bodies, "stream": streams, "wire": wire, "files": files}


def cold_load(browser, side: Side) -> dict:
    context, page, cdp, log = side.open(browser, "default", log=True)
    try:
        log.settle(page)
        out = page.evaluate(COLD)
        out.update(gzip_bytes(cdp, log, side.base))
    finally:
        context.close()
    return out


def playing(browser, side: Side, network: str, seconds: float) -> dict:
    context, page, cdp, _ = side.open(browser, network)
    try:
        cdp.send("Performance.enable")
        browser_cdp = browser.new_browser_cdp_session()
        page.wait_for_timeout(1000)                 # let the page settle (our charts load)
        page.evaluate("() => window.__bench.startLoop()")
        side.play(page)
        time.sleep(SETTLE)
        e0 = timed_epochs(side, page)
        a = snapshot(page, cdp, browser_cdp, side.pid)
        time.sleep(seconds)
        b = snapshot(page, cdp, browser_cdp, side.pid)
        e1 = timed_epochs(side, page)
        side.pause(page)
        page.evaluate("() => window.__bench.stopLoop()")
        figures = window_figures(page, a, b)
        figures["epochs_per_s"] = (e1[1] - e0[1]) / (e1[0] - e0[0])
        figures["heap_mb"] = metrics(cdp).get("JSHeapUsedSize", 0) / 2 ** 20
    finally:
        context.close()
    return figures


def one_run(browser, side: Side, seconds: float, only: str | None = None) -> dict:
    """Every figure of one side; `only` ("first-load" or "playing") skips the other half."""
    out = dict.fromkeys(TARGETS)
    if only != "playing":
        cold = cold_load(browser, side)
        out.update(heat_ms=cold["heat"], fcp_ms=cold["fcp"], gzip_bytes=cold["gzip"], wire_bytes=cold["wire"],
                   cold=cold)
    if only != "first-load":
        d = playing(browser, side, "default", seconds)
        b = playing(browser, side, "big", seconds)
        # frames that show new training: ours, rendering updates with a new SSE frame; the
        # peer trains one step in each of its animation frames, so every frame is new
        shown = lambda w: w["fps"] if w["shown_fps"] is None else w["shown_fps"]  # noqa: E731
        out.update(fps_default=shown(d), fps_big=shown(b), busy_default=d["busy"], busy_big=b["busy"],
                   thread_cpu_default=d["thread_cpu"], thread_cpu_big=b["thread_cpu"],
                   epochs_default=d["epochs_per_s"], epochs_big=b["epochs_per_s"], default=d, big=b)
    return out


# -- output ----------------------------------------------------------------------------------
def show(key: str, x: float | None) -> str:
    if x is None:
        return "—"
    if key.startswith("busy") or key.startswith("thread_cpu"):
        return f"{100 * x:.0f} %"
    if key.endswith("_ms"):
        return f"{x:,.0f} ms"
    if key.endswith("bytes"):
        return f"{x / 1024:,.1f} KB"
    return fmt(x)


def judge(key: str, ours: float, ratio: float) -> tuple[str, bool]:
    sign, goal, floor = TARGETS[key]
    ok = ratio >= goal if sign == "≥" else ratio <= goal
    text = f"{sign} {goal:g}×"
    if floor is not None:
        ok = ok and ours >= floor
        text += f" and ≥ {floor}"
    return text, ok


def table(runs: dict[str, list[dict]]) -> tuple[list[list[str]], dict]:
    rows, summary = [], {}
    for key in TARGETS:
        ours = [r[key] for r in runs["ours"]]
        peer = [r[key] for r in runs["peer"]]
        if any(v is None for v in ours + peer) or any(v == 0 for v in peer):
            rows.append([LABELS[key], "—", "—", "—", "", "no figure"])
            continue
        ratio, lo, hi = ratio_summary(ours, peer)
        goal, ok = judge(key, median(ours), ratio)
        summary[key] = {"ours": median(ours), "peer": median(peer), "ratio": ratio, "range": [lo, hi], "met": ok}
        rows.append([LABELS[key], show(key, median(ours)), show(key, median(peer)),
                     f"{ratio:.2f}× ({lo:.2f}–{hi:.2f})", goal, "pass" if ok else "FAIL"])
    return rows, summary


def details(runs: dict[str, list[dict]]) -> list[list[str]]:
    rows = []
    for key, label in (("thread_cpu_default", "main thread CPU (ThreadTime), default"),
                       ("thread_cpu_big", "main thread CPU (ThreadTime), big"),
                       ("wire_bytes", "first load as served (wire, headers included)")):
        if any(r.get(key) is None for r in runs["ours"] + runs["peer"]):
            continue
        rows.append([label, show(key, median([r[key] for r in runs["ours"]])),
                     show(key, median([r[key] for r in runs["peer"]]))])
    for net in ("default", "big"):
        if any(net not in r for r in runs["ours"] + runs["peer"]):
            continue
        for key, label in (("frames_per_s", "SSE frames/s"), ("fps", "rendered frames/s (rAF loop)"),
                           ("page_raf_per_s", "page's rAF callbacks/s"),
                           ("frame_interval_p95_ms", "p95 frame interval (ms)"), ("heap_mb", "JS heap (MB)")):
            rows.append([f"{label}, {net}", fmt(median([r[net][key] or 0 for r in runs["ours"]])),
                         fmt(median([r[net][key] or 0 for r in runs["peer"]]))])
    return rows


def calibrate_machine() -> float:
    """Bare engine epochs/s of the default network at one BLAS thread (as benchmarks.engine)."""
    with blas_limited(1):
        return playground_epochs([2, 4, 2, 1], "circle", 10, 3, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__.split("\n")[0])
    parser.add_argument("--peer", required=True, metavar="URL", help="the peer page, e.g. http://127.0.0.1:8000/")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per side (default 3)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per playing window (default 5)")
    parser.add_argument("--chromium", metavar="PATH", help="the Chromium to drive (default: chromium on PATH)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this JSON file")
    parser.add_argument("--cpu-throttle", type=float, default=1.0, metavar="RATE",
                        help="slow both pages' renderer down RATE times (CDP Emulation.setCPUThrottlingRate): "
                             "a student's small laptop, while the server keeps this machine's CPU (default 1)")
    parser.add_argument("--uncapped", action="store_true",
                        help="render without vsync or frame-rate limit: frames/s is each page's headroom, "
                             "not the display's 60 Hz ceiling")
    parser.add_argument("--only", choices=["first-load", "playing"],
                        help="measure only the cold first loads, or only the playing windows")
    args = parser.parse_args()
    if sync_playwright is None:
        raise SystemExit("this benchmark needs Playwright for Python: pip install playwright")
    if not 1 <= args.runs <= 20 or not 1 <= args.seconds <= 60 or not 1 <= args.cpu_throttle <= 20:
        parser.error("--runs 1–20, --seconds 1–60, --cpu-throttle 1–20")
    Side.throttle = args.cpu_throttle
    if urlsplit(args.peer).hostname not in (HOST, "localhost"):
        parser.error(f"--peer must be served on {HOST}")
    start_load = load_average()
    print(f"Backprop Lens vs peer — {machine_description()}")
    print(f"NumPy BLAS: {blas_threads()}")
    calibration = [calibrate_machine()]
    print(f"calibration: bare engine epochs/s, 2-4-2-1 tanh batch 10 circle: {fmt(calibration[0])}", flush=True)
    figures: dict = {"machine": machine_description(), "load_at_start": start_load, "peer_url": args.peer,
                     "runs": {"ours": [], "peer": []}}
    executable = chromium_path(args.chromium)
    with server() as (port, process), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=ARGS + (UNCAPPED if args.uncapped else []),
                                     headless=True)
        figures["uncapped"], figures["cpu_throttle"] = args.uncapped, args.cpu_throttle
        try:
            sides = [Ours(port, process.pid), Peer(args.peer)]
            figures["browser"] = f"Chromium {browser.version}"
            slow = f", renderer CPU throttled {args.cpu_throttle:g}×" if args.cpu_throttle > 1 else ""
            print(f"{figures['browser']}, headless{', uncapped frame rate' if args.uncapped else ''}{slow}, "
                  f"ours on {HOST}:{port}, peer {args.peer}\n", flush=True)
            for side in sides:                  # warm both servers and the browser
                context, *_ = side.open(browser, "default")
                context.close()
            for i in range(args.runs):
                for side in (sides if i % 2 == 0 else sides[::-1]):
                    print(f"run {i + 1}/{args.runs}: {side.name} ...", flush=True)
                    figures["runs"][side.name].append(one_run(browser, side, args.seconds, args.only))
        finally:
            browser.close()
    calibration.append(calibrate_machine())
    end_load = load_average()
    rows, summary = table(figures["runs"])
    figures.update(summary=summary, load_at_end=end_load, calibration_epochs_per_s=calibration)
    print(f"\nSide by side, {args.runs} interleaved runs, medians; ratio = median of the paired ratios "
          "ours/peer (range)")
    print_table(["figure", "ours", "peer", "ratio", "goal", "met"], rows)
    print_table(["also", "ours", "peer"], details(figures["runs"]))
    for name in ("ours", "peer"):
        if "cold" not in figures["runs"][name][-1]:
            continue
        top = figures["runs"][name][-1]["cold"]["files"][:6]
        print(f"{name}, biggest files of the first load (gzip): "
              + ", ".join(f"{p} {n / 1024:,.1f} KB" for p, n in top))
    print(f"\n1-minute load average: {start_load} at the start, {end_load} at the end; {os.cpu_count()} CPU(s) "
          "shared by both servers, the browser and this process")
    print(f"calibration, bare engine epochs/s on the default network: {fmt(calibration[0])} at the start, "
          f"{fmt(calibration[1])} at the end")
    if args.json:
        write_json(args.json, figures)


if __name__ == "__main__":
    main()
