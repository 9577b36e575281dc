// Wires the page together: the stream feeds the diagram and charts; keyboard
// shortcuts press the htmx buttons; the session id lives in one hidden input that
// every htmx control inherits, so a recovered session is one assignment away.
//
// The page arrives without a session (a page load holds none): it draws the preview
// frame it carries, then reconnects to the session this tab had for the same link
// (sessionStorage, so a reload or a server restart finds it again) or creates one from
// the link. Until then, API calls and htmx requests wait for it.

import { NetworkDiagram } from "./diagram.js";
import { BoundaryChart, LossChart, loadPlotly } from "./charts.js";
import { SessionStream, MAX_FPS } from "./stream.js";
import { fmt, fmtEpoch, fmtInt, courseLayer, sub } from "./format.js";
import { initPanels } from "./panels/index.js";
import { Timeline } from "./timeline.js";
import { throttle } from "./throttle.js";
import { setText } from "./diagram-util.js";
import { initExports } from "./exports.js";
import "./check.js";
import "./predict.js";
import "./compare.js";
import "./projection.js";

const body = document.body;
const $ = (id) => document.getElementById(id);
const sessionInput = $("session-id");

let drawnKey = null;      // the problem whose data and history the charts show
let structureKey = null;  // …and whose structure the panels know
let lastStatus = null;
let lastMessage = null;
let latest = null;

const STORED = "bpl-session";
const linkQuery = location.search.slice(1);
let markReady;
const ready = new Promise((resolve) => { markReady = resolve; });

const diagram = new NetworkDiagram($("diagram"), {
  onEdgeClick: (l, i, j, w) => panels.selectEdge(l, i, j, w),
  onNodeClick: (l, i) => panels.selectNode(l, i),
});

function sessionId() {
  return sessionInput.value;
}

async function api(path, options = {}) {
  await ready;
  return fetch(`/api/sessions/${sessionId()}${path}`, {
    headers: { "Content-Type": "application/json" },
    ...options,
  });
}

// The right column's charts are the page's own (no library); Plotly is loaded only by
// the panels that need it, when they are shown.
const lossChart = new LossChart($("loss-chart"));
const boundaryChart = new BoundaryChart($("boundary-chart"));
boundaryChart.onPointClick = (index) =>
  api("/focus", { method: "POST", body: JSON.stringify({ index }) });

async function reloadData() {
  let data, history;
  try {
    const replies = await Promise.all([api("/data"), api("/history")]);
    if (!replies.every((r) => r.ok)) throw new Error("session gone");
    [data, history] = await Promise.all(replies.map((r) => r.json()));
  } catch {
    drawnKey = null;   // the server is away: the next frame (after reconnecting) tries again
    return;
  }
  boundaryChart.setData(data);
  lossChart.reset(history);
  if (latest) boundaryChart.update(latest);
}

function onFrame(frame) {
  latest = frame;
  document.dispatchEvent(new CustomEvent("bpl:frame", { detail: frame }));
  timeline.follow(frame);
  if (timeline.viewing) return;   // showing a moment of the past
  draw(frame);
}

// While training streams frames (up to 60/s) the numbers are written ~20×/s, as often as
// the diagram refreshes its values: a frame that changes nothing on screen costs no paint.
const NUMBERS_RUNNING_MS = 50;
let shown = null;   // the frame drawn last (live or from the past)

const showNumbers = throttle(NUMBERS_RUNNING_MS, () => {
  const frame = shown;
  setText($("epoch"), fmtEpoch(frame.epoch));
  setText($("step"), fmtInt(frame.step));
  setText($("loss-train"), fmt(frame.loss.train));
  setText($("loss-test"), fmt(frame.loss.test));
  setText($("acc-train"), frame.accuracy ? percent(frame.accuracy.train) : "–");
  setText($("acc-test"), frame.accuracy ? percent(frame.accuracy.test) : "–");
}, () => shown.status === "running");

function draw(frame) {
  const speed = $("input-speed")?.value;
  diagram.setMode(frame.status === "running" && speed !== "slow" && speed !== "slower" ? "fast" : "phase");
  diagram.render(frame);
  shown = frame;
  showNumbers();
  onStatus(frame);
  // The data and the loss history are the session's: fetched once it exists (the page's
  // preview frame comes before it), and again when the problem changes.
  const key = `${frame.structure}/${frame.generation}`;
  if (key !== structureKey) {
    structureKey = key;
    panels.onStructure(frame);
  }
  if (key !== drawnKey && sessionId()) {
    drawnKey = key;
    reloadData();
  }
  lossChart.push(frame);
  boundaryChart.update(frame);
  panels.onFrame(frame);
}

