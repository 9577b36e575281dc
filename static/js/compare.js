// Compare runs (issue 17): fork this page's session with one setting changed and watch
// both runs side by side — two small diagrams, two decision boundaries, both loss curves
// on one chart — stepping and playing together. The server makes the fork
// (POST /api/sessions/<id>/fork); this module asks, streams and draws, nothing more.
// Any element with data-compare="<suggestion>" opens the overlay on that comparison.

import { NetworkDiagram } from "./diagram.js";
import { BoundaryChart, loadPlotly } from "./charts.js";
import { SessionStream } from "./stream.js";
import { fmt, fmtEpoch, fmtInt } from "./format.js";

const $ = (id) => document.getElementById(id);
const dialog = $("compare");
const RUN_COLOURS = { a: "#1f2933", b: "#c2185b" };   // run identity only: chips and loss lines
const RANDOM_INITS = new Set(["uniform", "glorot", "he"]);
const LOSS_FLUSH_MS = 250;
const MAX_POINTS = 3000;

// -- what to compare ----------------------------------------------------------------
// Each suggestion reads your run's configuration and says what the fork changes (b) and,
// rarely, what your run should be first (a: applied through the page's own settings form,
// so the controls, the address bar and the server stay in agreement).

const effectiveLambda = (c) => (c.regularization === "none" ? 0 : c.lambda);
const optimizer = (name) => (c) => (c.optimizer === name
  ? { refuse: `Your run already uses ${name}: pick another optimizer for the fork.` }
  : { b: { optimizer: name } });

const SUGGESTIONS = {
  lr10: (c) => ({ b: { learning_rate: Math.min(100, Number((c.learning_rate * 10).toPrecision(6))) } }),
  init: (c) => ({ b: { init: RANDOM_INITS.has(c.init) ? "constant" : "uniform" } }),
  activation: (c) => {
    if (c.activation === "sigmoid") return { b: { activation: "relu" } };
    if (c.activation === "relu") return { b: { activation: "sigmoid" } };
    return { a: { activation: "sigmoid" }, b: { activation: "relu" } };
  },
  gd: optimizer("gd"),
  sgd: optimizer("sgd"),
  momentum: optimizer("momentum"),
  adam: optimizer("adam"),
  lambda: (c) => ({
    b: { regularization: c.regularization === "none" ? "l2" : c.regularization, lambda: effectiveLambda(c) === 1 ? 0 : 1 },
  }),
};

// -- naming the difference ("α 0.03 vs 0.3") --------------------------------------------

const SYMBOLS = { learning_rate: "α", lambda: "λ", init_epsilon: "ε_init", batch_size: "batch", points: "points",
  noise: "noise", train_ratio: "train share", seed: "seed", layers: "layers", features: "features" };
const SUFFIXES = { init: " init", dataset: " data", output: " output", loss: " loss" };
const NAMES = { relu: "ReLU", sigmoid: "sigmoid", tanh: "tanh", cross_entropy: "cross-entropy", mse: "MSE" };
const IGNORED = new Set(["speed", "regularization"]);   // λ carries the regularization (see show)

function show(key, c) {
  const v = key === "lambda" ? effectiveLambda(c) : c[key];
  if (Array.isArray(v)) return v.length ? v.join("-") : "none";
  if (typeof v === "number") return String(Number(v.toPrecision(3)));
  return NAMES[v] ?? String(v);
}

/** The settings in which the two configurations differ, each as [key, text a, text b]. */
export function differences(a, b) {
  const keys = Object.keys(a).filter((k) => !IGNORED.has(k) && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  if (a.regularization !== b.regularization && !keys.includes("lambda")) keys.push("lambda");
  return keys.map((k) => {
    const reg = (c) => (k === "lambda" && c.regularization === "l1" ? " (L1)" : "");
    return [k, show(k, a) + reg(a), show(k, b) + reg(b)];
  });
}

function labelOf(diffs, side) {
  return diffs.map(([k, ...texts]) => SYMBOLS[k] ? `${SYMBOLS[k]} ${texts[side]}` : texts[side] + (SUFFIXES[k] || "")).join(", ");
}

export function titleOf(diffs) {
  if (!diffs.length) return "Two identical runs";
  return diffs.map(([k, ta, tb]) => SYMBOLS[k] ? `${SYMBOLS[k]} ${ta} vs ${tb}` : `${ta} vs ${tb}${SUFFIXES[k] || ""}`).join(", ");
}

// -- the server -----------------------------------------------------------------------

async function call(id, path = "", { method = "POST", body } = {}) {
  const r = await fetch(`/api/sessions/${id}${path}`, {
    method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body),
  });
  const json = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) {
    const error = new Error(json?.error?.message || `The server answered ${r.status}`);
    error.status = r.status;
    throw error;
  }
  return json;
}

