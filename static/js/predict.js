// Predict, then see: in step mode (phase by phase, or the six-step stepper) one question
// per pass about *this* network, asked before the backward pass or the update reveals
// it — the sign of a δ, the edge that will change most, whether J goes down — then
// the answer with the numbers of the frame that revealed it, and one line of why.
// Optional (off by default), never blocking (stepping on just reveals the answer), keys
// p / 1–3 / Esc; the tally (right / asked) stays in this browser (localStorage).
//
// It listens to the page's `bpl:frame` events; every number shown is from a frame.

import { fmt, MINUS } from "./format.js";
import { el, unitName, weightName } from "./panels/util.js";

const $ = (id) => document.getElementById(id);
const STORE = "bpl-predict";
const card = $("pd-card");

if (card) init();

function load() {
  try {
    return { on: false, right: 0, asked: 0, ...JSON.parse(localStorage.getItem(STORE) || "{}") };
  } catch {
    return { on: false, right: 0, asked: 0 };
  }
}

function init() {
  const toggle = $("pd-toggle");
  const question = $("pd-question");
  const context = $("pd-context");
  const choices = $("pd-choices");
  const reveal = $("pd-reveal");
  const answer = $("pd-answer");
  const why = $("pd-why");
  const see = $("pd-see");
  const note = $("pd-note");
  const state = load();
  const asked = new Set();   // passes already asked about: "structure/generation/step"
  let latest = null;
  let q = null;              // the open question

  const save = () => { try { localStorage.setItem(STORE, JSON.stringify(state)); } catch { /* private mode */ } };
  const showTally = () => { $("pd-tally").textContent = `${state.right} / ${state.asked}`; };
  toggle.checked = state.on;
  showTally();

  function setOn(on) {
    state.on = on;
    toggle.checked = on;
    save();
    if (!on) close();
    else if (latest) onFrame(latest);
  }
  toggle.addEventListener("change", () => setOn(toggle.checked));
  $("pd-tally-reset").addEventListener("click", () => { state.right = 0; state.asked = 0; save(); showTally(); });
  $("pd-close").addEventListener("click", close);
  see.addEventListener("click", stepOn);

  document.addEventListener("keydown", (e) => {
    if (["INPUT", "SELECT", "TEXTAREA"].includes(e.target.tagName) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    if (e.key === "p") { setOn(!state.on); return; }
    if (!q || card.hidden) return;
    if (e.key === "Escape") { close(); return; }
    const k = Number(e.key);
    if (q.state === "asking" && Number.isInteger(k) && k >= 1 && k <= q.choices.length) choose(q.choices[k - 1].value);
  });

  document.addEventListener("bpl:frame", (e) => onFrame(e.detail));

  function onFrame(f) {
    latest = f;
    if (!state.on) return;
    if (f.status === "running") { close(); return; }
    if (q && q.state !== "revealed") {
      if (q.reveals(f)) return showAnswer(f);
      if (passKey(f) !== q.key || !sameStop(f.cursor, q.cursor)) close();   // moved on elsewhere (reset, timeline)
    }
    const key = passKey(f);
    if (asked.has(key) || (q && q.state !== "revealed")) return;
    const next = questionFor(f);
    if (next) {
      asked.add(key);
      open(next);
    }
  }

  function open(next) {
    q = { ...next, state: "asking", choice: null };
    card.hidden = false;
    card.dataset.kind = q.kind;
    card.dataset.state = "asking";
    question.textContent = q.text;
    context.replaceChildren(...[q.context].flat());
    reveal.hidden = true;
    answer.removeAttribute("data-result");
    see.textContent = "Step to see ▸";
    note.textContent = "or just step on";
    choices.replaceChildren(...q.choices.map((c, k) => {
      const b = el("button", { type: "button", class: "pd-choice", dataset: { choice: c.value }, "aria-pressed": "false" },
        el("kbd", { text: String(k + 1) }), ` ${c.label}`);
      b.addEventListener("click", (e) => { choose(c.value); if (e.detail > 0) b.blur(); });
      return b;
    }));
    if (q.marks) marks(q.marks);
  }

  function choose(value) {
    if (!q || q.state !== "asking") return;
    q.choice = value;
    q.state = "answered";
    card.dataset.state = "answered";
    for (const b of choices.children) b.setAttribute("aria-pressed", String(b.dataset.choice === value));
    note.textContent = "Locked in — step to see.";
  }

  function showAnswer(f) {
    const result = q.answer(f);
    const answered = q.choice !== null;
    const right = answered && result.value === q.choice;
    if (answered) {
      state.asked += 1;
      if (right) state.right += 1;
      save();
      showTally();
    }
    q.state = "revealed";
    card.dataset.state = "revealed";
    answer.dataset.result = answered ? (right ? "right" : "wrong") : "skipped";
    const verdict = answered ? (right ? "✓ Right. " : "✗ Not this time. ") : "You did not answer (not counted). ";
    answer.replaceChildren(el("strong", { text: verdict }), result.text);
    why.textContent = result.why;
    reveal.hidden = false;
    for (const b of choices.children) {
      b.disabled = true;
      b.classList.toggle("pd-correct", b.dataset.choice === result.value);
    }
    see.textContent = "Step on ▸";
    note.textContent = "";
    if (q.marks) marks(null);
  }

  function close() {
    if (q?.marks && q.state !== "revealed") marks(null);
    q = null;
    card.hidden = true;
    delete card.dataset.state;
  }

  async function stepOn() {
    const id = $("session-id")?.value;
    if (!id) return;
    try {
      const r = await fetch(`/api/sessions/${id}/step`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ unit: "phase", count: 1 }),
      });
      if (!r.ok) note.textContent = (await r.json().catch(() => ({})))?.error?.message || `HTTP ${r.status}`;
    } catch (err) {
      note.textContent = err.message;
    }
  }
}

