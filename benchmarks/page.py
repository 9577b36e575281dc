"""Measures the page in a real headless Chromium against a real server: how smoothly it
draws while training at full speed, how soon the first diagram is painted, how many bytes
the first load transfers, and how long a click on step or play takes to show.

Starts `python -m app` on a free port of 127.0.0.1 and drives the `chromium` on PATH
(Debian's; or --chromium PATH, or Playwright's own build) through Playwright, viewport 1280×800, headless,
software rendering. An init script in every page counts and times without changing the
app: it wraps `requestAnimationFrame` (to know which frame a change is painted in),
wraps `EventSource` (each SSE `frame` event: arrival time, `step`, `epoch`, size — read
with a regex from the first bytes, not parsed again), and watches the DOM with
MutationObservers. The page's CSP forbids eval, so Python polls with page.evaluate.

1. Smooth page, the default network (2-4-2-1 tanh, batch 10, circle) and the big one
   (2-8-8-8-8-8-8-1 tanh, batch 1, spiral), each playing at speed "max" for
   --windows windows of --seconds seconds, paused between them to time the baseline:
   - frames per second that show new training: rendering updates (callbacks of a
     requestAnimationFrame loop the benchmark runs, only during this part) with at
     least one new SSE frame since the previous one. The loop's own rate is shown
     beside it: a page that is idle between frames renders 60/s whatever it shows ≥ 55
   - main thread busy: CDP `Performance.getMetrics`, the growth of `TaskDuration`
     (wall time of every task on the renderer's main thread: script, style, layout,
     paint, parsing, GC) over the growth of its `Timestamp`. Chosen over long-task
     observers, which miss the many short tasks a 60 frames/s page runs. `ThreadTime`
     (the CPU time of that thread) is shown beside it: the difference is time the
     thread was ready but the machine's CPUs were busy elsewhere               ≤ 50 %
   - SSE frames received per second, and the page's own rAF callbacks per second (the
     diagram draws once per callback; Plotly rarely uses one)
   - training epochs/s while live, from the frames' `epoch` (first vs last of a window)
     ≥ 600 default, ≥ 48 big; beside the same configuration trained in this process
     between the windows (`app.training.Session(...).step("epoch", n)`, the bare
     engine with the session's bookkeeping), and the ratio of the two per window
   - CPU of the browser's processes (CDP SystemInfo) and of the server (/proc).
2. First paint, median of --runs (7) fresh browser contexts (cold cache): navigation →
   the first network diagram painted. A MutationObserver sees the first
   `[data-kind=node]` enter the DOM (inside the diagram's rAF callback); the time is
   taken in a top-priority task posted from there, i.e. after that frame's style,
   layout, paint and commit (`performance.now()`, whose origin is the navigation start;
   --profile checks it against a Chromium trace).                               ≤ 300 ms
   Also the stages before it (HTML, DOMContentLoaded, EventSource opened, first frame
   arrived), when KaTeX's and Plotly's scripts finished loading, and when the loss
   chart was drawn (both off the critical path).
3. Page weight: every byte of the first load of a fresh context (CDP Network events:
   `encodedDataLength` = bytes on the wire, headers included; decoded sizes from
   `dataReceived`), per file, with the lazily loaded Plotly, KaTeX and its fonts, the API
   calls and the paused stream's first frame; total ≤ 600 KB. Then a second navigation
   in the same context (warm cache) must transfer little: versioned URLs come from the
   cache (`immutable`), anything unversioned revalidates (304).
4. Latency, on a paused default page: click `#btn-step` (unit phase; median of 15) →
   the first frame in which the diagram shows the next phase (active layer or caption
   changed) is painted, ≤ 50 ms; the same with unit batch (the step counter). Play:
   click `#btn-play` → the first new training frame drawn (step counter changed) and
   painted, ≤ 100 ms (median of 7). "Painted" is taken as above: after the rendering
   update of the frame that shows it. The stages (POST answered, SSE frame arrived,
   DOM changed) are shown too.

Everything is bounded in time; the server and the browser are stopped at the end.
--profile adds, not counted in the figures: for each network one more playing window
under the CDP sampling profiler and one under a Chromium trace (where the main thread's
time goes), and a traced cold first load (its tasks up to the first diagram painted).

    python -m benchmarks.page [--quick] [--seconds 5] [--windows 3] [--runs 7] [--profile]
                              [--only smooth|first-paint|weight|latency] [--chromium PATH]
                              [--json PATH]
"""

import argparse
import json
import os
import shutil
import time
from collections import defaultdict
from urllib.parse import parse_qsl, urlsplit

from app.training import Session
from app.training.config import from_query

from .common import (
    Rates,
    blas_threads,
    calibrate,
    fmt,
    load_average,
    machine_description,
    median,
    print_table,
    ratio_summary,
    write_json,
)
from .stream import HOST, cpu_seconds, server

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - benchmark-only dependency
    sync_playwright = None
    PlaywrightError = Exception

NETWORKS = {
    "default": "seed=1&batch_size=10&speed=max",
    "big": "seed=1&layers=8,8,8,8,8,8&dataset=spiral&batch_size=1&speed=max",
}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
TARGETS = {"fps": 55, "busy": 0.50, "epochs_default": 600, "epochs_big": 48, "first_paint_ms": 300,
           "transfer_kb": 600, "step_ms": 50, "play_ms": 100}
# TF Playground on a machine like ours (issue "Fast and light").
PEER = {"fps_default": 60, "fps_big": 16, "epochs_default": 60, "epochs_big": 16, "first_paint_ms": 462,
        "kb_raw": 523, "kb_transferred": 121, "busy_big": 1.0}
SETTLE = 1.0            # seconds after play before a window opens
# The first node heatmap of our page: a unit's canvas shown by diagram.js, or the heatmap
# image of the diagram the server sends in the HTML (app/web/preview.py), counted once the
# image's data is there (complete, with a size: the init script marks it data-loaded); it
# is decoded while painting (decoding=sync), so it is in the first paint after that.
HEAT_SELECTOR = "#diagram canvas.nd-heat:not([hidden]), #diagram img.nd-ssr-heat[data-loaded]"
WAIT = 20.0             # the longest any single wait in the page may last

