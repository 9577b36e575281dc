// Wires the page together: the stream feeds the diagram and charts; keyboard
// shortcuts press the htmx buttons; the session id lives in one hidden input that
// every htmx control includes, so a recovered session is one assignment away.

import { NetworkDiagram } from "./diagram.js";
import { BoundaryChart, LossChart, loadPlotly } from "./charts.js";
import { SessionStream } from "./stream.js";
import { fmt, fmtEpoch, fmtInt } from "./format.js";
import { initPanels } from "./panels/index.js";
import { Timeline } from "./timeline.js";
import { initExports } from "./exports.js";
import "./check.js";
import "./predict.js";
import "./compare.js";

const body = document.body;
const $ = (id) => document.getElementById(id);
const sessionInput = $("session-id");

let drawnKey = null;
let lastStatus = null;
let plotly = null;
let lossChart = null;
let boundaryChart = null;
let latest = null;

if (body.dataset.query !== undefined && location.search.slice(1) !== body.dataset.query) {
  history.replaceState(null, "", "/?" + body.dataset.query);
}

const diagram = new NetworkDiagram($("diagram"), {
  onEdgeClick: (l, i, j, w) => panels.selectEdge(l, i, j, w),
  onNodeClick: (l, i) => panels.selectNode(l, i),
});

function sessionId() {
  return sessionInput.value;
}

function api(path, options = {}) {
  return fetch(`/api/sessions/${sessionId()}${path}`, {
    headers: { "Content-Type": "application/json" },
    ...options,
  });
}

function ensureCharts() {
  if (plotly) return plotly;
  plotly = loadPlotly(body.dataset.plotly);
  lossChart = new LossChart($("loss-chart"), plotly);
  boundaryChart = new BoundaryChart($("boundary-chart"), plotly);
  boundaryChart.onPointClick = (index) =>
    api("/focus", { method: "POST", body: JSON.stringify({ index }) });
  syncChartOptions();
  return plotly;
}

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

function draw(frame) {
  const speed = $("input-speed")?.value;
  diagram.setMode(frame.status === "running" && speed !== "slow" ? "fast" : "phase");
  diagram.render(frame);
  $("epoch").textContent = fmtEpoch(frame.epoch);
  $("step").textContent = fmtInt(frame.step);
  $("loss-train").textContent = fmt(frame.loss.train);
  $("loss-test").textContent = fmt(frame.loss.test);
  $("acc-train").textContent = frame.accuracy ? percent(frame.accuracy.train) : "–";
  $("acc-test").textContent = frame.accuracy ? percent(frame.accuracy.test) : "–";
  onStatus(frame);
  if (!plotly) {
    // Plotly is big: fetch it only after the diagram is on screen.
    requestAnimationFrame(() => setTimeout(() => { ensureCharts(); drawnKey = null; draw(latest); }, 0));
    return;
  }
  const key = `${frame.structure}/${frame.generation}`;
  if (key !== drawnKey) {
    drawnKey = key;
    reloadData();
    panels.onStructure(frame);
  }
  lossChart.push(frame);
  boundaryChart.update(frame);
  panels.onFrame(frame);
}

function percent(x) {
  return x == null ? "–" : `${(100 * x).toFixed(1)} %`;
}

function onStatus({ status, message }) {
  const play = $("btn-play");
  const running = status === "running";
  play.textContent = running ? "❚❚" : "▶";
  play.setAttribute("aria-label", running ? "Pause" : "Play");
  play.setAttribute("aria-pressed", String(running));
  body.dataset.status = status;
  const box = $("message");
  const text = status === "diverged" ? message : null;
  box.hidden = !text;
  $("message-text").textContent = text || "";
  if (status !== lastStatus) lastStatus = status;
}

function onConnection(state) {
  const el = $("connection");
  el.textContent = state === "live" ? "" : "reconnecting…";
  body.dataset.connection = state;
}

function onLost(newId) {
  sessionInput.value = newId;
  drawnKey = null;
  announceSession();
}

// Other modules follow the session through these events rather than importing main.js.
function announceSession() {
  document.dispatchEvent(new CustomEvent("bpl:session", { detail: { id: sessionId() } }));
}
document.addEventListener("bpl:marks", (e) => diagram.setMarks?.(e.detail));

const panels = initPanels({
  root: $("panels"), api, diagram, editWeight,
  getFrame: () => latest,
  getPlotly: () => ensureCharts(),
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

const stream = new SessionStream(sessionId(), { onFrame, onStatus, onConnection, onLost });
announceSession();
stream.open();

// After a divergence: one click to a tenth of the learning rate, from the initial weights.
$("btn-lower-lr").addEventListener("click", () => {
  const input = $("input-learning_rate");
  input.value = String(Number(input.value) / 10);
  input.dispatchEvent(new Event("change", { bubbles: true }));
  document.body.addEventListener("htmx:afterRequest", () => htmx.trigger("#btn-reset", "click"), { once: true });
});

// The settings live all over the page but belong to one form (form="config"); htmx
// listens on the form element, which a control outside it never bubbles to.
document.addEventListener("change", (e) => {
  const form = e.target.form;
  if (form && form.id === "config" && !form.contains(e.target)) htmx.trigger(form, "change");
});

// A control posted to a session the server no longer has: recover, then the user
// simply repeats the action.
document.body.addEventListener("htmx:afterRequest", (e) => {
  if (e.detail.xhr && e.detail.xhr.status === 404) stream.recover();
});

function syncChartOptions() {
  boundaryChart?.setOptions({ showTest: $("show-test").checked, discretize: $("discretize").checked });
}
$("show-test").addEventListener("change", syncChartOptions);
$("discretize").addEventListener("change", syncChartOptions);

// Click an edge: a small dialog to type its new weight.
const dialog = $("weight-dialog");
function editWeight(layer, to, from, w) {
  const input = $("weight-value");
  input.value = String(w);
  dialog.dataset.edge = JSON.stringify({ layer, to, from });
  $("weight-error").textContent = "";
  dialog.showModal();
  input.select();
}
$("weight-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (e.submitter && e.submitter.value === "cancel") return dialog.close();
  const edge = JSON.parse(dialog.dataset.edge);
  const r = await api("/weight", {
    method: "POST",
    body: JSON.stringify({ ...edge, value: $("weight-value").value.trim() === "" ? null : Number($("weight-value").value) }),
  });
  if (r.ok) return dialog.close();
  $("weight-error").textContent = (await r.json()).error.message;
});

// Keyboard shortcuts: space play/pause, → step, r reset — not while typing, and a
// focused button keeps its own space/enter.
const TYPING = new Set(["INPUT", "SELECT", "TEXTAREA", "BUTTON"]);
document.addEventListener("keydown", (e) => {
  if (TYPING.has(e.target.tagName) || dialog.open || e.ctrlKey || e.metaKey || e.altKey) return;
  const button = { " ": "btn-play", ArrowRight: "btn-step", r: "btn-reset" }[e.key];
  if (button) {
    e.preventDefault();
    $(button).click();
  }
});