const getSummary = (id) => call(id, "", { method: "GET" });

/** Your run's settings changed the way a person changes them: one control at a time,
 *  through its own htmx post, so the controls, the address bar and the server agree. */
async function applyToPage(patch) {
  for (const [key, value] of Object.entries(patch)) {
    const input = $(`input-${key}`);
    if (!input) throw new Error(`This page has no ${key} control`);
    const done = new Promise((resolve) => document.body.addEventListener("htmx:afterRequest", resolve, { once: true }));
    input.value = String(value);
    input.dispatchEvent(new Event("change", { bubbles: true }));
    await done;
  }
}

/** This page's session id, once the page has one (a page load alone holds none). */
function pageSession() {
  const id = $("session-id").value;
  if (id) return Promise.resolve(id);
  return new Promise((resolve) => document.addEventListener("bpl:session", (e) => resolve(e.detail.id), { once: true }));
}

// The overlay's streams never replace a lost session with a new one (the page's own
// stream does that for your run): a comparison whose session is gone has ended.
class PairStream extends SessionStream {
  open() {
    this.active = true;
    super.open();
  }

  stop() {
    this.active = false;
    this.close();
  }

  async recover() {
    if (this.recovering) return;
    this.recovering = true;
    this.close();
    for (let attempt = 0; attempt < 8 && this.active; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 4000)));
      try {
        const r = await fetch(`/api/sessions/${this.id}`);
        if (r.ok && this.active) {
          this.recovering = false;
          this.open();
          return;
        }
        if (r.status === 404) break;
      } catch {
        // the server is away: try again
      }
    }
    this.recovering = false;
    if (this.active) this.handlers.onLost(null);
  }
}

// -- both loss curves on one chart ---------------------------------------------------

class PairLossChart {
  constructor(el, plotly) {
    this.el = el;
    this.P = null;
    this.labels = { a: "your run", b: "the fork" };
    this.d = { a: empty(), b: empty() };
    this.pend = { a: empty(), b: empty() };
    this.timer = 0;
    plotly.then((P) => { this.P = P; this.plot(); }, () => { el.textContent = "The chart library could not be loaded."; });
  }

  setLabels(labels) {
    this.labels = labels;
    this.plot();
  }

  reset(run, history) {
    const h = history || {};
    this.d[run] = { step: [...(h.step || [])], train: [...(h.train || [])], test: [...(h.test || [])] };
    this.pend[run] = empty();
    this.plot();
  }

  push(run, frame) {
    const d = this.d[run], p = this.pend[run];
    const last = p.step.length ? p.step[p.step.length - 1] : d.step[d.step.length - 1] ?? -Infinity;
    if (!Number.isFinite(frame.step) || frame.step === last) return;
    if (frame.step < last) return this.reset(run, null);   // reset, or a jump back in time
    p.step.push(frame.step);
    p.train.push(finite(frame.loss?.train));
    p.test.push(finite(frame.loss?.test));
    if (!this.timer) this.timer = setTimeout(() => this.flush(), LOSS_FLUSH_MS);
  }