# Runs before any of the page's scripts, in every document of a context.
INIT_SCRIPT = r"""
(() => {
  if (window !== window.top || window.__bench) return;
  const B = window.__bench = {
    raf: 0, rafTimes: [], loop: false, pageRaf: 0, inFrame: false, shown: 0, shownAt: 0,
    frames: [], esCreated: null, firstFrame: null,
    firstNodes: null, firstPaint: null, katex: null, plotly: null, lossChart: null,
    firstHeat: null, firstHeatPaint: null,
    longTasks: 0, longTaskMs: 0, trial: null,
  };
  // A task posted now runs after the current task, and after the rendering update
  // (rAF callbacks, style, layout, paint) when posted from inside one; at the highest
  // priority, so that tasks already queued (a script's evaluation, an SSE event) do not
  // run first and make the time late.
  const channel = new MessageChannel();
  const queue = [];
  channel.port1.onmessage = () => { const cb = queue.shift(); if (cb) cb(performance.now()); };
  const afterTask = window.scheduler && window.scheduler.postTask
    ? (cb) => { window.scheduler.postTask(() => cb(performance.now()), { priority: "user-blocking" }); }
    : (cb) => { queue.push(cb); channel.port2.postMessage(0); };
  B.mark = (name) => { try { performance.mark("bench:" + name); } catch (e) { /* ignore */ } };
  const nativeRaf = window.requestAnimationFrame.bind(window);
  // The page's rAF callbacks: counted, and marked so that a DOM change made in one is
  // known to be painted at the end of this very frame. Mutation observers run as
  // microtasks right after the callback, before the reset queued behind them.
  window.requestAnimationFrame = (cb) => nativeRaf((ts) => {
    B.pageRaf++;
    B.inFrame = true;
    try { cb(ts); } finally { queueMicrotask(() => { B.inFrame = false; }); }
  });
  // cb(time) once a change just made to the DOM has been painted.
  B.afterPaint = (cb) => {
    if (B.inFrame) afterTask(cb);
    else nativeRaf(() => afterTask(cb));
  };
  B.startLoop = () => {
    if (B.loop) return;
    B.loop = true;
    const tick = (ts) => {
      if (!B.loop) return;
      B.raf++;
      if (B.rafTimes.length < 100000) B.rafTimes.push(ts);
      // a rendering update that shows at least one new SSE frame (the diagram draws the
      // newest frame in the same update)
      if (B.frames.length !== B.shownAt) { B.shown++; B.shownAt = B.frames.length; }
      nativeRaf(tick);
    };
    nativeRaf(tick);
  };
  B.stopLoop = () => { B.loop = false; };

  const NativeEventSource = window.EventSource;
  const STEP = /"step":(\d+)/;
  const EPOCH = /"epoch":(-?[\d.eE+-]+)/;
  window.EventSource = class extends NativeEventSource {
    constructor(url, options) {
      super(url, options);
      if (B.esCreated === null) B.esCreated = performance.now();
      // Registered before the page's own listener, so it sees the arrival first.
      super.addEventListener("frame", (e) => {
        const t = performance.now();
        const head = e.data.slice(0, 300);
        const step = STEP.exec(head);
        const epoch = EPOCH.exec(head);
        if (B.firstFrame === null) B.firstFrame = t;
        if (B.frames.length < 200000) {
          B.frames.push([t, step ? Number(step[1]) : -1, epoch ? Number(epoch[1]) : NaN, e.data.length]);
        }
      });
    }
  };

  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) { B.longTasks++; B.longTaskMs += e.duration; }
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { /* not supported */ }

  // First diagram: the first unit node entering the DOM, then painted.
  const hasNode = (n) => n.nodeType === 1 &&
    (n.matches("[data-kind=node]") || n.querySelector("[data-kind=node]") !== null);
  const nodes = new MutationObserver((records) => {
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (!hasNode(n)) continue;
        nodes.disconnect();
        B.firstNodes = performance.now();
        B.mark("nodes");
        B.afterPaint((t) => { B.firstPaint = t; B.mark("painted"); });
        return;
      }
    }
  });
  nodes.observe(document, { childList: true, subtree: true });

  // Lazily loaded libraries: their <script> load events (they do not bubble: capture).
  document.addEventListener("load", (e) => {
    const src = e.target && e.target.src;
    if (!src) return;
    if (src.includes("plotly") && B.plotly === null) B.plotly = performance.now();
    if (src.includes("katex") && B.katex === null) B.katex = performance.now();
  }, true);
  // The first node heatmap (HEAT_SELECTOR) in the DOM, then painted. The server's heatmap
  // images count once their data is there (marked data-loaded here).
  const loaded = (img) => { if (img.complete && img.naturalWidth > 0) img.setAttribute("data-loaded", ""); };
  const heat = new MutationObserver(() => {
    if (B.firstHeat !== null) return;
    const img = document.querySelector("#diagram img.nd-ssr-heat:not([data-watched])");
    if (img) {
      img.setAttribute("data-watched", "");
      loaded(img);
      img.addEventListener("load", () => loaded(img), { once: true });
    }
    if (!document.querySelector(%(heat)s)) return;
    heat.disconnect();
    B.firstHeat = performance.now();
    B.afterPaint((t) => { if (B.firstHeatPaint === null || t < B.firstHeatPaint) B.firstHeatPaint = t; });
  });
  heat.observe(document, { childList: true, subtree: true, attributes: true,
                           attributeFilter: ["hidden", "class", "data-loaded"] });
  // A server heatmap image carries elementtiming="heat": Chromium reports the time of the
  // frame that painted it (renderTime), which is exact where the load event above runs late.
  if (window.PerformanceObserver && PerformanceObserver.supportedEntryTypes.includes("element")) {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.identifier !== "heat" || !e.renderTime) continue;
        if (B.firstHeatPaint === null || e.renderTime < B.firstHeatPaint) {
          B.firstHeatPaint = e.renderTime;
          B.firstHeat = e.loadTime || e.renderTime;
        }
      }
    }).observe({ type: "element", buffered: true });
  }
  // The loss chart (charts.js): its train curve drawn with at least one point.
  document.addEventListener("DOMContentLoaded", () => {
    const chart = document.getElementById("loss-chart");
    if (!chart) return;
    const seen = () => {
      const curve = chart.querySelector("path.loss-train[data-points]:not([data-points='0'])");
      if (B.lossChart !== null || !curve) return false;
      B.lossChart = performance.now();
      return true;
    };
    const watch = new MutationObserver(() => { if (seen()) watch.disconnect(); });
    watch.observe(chart, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-points"] });
  });
})();
""".replace("%(heat)s", json.dumps(HEAT_SELECTOR))