// ---------------------------------------------------------------------------------------
// The questions. Each names the stop it is asked at, and reads its answer from the frame
// that reveals it (the backward stop that computes that δ, or the update).

const passKey = (f) => `${f.structure}/${f.generation}/${f.step}`;
const sameStop = (a, b) => a?.phase === b?.phase && (a?.layer ?? null) === (b?.layer ?? null);
const at = (f, phase, layer = null) => f.cursor && f.cursor.example === undefined && sameStop(f.cursor, { phase, layer });
const sign = (x) => (x > 0 ? "+" : x < 0 ? "-" : "0");
const SIGN_NAME = { "+": "positive", "-": "negative", 0: "zero" };

function kinds(f) {
  const L = f.sizes.length - 1;
  return ["delta_out", ...(L >= 2 ? ["delta_hidden"] : []), "edge", "loss"];
}

function questionFor(f) {
  const list = kinds(f);
  const kind = list[f.step % list.length];
  const make = { delta_out: deltaOut, delta_hidden: deltaHidden, edge: edgeQuestion, loss: lossQuestion }[kind];
  const q = make(f);
  return q ? { kind, key: passKey(f), cursor: f.cursor, ...q } : null;
}

function signChoices(allowZero) {
  return [{ value: "+", label: "positive (+)" }, { value: "-", label: `negative (${MINUS})` },
    ...(allowZero ? [{ value: "0", label: "exactly 0" }] : [])];
}

function deltaOut(f) {
  const L = f.sizes.length - 1;
  if (!at(f, "cost") || !f.focus?.a?.[L]) return null;
  const k = f.step % f.sizes[L];
  const a = f.focus.a[L][k];
  const y = f.focus.y?.[k];
  return {
    text: `Which sign will δ of ${unitName(f, L, k)} have for this example?`,
    context: [`Its output a = ${fmt(a)}; the target y = ${fmt(y)}.`],
    choices: signChoices(false),
    reveals: (g) => g.step === f.step && at(g, "backward", L) && g.focus?.delta?.[L] != null,
    answer: (g) => {
      const d = g.focus.delta[L][k];
      return {
        value: sign(d),
        text: `δ = ${fmt(d)} (${SIGN_NAME[sign(d)]}).`,
        why: `At the output δ⁽ᴸ⁾ = a − y = ${fmt(a)} − ${fmt(y)}: the output is ${d < 0 ? "below" : "above"} its target, `
          + `so J falls if this unit's z ${d < 0 ? "rises" : "falls"}.`,
      };
    },
  };
}