  flush() {
    this.timer = 0;
    let thinned = false;
    for (const run of ["a", "b"]) {
      const d = this.d[run], p = this.pend[run];
      for (const k of ["step", "train", "test"]) d[k].push(...p[k]);
      if (d.step.length > MAX_POINTS) {
        for (const k of ["step", "train", "test"]) d[k] = d[k].filter((_, i) => i % 2 === 0 || i === d.step.length - 1);
        thinned = true;
      }
    }
    const pend = this.pend;
    this.pend = { a: empty(), b: empty() };
    if (!this.P) return;
    if (thinned || !this.el.querySelector(".main-svg")) return this.plot();
    const xs = [pend.a.step, pend.a.step, pend.b.step, pend.b.step];
    if (xs.every((x) => !x.length)) return;
    this.P.extendTraces(this.el, { x: xs, y: [pend.a.train, pend.a.test, pend.b.train, pend.b.test] }, [0, 1, 2, 3]);
  }

  plot() {
    if (!this.P) return;
    const line = (run, kind, dash) => ({
      type: "scatter", mode: "lines", name: `${this.labels[run]} · ${kind}`,
      x: this.d[run].step.slice(), y: this.d[run][kind === "train J" ? "train" : "test"].slice(),
      line: { color: RUN_COLOURS[run], width: 2, dash }, connectgaps: false,
      hovertemplate: `${this.labels[run]} · ${kind}: %{y:.3g}<extra>step %{x}</extra>`,
    });
    const traces = [line("a", "train J", "solid"), line("a", "test J", "dot"), line("b", "train J", "solid"), line("b", "test J", "dot")];
    this.P.react(this.el, traces, {
      font: { family: "system-ui, sans-serif", size: 11, color: "#333" },
      margin: { l: 46, r: 12, t: 8, b: 32 },
      legend: { orientation: "h", x: 0, y: 1, yanchor: "bottom", font: { size: 11 } },
      xaxis: { title: { text: "step", standoff: 2 }, zeroline: false, rangemode: "tozero" },
      yaxis: { title: { text: "cost J", standoff: 4 }, zeroline: false, rangemode: "tozero" },
      plot_bgcolor: "#fff", paper_bgcolor: "rgba(0,0,0,0)", uirevision: "compare",
    }, { displaylogo: false, responsive: true, modeBarButtons: [["toImage"]], toImageButtonOptions: { filename: "compare-loss" } });
  }

  destroy() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.P?.purge(this.el);
  }
}

const empty = () => ({ step: [], train: [], test: [] });
const finite = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

// -- one run of the pair --------------------------------------------------------------

class Run {
  constructor(key, section, pair) {
    this.key = key;
    this.section = section;
    this.pair = pair;
    this.id = null;
    this.status = null;
    this.shown = null;       // structure/generation whose data and history are loaded
    const q = (sel) => section.querySelector(sel);
    this.out = { step: q(".cmp-step"), epoch: q(".cmp-epoch"), loss: q(".cmp-loss-train"), acc: q(".cmp-acc"),
      label: q(".cmp-label"), message: q(".cmp-message") };
    q(".cmp-chip").style.background = RUN_COLOURS[key];
  }

  attach(id, label, plotly) {
    this.detach();
    this.id = id;
    this.section.dataset.session = id;
    this.out.label.textContent = label;
    // Fresh hosts: the diagram and the chart each own theirs (listeners included).
    const host = (sel) => {
      const old = this.section.querySelector(sel);
      const fresh = old.cloneNode(false);
      old.replaceWith(fresh);
      return fresh;
    };
    this.diagram = new NetworkDiagram(host(".cmp-diagram"), { height: diagramHeight() });
    this.boundary = new BoundaryChart(host(".cmp-boundary"), plotly);
    this.stream = new PairStream(id, {
      onFrame: (f) => this.onFrame(f),
      onStatus: (s) => this.onStatus(s),
      onConnection: (state) => this.pair.onConnection(this, state),
      onLost: () => this.pair.ended(this),
    });
    this.stream.open();
  }

  detach() {
    this.stream?.stop();
    this.diagram?.destroy();
    this.boundary?.destroy();
    this.stream = this.diagram = this.boundary = null;
    this.id = this.status = this.shown = null;
    delete this.section.dataset.session;
    for (const o of [this.out.step, this.out.epoch, this.out.loss, this.out.acc]) o.textContent = "–";
    this.out.message.hidden = true;
  }