# Arms one latency trial: resolves with its times once the change is painted (or null).
ARM_TRIAL = r"""
(kind) => {
  const B = window.__bench;
  performance.clearResourceTimings();
  const root = document.getElementById("diagram");
  const counter = document.getElementById("step");
  const signature = kind === "phase"
    ? () => {
        const active = root.querySelector(".active-layer");
        const caption = root.querySelector(".nd-caption-main");
        return (active ? active.dataset.layer : "-") + "|" + (caption ? caption.textContent : "");
      }
    : () => counter.textContent;
  const target = kind === "phase" ? root : counter;
  const before = signature();
  const framesBefore = B.frames.length;
  const out = { before, click: null };
  B.trial = new Promise((resolve) => {
    let timer = 0;
    const onClick = (e) => { if (out.click === null) out.click = e.timeStamp; };
    window.addEventListener("click", onClick, { capture: true });
    const finish = (value) => {
      clearTimeout(timer);
      window.removeEventListener("click", onClick, { capture: true });
      resolve(value);
    };
    const watch = new MutationObserver(() => {
      const now = signature();
      if (now === before || out.changed !== undefined) return;
      watch.disconnect();
      out.changed = performance.now();
      out.after = now;
      B.afterPaint((t) => {
        out.painted = t;
        const frame = B.frames[framesBefore];
        out.frame = frame ? frame[0] : null;
        const posts = performance.getEntriesByType("resource").filter((e) => e.name.includes("/ui/"));
        out.response = posts.length ? posts[posts.length - 1].responseEnd : null;
        finish(out);
      });
    });
    watch.observe(target, { subtree: true, childList: true, characterData: true,
                            attributes: true, attributeFilter: ["class"] });
    timer = setTimeout(() => { watch.disconnect(); finish(null); }, 8000);
  });
  return before;
}
"""

WINDOW_COUNTERS = """() => { const B = window.__bench;
  return {now: performance.now(), raf: B.raf, pageRaf: B.pageRaf, shown: B.shown, longTasks: B.longTasks,
          longTaskMs: B.longTaskMs}; }"""
FRAMES_BETWEEN = "([a, b]) => window.__bench.frames.filter((f) => f[0] >= a && f[0] <= b)"
RAF_BETWEEN = "([a, b]) => window.__bench.rafTimes.filter((t) => t >= a && t <= b)"


# -- the browser -----------------------------------------------------------------------------
def chromium_path(given: str | None) -> str | None:
    """--chromium, else the system's Chromium on PATH, else None (Playwright's own build)."""
    if given:
        return given
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def new_page(browser, base: str):
    context = browser.new_context(viewport=VIEWPORT, base_url=base)
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(WAIT * 1000)
    return context, page


def wait_for(page, expression: str, timeout: float = WAIT, what: str = "", interval: float = 0.025):
    """Poll `expression` in the page until it is truthy (no wait_for_function: the CSP forbids
    the eval it uses); the value, or SystemExit after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > end:
            raise SystemExit(f"the page did not {what or expression} within {timeout:g} s")
        page.wait_for_timeout(interval * 1000)


def open_page(browser, base: str, query: str, charts: bool = True):
    """A fresh context on /?query, with the diagram drawn (and the charts, if asked)."""
    context, page = new_page(browser, base)
    page.goto("/?" + query)
    wait_for(page, "() => window.__bench.firstPaint !== null", what="draw the diagram")
    if charts:
        wait_for(page, "() => window.__bench.lossChart !== null", what="draw the loss chart")
    return context, page


def set_status(page, status: str) -> None:
    """Click play/pause until document.body.dataset.status is `status`."""
    if page.evaluate("() => document.body.dataset.status") == status:
        return
    page.click("#btn-play")
    wait_for(page, f"() => document.body.dataset.status === {status!r}", what=f"become {status}")


def session_config(query: str) -> dict:
    return from_query(dict(parse_qsl(query)))


# -- 1. smooth page --------------------------------------------------------------------------
def browser_cpu(browser_cdp) -> dict[str, float]:
    """CPU seconds so far of the browser's processes, summed by type (renderer, GPU, ...)."""
    totals: dict[str, float] = defaultdict(float)
    for p in browser_cdp.send("SystemInfo.getProcessInfo")["processInfo"]:
        totals[p["type"].split(".")[0]] += p["cpuTime"]
    return dict(totals)


def metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def snapshot(page, cdp, browser_cdp, pid: int) -> dict:
    return {"page": page.evaluate(WINDOW_COUNTERS), "metrics": metrics(cdp), "cpu": browser_cpu(browser_cdp),
            "server": cpu_seconds(pid), "wall": time.perf_counter()}


def window_figures(page, a: dict, b: dict) -> dict:
    pa, pb = a["page"], b["page"]
    seconds = (pb["now"] - pa["now"]) / 1000
    ma, mb = a["metrics"], b["metrics"]
    wall = mb["Timestamp"] - ma["Timestamp"]
    share = lambda key: (mb[key] - ma[key]) / wall  # noqa: E731
    frames = page.evaluate(FRAMES_BETWEEN, [pa["now"], pb["now"]])
    rafs = page.evaluate(RAF_BETWEEN, [pa["now"], pb["now"]])
    gaps = sorted(y - x for x, y in zip(rafs, rafs[1:]))
    live = None
    if len(frames) >= 2 and frames[-1][0] > frames[0][0]:
        live = (frames[-1][2] - frames[0][2]) / ((frames[-1][0] - frames[0][0]) / 1000)
    cpu = {k: (b["cpu"].get(k, 0.0) - v) / (b["wall"] - a["wall"]) for k, v in a["cpu"].items()}
    server_cpu = (None if a["server"] is None or b["server"] is None
                  else (b["server"] - a["server"]) / (b["wall"] - a["wall"]))
    return {
        "seconds": seconds,
        "fps": (pb["raf"] - pa["raf"]) / seconds,
        # frames that showed new training (None for a page without an SSE stream)
        "shown_fps": (pb["shown"] - pa["shown"]) / seconds if frames else None,
        "frame_interval_p95_ms": gaps[int(0.95 * (len(gaps) - 1))] if gaps else None,
        "frames_over_50ms": sum(g > 50 for g in gaps),
        "page_raf_per_s": (pb["pageRaf"] - pa["pageRaf"]) / seconds,
        "busy": share("TaskDuration"), "thread_cpu": share("ThreadTime"),
        "script": share("ScriptDuration"), "style": share("RecalcStyleDuration"),
        "layout": share("LayoutDuration"), "other_tasks": share("TaskOtherDuration"),
        "long_tasks_per_s": (pb["longTasks"] - pa["longTasks"]) / seconds,
        "long_task_share": (pb["longTaskMs"] - pa["longTaskMs"]) / 1000 / seconds,
        "frames_per_s": len(frames) / seconds,
        "frame_bytes": median([f[3] for f in frames]) if frames else None,
        "epochs_per_s": live,
        "browser_cpu": cpu, "server_cpu": server_cpu,
    }