function percent(x) {
  return x == null ? "–" : `${(100 * x).toFixed(1)} %`;
}

// Every frame says its status: the page changes only when it changed (a write of the same
// text still costs style, layout and paint).
function onStatus({ status, message }) {
  const text = message || "";
  if (status === lastStatus && text === lastMessage) return;
  lastStatus = status;
  lastMessage = text;
  const play = $("btn-play");
  const running = status === "running";
  play.textContent = running ? "❚❚" : "▶";
  play.setAttribute("aria-label", running ? "Pause" : "Play");
  play.setAttribute("aria-pressed", String(running));
  body.dataset.status = status;
  // The server says why a run diverged or stalled (dead ReLUs, saturated units): show any message.
  $("message").hidden = !text;
  $("message-text").textContent = text;
}

const CONNECTION_TEXT = {
  live: "",
  reconnecting: "reconnecting…",
  failed: "Lost the server: reload the page to try again.",
};

function onConnection(state) {
  $("connection").textContent = CONNECTION_TEXT[state];
  body.dataset.connection = state;
}

// The stream follows what this page can draw (stream.js: nextFps); said on hover.
function onPace(fps) {
  body.dataset.streamFps = fps;
  $("connection").title = fps < MAX_FPS
    ? `This page shows about ${fps} frames a second, so the server sends it no more than that.` : "";
}

function onLost(newId, { recovered, dropped }) {
  adopt(newId);
  if (recovered) {
    const without = dropped.length ? ` (without ${dropped.join(", ")}, which the server could not restore)` : "";
    showNotice(`This session could not be recovered; started a new one from the link${without}.`);
    refreshFields();
  } else if (dropped.length) {
    refreshFields();
  }
}

function adopt(id) {
  sessionInput.value = id;
  drawnKey = structureKey = null;
  remember();
  announceSession();
  markReady();
}

// This tab's session for this link, so a reload reconnects to it.
function remember() {
  sessionStorage.setItem(STORED, JSON.stringify({ id: sessionId(), query: location.search.slice(1) }));
}

function stored() {
  try {
    const s = JSON.parse(sessionStorage.getItem(STORED));
    return s && s.query === linkQuery && typeof s.id === "string" ? s.id : null;
  } catch {
    return null;
  }
}

function showNotice(text) {
  const notice = $("ui-notice");
  notice.textContent = text;
  notice.hidden = false;
}

// Re-render settings from the session's configuration (after adopting a session, or
// when its network changed): every field but the one being edited.
function refreshFields(names = "") {
  const active = document.activeElement?.closest?.("[data-field]")?.dataset.field || "";
  return htmx.ajax("POST", "/ui/fields", { source: body, swap: "none", values: { names, skip: active } });
}

// Other modules follow the session through these events rather than importing main.js.
function announceSession() {
  document.dispatchEvent(new CustomEvent("bpl:session", { detail: { id: sessionId() } }));
}
document.addEventListener("bpl:marks", (e) => diagram.setMarks?.(e.detail));

const panels = initPanels({
  root: $("panels"), api, diagram, editWeight,
  getFrame: () => latest,
  getPlotly: () => loadPlotly(body.dataset.plotly),
  step: (unit) => api("/step", { method: "POST", body: JSON.stringify({ unit, count: 1 }) }),
});

const timeline = new Timeline({
  slider: $("timeline-slider"), label: $("timeline-label"), resume: $("timeline-resume"),
  live: $("timeline-live"), api,
  show: (frame) => draw(frame),
  onViewing: (on) => { body.dataset.viewing = String(on); if (!on && latest) draw(latest); },
});
initExports({ api, sessionId, root: $("export-tools") });

// The page carries its session's first frame: draw it now, then open the stream.
const first = document.getElementById("first-frame");
if (first) onFrame(JSON.parse(first.textContent));

const stream = new SessionStream(null, { onFrame, onStatus, onConnection, onLost, onPace });