  onFrame(f) {
    const speed = $("input-speed")?.value;
    this.diagram.setMode(f.status === "running" && speed !== "slow" && speed !== "slower" ? "fast" : "phase");
    this.diagram.render(f);
    this.out.step.textContent = fmtInt(f.step);
    this.out.epoch.textContent = fmtEpoch(f.epoch);
    this.out.loss.textContent = fmt(f.loss?.train);
    this.out.acc.textContent = f.accuracy ? `${fmt(100 * f.accuracy.test)} %` : "–";
    const key = `${f.structure}/${f.generation}`;
    if (key !== this.shown) {
      this.shown = key;
      this.reload();
    }
    this.boundary.update(f);
    this.pair.loss.push(this.key, f);
    this.onStatus(f);
  }

  async reload() {
    try {
      const [data, history] = await Promise.all([call(this.id, "/data", { method: "GET" }), call(this.id, "/history", { method: "GET" })]);
      this.boundary?.setData(data);
      this.pair.loss.reset(this.key, history);
    } catch {
      this.shown = null;   // try again with the next frame
    }
  }

  onStatus({ status, message }) {
    this.status = status;
    this.section.dataset.status = status;
    this.out.message.hidden = status !== "diverged";
    this.out.message.textContent = status === "diverged" ? message || "This run diverged." : "";
    this.pair.syncTransport();
  }
}

function diagramHeight() {
  return window.matchMedia("(max-width: 760px)").matches ? 220 : Math.max(170, Math.min(320, window.innerHeight - 560));
}

// -- the pair and its controls ----------------------------------------------------------