class Baseline:
    """The page's configuration trained in this process: Session.step("epoch", n)."""

    def __init__(self, query: str) -> None:
        self.session = Session("bench", session_config(query))
        self.rates = Rates()
        self.n = 0

    def _run(self, n: int) -> None:
        while n > 0:                    # Session.step takes at most 1000 at a time
            self.session.step("epoch", min(n, 1000))
            n -= 1000

    def measure(self, seconds: float) -> None:
        if not self.n:
            self._run(1)
            self.n = calibrate(self._run, seconds)
        self.rates.time(self._run, self.n)


def smooth(browser, base: str, pid: int, name: str, query: str, windows: int, seconds: float,
           profile: bool) -> dict:
    baseline = Baseline(query)
    context, page = open_page(browser, base, query)
    try:
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        browser_cdp = browser.new_browser_cdp_session()
        page.evaluate("() => window.__bench.startLoop()")
        baseline.measure(seconds / 2)               # warm-up and calibration
        results = []
        for i in range(windows):
            set_status(page, "running")
            time.sleep(SETTLE * (2 if i == 0 else 1))
            a = snapshot(page, cdp, browser_cdp, pid)
            time.sleep(seconds)
            b = snapshot(page, cdp, browser_cdp, pid)
            set_status(page, "paused")
            results.append(window_figures(page, a, b))
            baseline.measure(seconds / 2)
        hot = None
        if profile:
            hot = {"js": cpu_profile(page, cdp, seconds), "trace": trace_playing(browser, page, seconds)}
        page.evaluate("() => window.__bench.stopLoop()")
    finally:
        context.close()
    bare = baseline.rates.wall[-windows:]
    live = [r["epochs_per_s"] or 0.0 for r in results]

    def pick(key: str) -> float | None:
        values = [r[key] for r in results if r[key] is not None]
        return median(values) if values else None

    kinds = sorted({k for r in results for k in r["browser_cpu"]})
    summary = {key: pick(key) for key in results[0] if key not in ("browser_cpu", "server_cpu")}
    summary.update({
        "network": name, "query": query, "windows": results,
        "sizes": baseline.session.network.sizes,
        "bare_epochs_per_s": median(bare), "bare_epochs_per_cpu_s": median(baseline.rates.cpu[-windows:]),
        "live_over_bare": list(ratio_summary(live, bare)),
        "browser_cpu": {k: median([r["browser_cpu"].get(k, 0.0) for r in results]) for k in kinds},
        "server_cpu": pick("server_cpu") if all(r["server_cpu"] is not None for r in results) else None,
        "profile": hot,
    })
    return summary


def cpu_profile(page, cdp, seconds: float, top: int = 12) -> dict:
    """One more playing window under the sampling profiler. Self time by file, and the
    inclusive time of the page's own functions (static/js): a sample counts for every
    function of ours on its stack. Shares are of the sampled time, idle included."""
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 500})
    set_status(page, "running")
    time.sleep(SETTLE)
    cdp.send("Profiler.start")
    time.sleep(seconds)
    profile = cdp.send("Profiler.stop")["profile"]
    set_status(page, "paused")
    cdp.send("Profiler.disable")
    frames = {n["id"]: n["callFrame"] for n in profile["nodes"]}
    parent = {c: n["id"] for n in profile["nodes"] for c in n.get("children", [])}
    self_us: dict[int, float] = defaultdict(float)
    samples, deltas = profile["samples"], profile["timeDeltas"]
    for k, node in enumerate(samples):     # a sample's time is the delta up to the next one
        self_us[node] += deltas[k + 1] if k + 1 < len(deltas) else 0
    total = sum(self_us.values()) or 1.0

    def file_of(frame: dict) -> str:
        return urlsplit(frame["url"]).path.removeprefix("/static/js/") if frame["url"] else ""

    by_file: dict[str, float] = defaultdict(float)
    ours: dict[str, float] = defaultdict(float)
    for node, us in self_us.items():
        by_file[file_of(frames[node]) or frames[node]["functionName"]] += us
        seen, n = set(), node
        while n is not None:                # every function of ours on this stack, once
            f = frames[n]
            if "/static/js/" in f["url"]:
                seen.add(f"{f['functionName'] or '(anonymous)'} {file_of(f)}:{f['lineNumber'] + 1}")
            n = parent.get(n)
        for label in seen:
            ours[label] += us
    rank = lambda d: [[k, v / total] for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]]  # noqa: E731
    return {"seconds": total / 1e6, "self_by_file": rank(by_file), "ours_inclusive": rank(ours)}


# -- traces (--profile) ----------------------------------------------------------------------
TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "toplevel",
                    "blink.user_timing", "loading"]
WRAPPERS = {"RunTask", "ThreadControllerImpl::RunTask", "ThreadPool_RunTask", "Receive mojo message",
            "RunMicrotasks", "BlinkScheduler_PerformMicrotaskCheckpoint"}


def trace_label(e: dict) -> str:
    data = e.get("args", {}).get("data")
    if not isinstance(data, dict):
        return e["name"]
    file = urlsplit(data.get("url") or "").path.rsplit("/", 1)[-1]
    what = data.get("functionName") or data.get("type") or ""
    if e["name"] == "FunctionCall" and not file:
        # the page's rAF callbacks (the diagram's draw) run inside the init script's wrapper
        return "FunctionCall, no file (rAF callbacks: the diagram's draw)"
    return " ".join(x for x in (e["name"], file, what) if x)