async function start() {
  const id = stored();
  if (id) {
    try {
      if ((await fetch(`/api/sessions/${id}`)).ok) {
        stream.id = id;
        adopt(id);
        $("link-notice")?.remove();   // the preview could not show this session's data; the stream will
        refreshFields();
        stream.open();
        return;
      }
    } catch {
      // the server is away: recovery below waits for it
    }
  }
  if (body.dataset.query !== undefined && linkQuery !== body.dataset.query) {
    history.replaceState(null, "", "/?" + body.dataset.query);
  }
  stream.recover();   // with no session yet, this creates one from the link
}
start();

// An htmx control used before the page has its session waits for it.
body.addEventListener("htmx:confirm", (e) => {
  if (sessionId()) return;
  e.preventDefault();
  ready.then(() => e.detail.issueRequest(true));
});
// The address bar follows the configuration (HX-Replace-Url); so does this tab's memory.
body.addEventListener("htmx:replacedInHistory", remember);

// After a divergence: one click to a tenth of the learning rate, from the initial weights.
$("btn-lower-lr").addEventListener("click", () => {
  const input = $("input-learning_rate");
  input.value = String(Number(input.value) / 10);
  input.dispatchEvent(new Event("change", { bubbles: true }));
  document.body.addEventListener("htmx:afterRequest", () => htmx.trigger("#btn-reset", "click"), { once: true });
});

// A control posted to a session the server no longer has: recover, then the user
// simply repeats the action.
document.body.addEventListener("htmx:afterRequest", (e) => {
  if (e.detail.xhr && e.detail.xhr.status === 404) stream.recover();
});

function syncChartOptions() {
  boundaryChart.setOptions({ showTest: $("show-test").checked, discretize: $("discretize").checked });
}
syncChartOptions();
$("show-test").addEventListener("change", syncChartOptions);
$("discretize").addEventListener("change", syncChartOptions);

// Click an edge: a small dialog to type its new weight.
const dialog = $("weight-dialog");
function editWeight(layer, to, from, w) {
  const input = $("weight-value");
  input.value = String(w);
  dialog.dataset.shown = input.value;
  dialog.dataset.edge = JSON.stringify({ layer, to, from });
  $("weight-which").textContent =
    `W${courseLayer(layer)}${sub(to + 1)},${sub(from + 1)}: from unit ${from + 1} of layer ${layer + 1} to unit ${to + 1} of layer ${layer + 2}`;
  $("weight-error").textContent = "";
  dialog.showModal();
  input.select();
}
// Cancel is type=button: Enter in the field submits with the default button, Set.
$("weight-cancel").addEventListener("click", () => dialog.close());
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
$("weight-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const edge = JSON.parse(dialog.dataset.edge);
  // Nothing typed, or not a number, sets nothing (it once set w to 0): say so here; the
  // server keeps its own rule (finite, |w| ≤ 1e6) and its message.
  const text = $("weight-value").value.trim().replace(/\u2212/g, "-");
  const say = (message) => { $("weight-error").textContent = message; };
  // The frame carries w rounded (float32): "Set" on the value as shown keeps w exactly.
  if (text === dialog.dataset.shown) return dialog.close();
  if (text === "") return say("Type a number for w (nothing typed leaves it unchanged).");
  if (!NUMBER.test(text) || !Number.isFinite(Number(text))) return say(`“${text.slice(0, 20)}” is not a number: type one like −0.5 or 1.2e-3 (w is unchanged).`);
  const r = await api("/weight", { method: "POST", body: JSON.stringify({ ...edge, value: Number(text) }) });
  if (r.ok) return dialog.close();
  say((await r.json()).error.message);
});

// Keyboard shortcuts: space play/pause, → step, r reset. → steps wherever the focus is
// except where it moves a caret or a slider (a focused select does not change); space
// and r are left to whatever has the focus (a button's own space, a select's letters).
const CARET = new Set(["text", "search", "number", "email", "url", "tel", "password", "range", ""]);
function typing(el) {
  return el.tagName === "TEXTAREA" || el.isContentEditable ||
    (el.tagName === "INPUT" && CARET.has(el.getAttribute("type") || ""));
}
document.addEventListener("keydown", (e) => {
  if (dialog.open || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  if (e.key === "ArrowRight") {
    e.preventDefault();
    $("btn-step").click();
    return;
  }
  if (["INPUT", "SELECT", "TEXTAREA", "BUTTON"].includes(e.target.tagName)) return;
  const button = { " ": "btn-play", r: "btn-reset" }[e.key];
  if (button) {
    e.preventDefault();
    $(button).click();
  }
}, { capture: true });