class Comparison {
  constructor() {
    this.plotly = null;
    this.loss = null;
    this.runs = [...dialog.querySelectorAll(".cmp-run")].map((s) => new Run(s.dataset.run, s, this));
    this.busy = false;
    this.buttons = { play: $("cmp-play"), step: $("cmp-step"), reset: $("cmp-reset") };
    this.buttons.play.addEventListener("click", () => this.toggle());
    this.buttons.step.addEventListener("click", () => this.both("/step", { unit: $("cmp-unit").value, count: 1 }));
    this.buttons.reset.addEventListener("click", () => this.both("/reset"));
    $("cmp-close").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => this.stop());
    dialog.addEventListener("keydown", (e) => this.onKey(e));
    $("cmp-custom").addEventListener("submit", (e) => {
      e.preventDefault();
      const field = $("cmp-field").value, value = $("cmp-value").value.trim();
      if (!value) return this.say("Type the fork's new value first.");
      this.start((c) => ({ b: field === "lambda" && c.regularization === "none" ? { regularization: "l2", lambda: value } : { [field]: value } }));
    });
    // Suggestions here and anywhere on the page (the panels' "compare side by side").
    document.addEventListener("click", (e) => {
      const el = e.target.closest?.("[data-compare]");
      if (el && SUGGESTIONS[el.dataset.compare]) this.start(SUGGESTIONS[el.dataset.compare]);
    });
    $("btn-compare").addEventListener("click", () => this.open());
    window.addEventListener("pagehide", () => this.dropFork(true));
  }

  open() {
    if (!dialog.open) dialog.showModal();
    if (!this.plotly) {
      this.plotly = loadPlotly(document.body.dataset.plotly);
      this.loss = new PairLossChart($("cmp-loss"), this.plotly);
    }
    const current = $("input-optimizer")?.value;   // your run's own optimizer is no comparison
    for (const b of dialog.querySelectorAll(".cmp-pick-group [data-compare]")) b.disabled = b.dataset.compare === current;
    if (dialog.dataset.state === "pick") dialog.querySelector(".cmp-pick [data-compare]")?.focus();
  }

  say(text) {
    $("cmp-status").textContent = text || "";
  }

  /** Fork your run with the suggestion's change and show both. */
  async start(suggest) {
    if (this.busy) return;
    this.open();
    this.busy = true;
    dialog.dataset.state = "starting";
    this.say("Forking your run…");
    try {
      const parent = await pageSession();
      let config = (await getSummary(parent)).config;
      const plan = suggest(config);
      if (plan.refuse) throw new Error(plan.refuse);
      if (plan.a && Object.entries(plan.a).some(([k, v]) => config[k] !== v)) {
        await applyToPage(plan.a);
        config = (await getSummary(parent)).config;
      }
      await this.dropFork();
      const was = (await getSummary(parent)).status;
      if (was === "running") await call(parent, "/pause");
      if ($("cmp-restart").checked) await call(parent, "/reset");
      const fork = await call(parent, "/fork", { body: plan.b || {} });
      const diffs = differences(config, fork.config);
      $("cmp-title").textContent = titleOf(diffs);
      const labels = { a: labelOf(diffs, 0) || "your run", b: labelOf(diffs, 1) || "the fork" };
      this.loss.setLabels(labels);
      const [a, b] = this.runs;
      a.attach(parent, labels.a, this.plotly);
      b.attach(fork.id, labels.b, this.plotly);
      this.fork = fork.id;
      dialog.dataset.state = "comparing";
      this.say(fork.step === 0 && diffs.length ? "Both runs start from step 0 of the same seed." : `Both runs continue from step ${fmtInt(fork.step)}.`);
      this.syncTransport();
      this.buttons.play.focus();
      if (was === "running") await this.both("/run");
    } catch (err) {
      dialog.dataset.state = this.fork ? "comparing" : "pick";
      this.say(err.message);
    } finally {
      this.busy = false;
      this.syncTransport();
    }
  }

  /** The same command to both runs at once. */
  async both(path, body) {
    const ids = this.runs.map((r) => r.id).filter(Boolean);
    if (ids.length < 2) return;
    const replies = await Promise.allSettled(ids.map((id) => call(id, path, { body })));
    const failed = replies.find((r) => r.status === "rejected");
    this.say(failed ? failed.reason.message : "");
  }

  toggle() {
    return this.both(this.runs.some((r) => r.status === "running") ? "/pause" : "/run");
  }

  syncTransport() {
    const ready = dialog.dataset.state === "comparing" && this.runs.every((r) => r.id);
    for (const b of Object.values(this.buttons)) b.disabled = !ready;
    const running = this.runs.some((r) => r.status === "running");
    const play = this.buttons.play;
    play.textContent = running ? "❚❚" : "▶";
    play.setAttribute("aria-label", running ? "Pause both" : "Play both");
    play.setAttribute("aria-pressed", String(running));
    dialog.dataset.status = running ? "running" : "paused";
  }

  onConnection(run, state) {
    run.section.dataset.connection = state;
    if (state === "reconnecting") this.say("Reconnecting…");
    else if ($("cmp-status").textContent === "Reconnecting…") this.say("");
  }

  ended(run) {
    this.say(`${run.key === "a" ? "Your run" : "The fork"} has ended on the server (expired or restarted): close this and compare again.`);
    run.stream?.stop();
    dialog.dataset.state = "ended";
    this.syncTransport();
  }

  async dropFork(unloading = false) {
    const id = this.fork;
    this.fork = null;
    this.runs[1].detach();
    if (id) await fetch(`/api/sessions/${id}`, { method: "DELETE", keepalive: unloading }).catch(() => {});
  }

  /** Closing: the fork is deleted; your run carries on in the page as it is. */
  stop() {
    this.runs[0].detach();
    this.dropFork();
    this.loss?.reset("a", null);
    this.loss?.reset("b", null);
    dialog.dataset.state = "pick";
    $("cmp-title").textContent = "Compare two runs";
    this.say("");
    this.syncTransport();
  }

  // Space plays/pauses both, → steps both, r resets both; the page's own shortcuts are
  // kept out while the overlay is open. Esc closes it (the dialog's own behaviour).
  onKey(e) {
    if (e.key === "Escape") return;
    e.stopPropagation();
    const tag = e.target.tagName;
    if (["INPUT", "SELECT", "TEXTAREA"].includes(tag) || (tag === "BUTTON" && (e.key === " " || e.key === "Enter"))) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const button = { " ": this.buttons.play, ArrowRight: this.buttons.step, r: this.buttons.reset }[e.key];
    if (button && !button.disabled) {
      e.preventDefault();
      button.click();
    }
  }
}

if (dialog) new Comparison();