def trace_breakdown(events: list[dict], pid: int, tid: int, start: float, end: float,
                    top: int = 14) -> dict:
    """Main-thread time between start and end (trace µs): busy and idle, self time by kind of
    work (an event's duration less its children's), and the top-level tasks ≥ 4 ms."""
    xs = sorted((e for e in events if e.get("ph") == "X" and e.get("pid") == pid and e.get("tid") == tid
                 and "dur" in e and e["ts"] < end and e["ts"] + e["dur"] > start),
                key=lambda e: (e["ts"], -e["dur"]))
    stack: list[list] = []          # [end, event, children µs, biggest child label, its µs]
    self_us: dict[str, float] = defaultdict(float)
    tasks, busy = [], 0.0

    def close(item: list) -> None:
        own = item[1]["dur"] - item[2]
        label = trace_label(item[1])
        if label not in WRAPPERS:
            self_us[label] += own
        if not stack:
            tasks.append((item[1]["ts"], item[1]["dur"], item[3] if item[1]["name"] in WRAPPERS else label))
        elif stack[-1][4] < item[1]["dur"] and label not in WRAPPERS:
            stack[-1][3], stack[-1][4] = label, item[1]["dur"]
        elif stack[-1][4] < item[1]["dur"]:
            stack[-1][3], stack[-1][4] = item[3], item[1]["dur"]

    for e in xs:
        while stack and stack[-1][0] <= e["ts"]:
            close(stack.pop())
        if stack:
            stack[-1][2] += e["dur"]
        else:
            busy += min(e["ts"] + e["dur"], end) - max(e["ts"], start)
        stack.append([e["ts"] + e["dur"], e, 0.0, "", 0.0])
    while stack:
        close(stack.pop())
    span = end - start
    ranked = sorted(self_us.items(), key=lambda kv: -kv[1])[:top]
    return {"ms": span / 1000, "busy_ms": busy / 1000, "idle_ms": (span - busy) / 1000,
            "self_ms": [[k, v / 1000] for k, v in ranked],
            "tasks": [[(ts - start) / 1000, dur / 1000, label] for ts, dur, label in tasks if dur >= 4000]}


def record_trace(browser, page, action) -> list[dict]:
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    try:
        action()
    finally:
        raw = browser.stop_tracing()
    data = json.loads(raw)
    return data["traceEvents"] if isinstance(data, dict) else data


def main_thread(events: list[dict]) -> tuple[int, int]:
    """The renderer main thread with the most events (the page's)."""
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if key in mains:
            counts[key] += 1
    if not counts:
        raise SystemExit("the trace has no renderer main thread")
    return max(counts, key=counts.get)


def trace_first_load(browser, base: str) -> dict:
    """A cold first load under tracing: the main thread from navigation to the diagram painted."""
    context, page = new_page(browser, base)
    try:
        def load() -> None:
            page.goto("/?" + NETWORKS["default"])
            wait_for(page, "() => window.__bench.firstPaint !== null", what="draw the diagram")
        events = record_trace(browser, page, load)
        nodes, painted = page.evaluate("() => [window.__bench.firstNodes, window.__bench.firstPaint]")
    finally:
        context.close()
    marks = {e["name"]: e for e in events if e.get("name") in ("bench:nodes", "bench:painted")}
    if "bench:nodes" not in marks:
        raise SystemExit("the trace has no bench:nodes mark")
    mark = marks["bench:nodes"]
    pid, tid = mark["pid"], mark["tid"]
    origin = mark["ts"] - nodes * 1000          # the page's time 0 on the trace's clock
    # Cross-check of the measured paint: the end of the first Commit (main thread hands
    # the painted frame to the compositor) after the nodes entered the DOM.
    commits = [e["ts"] + e["dur"] for e in events if e.get("name") == "Commit" and e.get("ph") == "X"
               and e.get("pid") == pid and e.get("tid") == tid and e["ts"] >= mark["ts"]]
    return {"painted_ms": painted, "commit_ms": (min(commits) - origin) / 1000 if commits else None,
            **trace_breakdown(events, pid, tid, origin, origin + painted * 1000)}


def trace_playing(browser, page, seconds: float) -> dict:
    """One more playing window under tracing: where the main thread's time goes."""
    set_status(page, "running")
    time.sleep(SETTLE)
    events = record_trace(browser, page, lambda: page.wait_for_timeout(seconds * 1000))
    set_status(page, "paused")
    pid, tid = main_thread(events)
    ts = [e["ts"] for e in events if e.get("pid") == pid and e.get("tid") == tid and e.get("ph") == "X"]
    result = trace_breakdown(events, pid, tid, min(ts), max(ts))
    result["tasks"] = []            # hundreds while playing: only the totals are shown
    return result


# -- 2. first paint --------------------------------------------------------------------------
FIRST_PAINT = """() => {
  const B = window.__bench;
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  return {html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd, es: B.esCreated, frame: B.firstFrame,
          nodes: B.firstNodes, painted: B.firstPaint, fcp: fcp ? fcp.startTime : null, heat: B.firstHeatPaint,
          katex: B.katex, plotly: B.plotly, loss_chart: B.lossChart, load: nav.loadEventEnd};
}"""
FIRST_PAINT_STAGES = [("html", "HTML received (responseEnd)"), ("fcp", "first contentful paint"),
                      ("dcl", "DOMContentLoaded (modules run)"), ("es", "EventSource opened"),
                      ("frame", "first SSE frame arrived"), ("nodes", "diagram nodes in the DOM"),
                      ("painted", "first diagram painted"), ("heat", "first node heatmap painted"),
                      ("katex", "KaTeX script loaded"),
                      ("load", "load event"), ("plotly", "Plotly script loaded"),
                      ("loss_chart", "loss chart drawn")]


def first_paint(browser, base: str, runs: int) -> dict:
    rows = []
    for _ in range(runs):
        context, page = open_page(browser, base, NETWORKS["default"])
        try:
            wait_for(page, "() => document.readyState === 'complete'", what="finish loading")
            rows.append(page.evaluate(FIRST_PAINT))
        finally:
            context.close()
    stages = {}
    for key, _ in FIRST_PAINT_STAGES:
        values = [r[key] for r in rows if r[key] is not None]
        stages[key] = {"median": median(values), "min": min(values), "max": max(values)} if values else None
    return {"runs": rows, "stages": stages, "first_paint_ms": stages["painted"]["median"]}