function deltaHidden(f) {
  const L = f.sizes.length - 1;
  const l = L - 1;
  if (!at(f, "backward", L) || !f.focus?.delta?.[L]) return null;
  const i = f.step % f.sizes[l];
  const out = f.weights[l].map((row) => row[i]);           // W⁽ˡ⁾ₖᵢ: from this unit to output k
  const dOut = f.focus.delta[L];
  const terms = out.map((w, k) => `${weightName(l, k, i)} = ${fmt(w)} with δ = ${fmt(dOut[k])}`).slice(0, 4);
  return {
    text: `Which sign will δ of ${unitName(f, l, i)} have for this example?`,
    context: [`It sends its error back along: ${terms.join("; ")}${out.length > 4 ? "; …" : ""}.`],
    choices: signChoices(f.activation === "relu"),
    reveals: (g) => g.step === f.step && at(g, "backward", l) && g.focus?.delta?.[l] != null,
    answer: (g) => {
      const d = g.focus.delta[l][i];
      const gp = g.focus.g_prime?.[l]?.[i];
      const gpText = gp == null ? "g′(z)" : `g′(z) = ${fmt(gp)}`;
      const tail = f.activation === "relu"
        ? `${gpText} is 1 for an active ReLU and 0 for an inactive one (then δ = 0).`
        : `${gpText} is never negative for ${f.activation}, so δ has the sign of the weighted errors it feeds.`;
      return {
        value: sign(d),
        text: `δ = ${fmt(d)} (${SIGN_NAME[sign(d)]}).`,
        why: `δ⁽ˡ⁾ = (W⁽ˡ⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ g′(z⁽ˡ⁾): the sum of outgoing weight × δ, times g′. ${tail}`,
      };
    },
  };
}

function edgeQuestion(f) {
  if (!at(f, "backward", 1) || !f.weights) return null;
  const nW = f.weights.length;
  const layers = Array.from({ length: nW }, (_, k) => (f.step + k) % nW);
  const l = layers.find((k) => f.weights[k].length * f.weights[k][0].length >= 2);
  if (l === undefined) return null;
  const rows = f.weights[l].length;
  const cols = f.weights[l][0].length;
  const n = rows * cols;
  const spread = Math.max(1, Math.floor(n / 3));   // 2·spread < n: min(3, n) distinct edges (ceil gave 2 of 4)
  const picks = [...new Set([0, 1, 2].map((t) => ((f.step * 7) % n + t * spread) % n))].slice(0, Math.min(3, n));
  const edges = picks.map((p) => [l, Math.floor(p / cols), p % cols]);
  return {
    text: "Which of these edges will change most in this update?",
    context: ["Marked on the diagram. ΔW = −α·∂J/∂W for gradient descent."],
    choices: edges.map(([, i, j]) => ({ value: `${i},${j}`, label: `${weightName(l, i, j)} (now ${fmt(f.weights[l][i][j])})` })),
    marks: { edges, nodes: [] },
    reveals: (g) => g.step === f.step + 1 && at(g, "update") && g.update?.W?.[l] != null,
    answer: (g) => {
      const changes = edges.map(([, i, j]) => g.update.W[l][i][j]);
      let best = 0;
      changes.forEach((c, k) => { if (Math.abs(c) > Math.abs(changes[best])) best = k; });
      const [, bi, bj] = edges[best];
      const adam = /adam/i.test(g.optimizer || g.maths?.optimizer || "");
      return {
        value: `${bi},${bj}`,
        text: `${weightName(l, bi, bj)} changed most: ` + edges.map(([, i, j], k) => `${weightName(l, i, j)} ${fmt(changes[k])}`).join(" · ") + ".",
        why: adam
          ? "Adam divides each weight's step by its own running gradient size, so step sizes even out; the sign of ∂J/∂W still sets the direction."
          : "ΔW = −α·∂J/∂W and ∂J/∂Wᵢⱼ averages δᵢ·aⱼ over the batch: the edge from a strongly active unit into a unit with a large error moves most.",
      };
    },
  };
}

function lossQuestion(f) {
  if (!at(f, "backward", 1) || f.loss?.train == null) return null;
  const before = f.loss.train;
  const alpha = f.learning_rate ?? f.maths?.learning_rate;
  return {
    text: "After this update, will J (on the training set) go up or down?",
    context: [`J = ${fmt(before)} now; learning rate α = ${fmt(alpha)}.`],
    choices: [{ value: "down", label: "down ↓" }, { value: "up", label: "up ↑" }],
    reveals: (g) => g.step === f.step + 1 && at(g, "update") && g.loss?.train != null,
    answer: (g) => {
      const after = g.loss.train;
      return {
        value: after > before ? "up" : "down",
        text: `J went from ${fmt(before)} to ${fmt(after)} (${after > before ? "up" : "down"}).`,
        why: after > before
          ? "A step against the gradient lowers J only if it is small enough: this α overshoots (or the batch's gradient points elsewhere than the whole set's)."
          : "The update steps against ∂J/∂W, the direction in which J falls fastest; for a small enough α, J goes down.",
      };
    },
  };
}

function marks(detail) {
  document.dispatchEvent(new CustomEvent("bpl:marks", { detail: detail || { edges: [], nodes: [] } }));
}