# -- 3. page weight --------------------------------------------------------------------------
class NetworkLog:
    """Every request of a page from CDP Network events: bytes on the wire (headers included)
    and decoded body bytes."""

    def __init__(self, cdp) -> None:
        self.requests: dict[str, dict] = {}
        for event, handler in (("requestWillBeSent", self._sent), ("responseReceived", self._response),
                               ("dataReceived", self._data), ("loadingFinished", self._finished),
                               ("loadingFailed", self._failed), ("requestServedFromCache", self._cache)):
            cdp.on(f"Network.{event}", handler)
        cdp.send("Network.enable")

    def clear(self) -> None:
        self.requests = {}

    def _get(self, rid: str) -> dict:
        return self.requests.setdefault(rid, {"url": "", "type": "", "status": None, "encoding": "",
                                              "cache_control": "", "wire": 0, "decoded": 0,
                                              "done": False, "cache": False})

    def _sent(self, e: dict) -> None:
        r = self._get(e["requestId"])
        r["url"], r["type"] = e["request"]["url"], e.get("type", "")

    def _response(self, e: dict) -> None:
        r = self._get(e["requestId"])
        response = e["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        r.update(status=response["status"], encoding=headers.get("content-encoding", ""),
                 cache_control=headers.get("cache-control", ""), type=e.get("type", r["type"]))
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            r["cache"] = True

    def _data(self, e: dict) -> None:
        r = self._get(e["requestId"])
        r["decoded"] += e.get("dataLength", 0)
        r["wire"] += e.get("encodedDataLength", 0)

    def _finished(self, e: dict) -> None:
        r = self._get(e["requestId"])
        r["wire"] = max(r["wire"], e.get("encodedDataLength", 0))
        r["done"] = True

    def _failed(self, e: dict) -> None:
        self._get(e["requestId"])["done"] = True

    def _cache(self, e: dict) -> None:
        self._get(e["requestId"])["cache"] = True

    def pending(self) -> int:
        return sum(1 for r in self.requests.values() if not r["done"] and r["type"] != "EventSource")

    def settle(self, page, quiet: float = 1.0, timeout: float = 30.0) -> None:
        """Wait until no request (but the stream) has been open for `quiet` seconds."""
        end = time.monotonic() + timeout
        since = None
        while time.monotonic() < end:
            page.wait_for_timeout(100)          # lets Playwright deliver the CDP events
            busy = self.pending()
            since = None if busy else (since or time.monotonic())
            if since is not None and time.monotonic() - since >= quiet:
                return
        raise SystemExit(f"the page still had {self.pending()} request(s) open after {timeout:g} s")

    def table(self) -> list[dict]:
        rows = []
        for r in self.requests.values():
            if not r["url"].startswith("http"):         # data: URLs and the like: no request
                continue
            parts = urlsplit(r["url"])
            path = parts.path + ("?v=…" if "v=" in parts.query else "")
            if parts.path.startswith("/api/sessions/"):
                rest = parts.path.split("/", 4)
                path = "/api/sessions/…" + ("/" + rest[4] if len(rest) > 4 else "")
            elif parts.path == "/":
                path = "/?" + parts.query
            if r["type"] == "EventSource" and not r["wire"]:
                r = {**r, "wire": r["decoded"]}     # CDP counts an open stream's bytes only at its end
            rows.append({**r, "path": path})
        return rows


def page_weight(browser, base: str) -> dict:
    context, page = new_page(browser, base)
    try:
        cdp = context.new_cdp_session(page)
        log = NetworkLog(cdp)
        page.goto("/?" + NETWORKS["default"])
        wait_for(page, "() => window.__bench.lossChart !== null", what="draw the loss chart")
        log.settle(page)
        first = log.table()
        log.clear()
        page.goto("/?" + NETWORKS["default"])
        wait_for(page, "() => window.__bench.lossChart !== null", what="draw the loss chart again")
        log.settle(page)
        warm = log.table()
    finally:
        context.close()
    files = [r for r in first if r["type"] != "EventSource"]
    total = lambda rows, key: sum(r[key] for r in rows)  # noqa: E731
    stream = [r for r in first if r["type"] == "EventSource"]
    return {
        "first": first, "warm": warm,
        "files_wire": total(files, "wire"), "files_decoded": total(files, "decoded"),
        "stream_wire": total(stream, "wire"), "stream_decoded": total(stream, "decoded"),
        "total_wire": total(first, "wire"), "total_decoded": total(first, "decoded"),
        "warm_wire": total(warm, "wire"), "warm_requests": len(warm),
        "warm_cached": sum(r["cache"] for r in warm), "warm_304": sum(r["status"] == 304 for r in warm),
    }


# -- 4. latency ------------------------------------------------------------------------------
def trial(page, kind: str, button: str) -> dict | None:
    page.evaluate(ARM_TRIAL, kind)
    page.click(button)
    return page.evaluate("() => window.__bench.trial")


def latency(browser, base: str, step_runs: int, play_runs: int) -> dict:
    context, page = open_page(browser, base, NETWORKS["default"])
    results: dict[str, list] = {"phase": [], "batch": [], "play": []}
    failures = {k: 0 for k in results}
    try:
        page.wait_for_timeout(1000)
        for unit, runs in (("phase", step_runs), ("batch", step_runs)):
            page.select_option("#step-unit", unit)
            for _ in range(runs):
                out = trial(page, "phase" if unit == "phase" else "counter", "#btn-step")
                if out is None:
                    failures[unit] += 1
                else:
                    results[unit].append(out)
                page.wait_for_timeout(150)
        for _ in range(play_runs):
            out = trial(page, "counter", "#btn-play")
            if out is None:
                failures["play"] += 1
            else:
                results["play"].append(out)
            wait_for(page, "() => document.body.dataset.status === 'running'", what="run")
            set_status(page, "paused")
            page.wait_for_timeout(400)
    finally:
        context.close()
    figures = {}
    for kind, outs in results.items():
        since = lambda key, outs=outs: [o[key] - o["click"] for o in outs  # noqa: E731
                                        if o.get(key) is not None and o["click"] is not None]
        figures[kind] = {"runs": len(outs), "failures": failures[kind],
                         **{key: (median(since(key)) if since(key) else None)
                            for key in ("response", "frame", "changed", "painted")},
                         "painted_all": since("painted")}
    return figures


# -- output ----------------------------------------------------------------------------------
def ms(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f} ms"


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def kb(x: float | None) -> str:
    return "—" if x is None else f"{x / 1024:,.1f} KB"


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


def print_smooth(runs: dict) -> None:
    names = list(runs)
    col = lambda f: [f(runs[n]) for n in names]  # noqa: E731
    cpu = lambda kind: col(lambda r: pct(r["browser_cpu"].get(kind)))  # noqa: E731
    rows = [
        ["network", *col(lambda r: "-".join(map(str, r["sizes"])))],
        ["windows × seconds", *col(lambda r: f"{len(r['windows'])} × {r['seconds']:.1f}")],
        ["frames/s showing new training", *col(lambda r: fmt(r["shown_fps"]))],
        ["rendered frames/s (rAF loop)", *col(lambda r: fmt(r["fps"]))],
        ["  p95 frame interval", *col(lambda r: ms(r["frame_interval_p95_ms"]))],
        ["  frames > 50 ms apart per window", *col(lambda r: fmt(r["frames_over_50ms"]))],
        ["page's rAF callbacks/s (diagram draws)", *col(lambda r: fmt(r["page_raf_per_s"]))],
        ["SSE frames received/s", *col(lambda r: fmt(r["frames_per_s"]))],
        ["  median frame size", *col(lambda r: kb(r["frame_bytes"]))],
        ["main thread busy (TaskDuration)", *col(lambda r: pct(r["busy"]))],
        ["  of which script", *col(lambda r: pct(r["script"]))],
        ["  of which style", *col(lambda r: pct(r["style"]))],
        ["  of which layout", *col(lambda r: pct(r["layout"]))],
        ["  other (paint, parse, GC, ...)", *col(lambda r: pct(r["other_tasks"]))],
        ["main thread CPU (ThreadTime)", *col(lambda r: pct(r["thread_cpu"]))],
        ["long tasks/s (> 50 ms)", *col(lambda r: fmt(r["long_tasks_per_s"]))],
        ["CPU: renderer processes", *cpu("renderer")],
        ["CPU: GPU process (software)", *cpu("GPU")],
        ["CPU: browser process", *cpu("browser")],
        ["CPU: server", *col(lambda r: pct(r["server_cpu"]))],
        ["epochs/s while live", *col(lambda r: fmt(r["epochs_per_s"]))],
        ["bare Session epochs/s in-process", *col(lambda r: fmt(r["bare_epochs_per_s"]))],
        ["live / bare (range)", *col(lambda r: "{:.2f}× ({:.2f}–{:.2f})".format(*r["live_over_bare"]))],
    ]
    print("1. Smooth page while playing at speed max (medians over the windows; CPU in % of one core)")
    print_table(["figure", *names], rows)


def print_trace(title: str, t: dict) -> None:
    print(f"{title}: {t['ms']:,.0f} ms, main thread busy {t['busy_ms']:,.0f} ms, idle {t['idle_ms']:,.0f} ms")
    print_table(["main thread, self time by kind of work", "ms", "share"],
                [[k, f"{v:,.1f}", pct(v / t["ms"])] for k, v in t["self_ms"]])
    if t["tasks"]:
        print_table(["top-level task ≥ 4 ms, from", "ms", "its biggest part"],
                    [[f"{a:,.0f} ms", f"{d:,.1f}", label] for a, d, label in t["tasks"]])


def print_profiles(runs: dict) -> None:
    for name, r in runs.items():
        p = r.get("profile")
        if not p:
            continue
        js = p["js"]
        print(f"Profile, {name} network playing ({js['seconds']:.1f} s sampled by the JS profiler; "
              "'(program)' is the browser's own work: style, layout, paint, parsing)")
        print_table(["self time by file", "share"], [[k, pct(v)] for k, v in js["self_by_file"]])
        print_table(["the page's functions, inclusive", "share"], [[k, pct(v)] for k, v in js["ours_inclusive"]])
        print_trace(f"Trace, {name} network playing", p["trace"])


def print_first_paint(fp: dict) -> None:
    print(f"2. First load, navigation → ..., median of {len(fp['runs'])} fresh contexts (cold cache)")
    rows = []
    for key, label in FIRST_PAINT_STAGES:
        s = fp["stages"][key]
        rows.append([label, ms(s and s["median"]), "—" if not s else f"{s['min']:,.0f}–{s['max']:,.0f}"])
    print_table(["stage", "median", "range"], rows)


def print_weight(w: dict) -> None:
    print("3. Page weight of the first load (bytes on the wire include headers)")
    rows = [[r["path"], r["type"], r["status"], r["encoding"] or "—", f"{r['wire']:,}", f"{r['decoded']:,}"]
            for r in sorted(w["first"], key=lambda r: -r["wire"])]
    rows += [["all files (without the stream)", "", "", "", f"{w['files_wire']:,}", f"{w['files_decoded']:,}"],
             ["everything", "", "", "", f"{w['total_wire']:,}", f"{w['total_decoded']:,}"]]
    print_table(["request", "type", "status", "encoding", "transferred", "uncompressed"], rows)
    print(f"Second load (same context, warm cache): {w['warm_requests']} requests, {w['warm_cached']} "
          f"from the cache, {w['warm_304']} revalidated (304), {w['warm_wire']:,} bytes transferred")
    rows = [[r["path"], r["status"], "cache" if r["cache"] else "network", f"{r['wire']:,}", r["cache_control"]]
            for r in sorted(w["warm"], key=lambda r: -r["wire"])]
    print_table(["request (second load)", "status", "from", "transferred", "Cache-Control"], rows)


def print_latency(lat: dict) -> None:
    print("4. Latency, from the click (event time) on a paused default page; medians")
    labels = {"phase": "step, unit phase → next phase painted", "batch": "step, unit batch → counter painted",
              "play": "play → first new training frame painted"}
    rows = [[labels[k], f"{v['runs']}" + (f" ({v['failures']} timed out)" if v["failures"] else ""),
             ms(v["response"]), ms(v["frame"]), ms(v["changed"]), ms(v["painted"])] for k, v in lat.items()]
    print_table(["click", "runs", "POST answered", "SSE frame in", "DOM changed", "painted"], rows)


def comparison(figures: dict) -> list[list[str]]:
    s, fp, w, lat = figures["smooth"], figures["first_paint"], figures["weight"], figures["latency"]
    d, b = s.get("default"), s.get("big")
    t = TARGETS
    rows = []
    if d:
        rows += [["frames/s, default network", fmt(d["shown_fps"]), str(PEER["fps_default"]), f"≥ {t['fps']}",
                  met((d["shown_fps"] or 0) >= t["fps"])],
                 ["main thread busy, default network", pct(d["busy"]), "—", f"≤ {pct(t['busy'])}",
                  met(d["busy"] <= t["busy"])],
                 ["epochs/s while live, default", fmt(d["epochs_per_s"]), str(PEER["epochs_default"]),
                  f"≥ {t['epochs_default']}", met((d["epochs_per_s"] or 0) >= t["epochs_default"])]]
    if b:
        rows += [["frames/s, big network", fmt(b["shown_fps"]), str(PEER["fps_big"]), f"≥ {t['fps']}",
                  met((b["shown_fps"] or 0) >= t["fps"])],
                 ["main thread busy, big network", pct(b["busy"]), pct(PEER["busy_big"]), f"≤ {pct(t['busy'])}",
                  met(b["busy"] <= t["busy"])],
                 ["epochs/s while live, big", fmt(b["epochs_per_s"]), str(PEER["epochs_big"]),
                  f"≥ {t['epochs_big']}", met((b["epochs_per_s"] or 0) >= t["epochs_big"])]]
    if fp:
        rows.append(["navigation → first diagram painted", ms(fp["first_paint_ms"]),
                     f"{PEER['first_paint_ms']} ms (heatmap)", f"≤ {t['first_paint_ms']} ms",
                     met(fp["first_paint_ms"] <= t["first_paint_ms"])])
    if w:
        rows += [["first load transferred", kb(w["total_wire"]), f"~{PEER['kb_transferred']} KB",
                  f"≤ {t['transfer_kb']} KB", met(w["total_wire"] <= t["transfer_kb"] * 1024)],
                 ["first load uncompressed", kb(w["total_decoded"]), f"{PEER['kb_raw']} KB", "—", "—"],
                 ["second load transferred", kb(w["warm_wire"]), "—", "little", "—"]]
    if lat:
        rows += [["step (phase) → painted", ms(lat["phase"]["painted"]), "—", f"≤ {t['step_ms']} ms",
                  met(lat["phase"]["painted"] is not None and lat["phase"]["painted"] <= t["step_ms"])],
                 ["play → first new frame painted", ms(lat["play"]["painted"]), "—", f"≤ {t['play_ms']} ms",
                  met(lat["play"]["painted"] is not None and lat["play"]["painted"] <= t["play_ms"])]]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter windows and runs")
    parser.add_argument("--seconds", type=float, help="seconds per playing window (default 5, --quick 2.5)")
    parser.add_argument("--windows", type=int, help="playing windows per network (default 3, --quick 2)")
    parser.add_argument("--runs", type=int, help="first-paint runs (default 7, --quick 3)")
    parser.add_argument("--profile", action="store_true", help="also profile one playing window per network")
    parser.add_argument("--only", choices=["smooth", "first-paint", "weight", "latency"], action="append",
                        help="run only these parts (repeatable)")
    parser.add_argument("--chromium", metavar="PATH", help="the Chromium to drive (default: chromium on PATH)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args()
    if sync_playwright is None:
        raise SystemExit("this benchmark needs Playwright for Python: pip install playwright")
    seconds = args.seconds or (2.5 if args.quick else 5.0)
    windows = args.windows or (2 if args.quick else 3)
    runs = args.runs or (3 if args.quick else 7)
    step_runs, play_runs = (5, 3) if args.quick else (15, 7)
    if not 1 <= seconds <= 120 or not 1 <= windows <= 20 or not 1 <= runs <= 50:
        parser.error("--seconds 1–120, --windows 1–20, --runs 1–50")
    parts = set(args.only or ["smooth", "first-paint", "weight", "latency"])
    executable = chromium_path(args.chromium)

    print(f"Backprop Lens page benchmark — {machine_description()}")
    print(f"NumPy BLAS: {blas_threads()}")
    figures: dict = {"machine": machine_description(), "numpy_blas": blas_threads(), "targets": TARGETS,
                     "peer": PEER, "smooth": {}, "first_paint": None, "weight": None, "latency": None}
    with server() as (port, process), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            figures["browser"] = f"Chromium {browser.version} ({executable or 'Playwright build'})"
            print(f"{figures['browser']}, headless, {VIEWPORT['width']}×{VIEWPORT['height']}, "
                  f"server on {HOST}:{port}\n", flush=True)
            base = f"http://{HOST}:{port}"
            context, _ = open_page(browser, base, NETWORKS["default"])    # warms the server and browser
            context.close()
            if "weight" in parts:
                print("measuring the page weight ...", flush=True)
                figures["weight"] = page_weight(browser, base)
            if "first-paint" in parts:
                print(f"measuring the first paint ({runs} fresh contexts) ...", flush=True)
                figures["first_paint"] = first_paint(browser, base, runs)
                if args.profile:
                    figures["first_load_trace"] = trace_first_load(browser, base)
            if "latency" in parts:
                print(f"measuring step and play latency ({step_runs} + {step_runs} steps, {play_runs} plays) ...",
                      flush=True)
                figures["latency"] = latency(browser, base, step_runs, play_runs)
            if "smooth" in parts:
                for name, query in NETWORKS.items():
                    print(f"playing the {name} network: {windows} windows of {seconds:g} s ...", flush=True)
                    figures["smooth"][name] = smooth(browser, base, process.pid, name, query, windows,
                                                     seconds, args.profile)
        finally:
            browser.close()
    print()
    if figures["smooth"]:
        print_smooth(figures["smooth"])
        print_profiles(figures["smooth"])
    if figures["first_paint"]:
        print_first_paint(figures["first_paint"])
    if figures.get("first_load_trace"):
        t = figures["first_load_trace"]
        print_trace("Trace of one more cold first load, navigation → first diagram painted", t)
        print(f"(this load: diagram painted at {ms(t['painted_ms'])} as measured by the page, end of the "
              f"trace's first Commit after it at {ms(t['commit_ms'])})\n")
    if figures["weight"]:
        print_weight(figures["weight"])
    if figures["latency"]:
        print_latency(figures["latency"])
    print("Against TF Playground's figures (issue \"Fast and light\") and the targets:")
    print_table(["figure", "Backprop Lens", "TF Playground", "target", "met"], comparison(figures))
    figures["load_at_end"] = load_average()
    print(f"1-minute load average at the end: {figures['load_at_end']} (at the start: see the first line); "
          f"{os.cpu_count()} CPU(s) shared by the server, the browser and this process")
    if args.json:
        write_json(args.json, figures)


if __name__ == "__main__":
    main()
