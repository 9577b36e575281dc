// "Check your own backprop": download links for the session's problem, the student's
// numbers read from a paste or files (JSON, or gradient CSVs in the course's Θ layout),
// POST /check, and its verdict drawn as text, a table, KaTeX formulas and marks on the
// diagram (bpl:marks). Every number shown comes from the server's reply.

import { fmt, courseLayer, sup, MINUS } from "./format.js";
import { el, renderTex } from "./panels/util.js";

const $ = (id) => document.getElementById(id);

// The formula each mistake got wrong, in the course's notation.
const FORMULA = {
  regularized_bias: String.raw`D^{(l)}_{ij} = \tfrac{1}{m}\Delta^{(l)}_{ij} + \tfrac{\lambda}{m}\Theta^{(l)}_{ij}\ (j \ge 1), \qquad D^{(l)}_{i0} = \tfrac{1}{m}\Delta^{(l)}_{i0}`,
  missing_1_over_m: String.raw`D^{(l)} = \tfrac{1}{m}\Delta^{(l)} + \tfrac{\lambda}{m}W^{(l)}, \qquad J = \tfrac{1}{m}\textstyle\sum_{i=1}^{m}\mathrm{cost}^{(i)} + \tfrac{\lambda}{2m}\sum W^2`,
  sign_flipped: String.raw`J = -\tfrac{1}{m}\textstyle\sum_i\sum_k\big[y_k\log h_k + (1-y_k)\log(1-h_k)\big], \qquad \delta^{(L)} = a^{(L)} - y`,
  transposed: String.raw`\Delta^{(l)} \mathrel{+}= \delta^{(l+1)}\,\big(a^{(l)}\big)^{\mathsf T} \;\in\; \mathbb{R}^{s_{l+1}\times s_l}`,
  no_regularization: String.raw`D^{(l)} = \tfrac{1}{m}\Delta^{(l)} + \tfrac{\lambda}{m}W^{(l)}, \qquad J \mathrel{+}= \tfrac{\lambda}{2m}\textstyle\sum W^2`,
  lambda_scale: String.raw`\frac{\partial}{\partial W}\Big(\frac{\lambda}{2m}\sum W^2\Big) = \frac{\lambda}{m}\,W`,
  missing_g_prime: String.raw`\delta^{(l)} = \big(W^{(l)}\big)^{\mathsf T}\delta^{(l+1)} \odot g'\big(z^{(l)}\big)`,
  delta_of_bias_unit_kept: String.raw`\delta^{(l)} = \Big[\big(\Theta^{(l)}\big)^{\mathsf T}\delta^{(l+1)}\Big]_{2:\mathrm{end}} \odot g'\big(z^{(l)}\big)`,
  wrong_activation_derivative: String.raw`g'\big(z^{(l)}\big) = a^{(l)} \odot \big(1 - a^{(l)}\big) \ \text{(sigmoid)}, \quad \text{not } g'\big(a^{(l)}\big)`,
  cost_mismatch: String.raw`J = \tfrac{1}{m}\textstyle\sum_i\sum_k\big[-y_k\log h_k - (1-y_k)\log(1-h_k)\big] + \tfrac{\lambda}{2m}\sum W^2`,
  gradient_mismatch: String.raw`\frac{\partial J}{\partial W_{ij}} \approx \frac{J(W_{ij}+\varepsilon) - J(W_{ij}-\varepsilon)}{2\varepsilon}`,
};

const root = $("ck");
if (root) init();

function sessionId() {
  return $("session-id")?.value;
}

function init() {
  const form = $("ck-form");
  const status = $("ck-status");
  const result = $("ck-result");
  const clear = $("ck-clear");
  let problemTag = null;   // the ETag of the problem last downloaded from this page

  const links = { json: ["ck-dl-json", "/problem?download=1"], csv: ["ck-dl-csv", "/problem.zip"], npz: ["ck-dl-npz", "/problem.npz"] };
  function setLinks() {
    for (const [id, path] of Object.values(links)) $(id).href = `/api/sessions/${sessionId()}${path}`;
  }
  setLinks();
  document.addEventListener("bpl:session", setLinks);
  // A download remembers which problem it was, so a check after more training says so.
  for (const [id] of Object.values(links)) {
    $(id).addEventListener("click", () => {
      setLinks();
      fetch(`/api/sessions/${sessionId()}/problem`, { method: "HEAD" })
        .then((r) => { if (r.ok) problemTag = (r.headers.get("ETag") || "").replaceAll('"', "") || null; })
        .catch(() => {});
    });
  }

  clear.addEventListener("click", () => {
    marks(null);
    clear.hidden = true;
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.textContent = "Checking…";
    let body;
    try {
      body = await readInput();
    } catch (err) {
      status.textContent = err.message;
      return;
    }
    if (problemTag) body.problem = problemTag;
    try {
      const r = await fetch(`/api/sessions/${sessionId()}/check`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      const reply = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(reply?.error?.message || `HTTP ${r.status}`);
      status.textContent = "";
      show(reply);
    } catch (err) {
      status.textContent = err.message;
    }
  });

  /** The request body from the paste box, or the files (plus J from its own field). */
  async function readInput() {
    const text = $("ck-paste").value.trim();
    const files = [...$("ck-files").files];
    const costText = $("ck-cost").value.trim();
    let body = {};
    if (text) {
      body = parseJson(text, "The pasted text");
    } else if (files.length) {
      const json = files.find((f) => /\.json$/i.test(f.name));
      if (json) {
        body = parseJson(await json.text(), json.name);
      } else {
        const csvs = files.slice().sort((a, b) => naturalOrder(a.name, b.name));
        body.weights = await Promise.all(csvs.map(async (f) => parseMatrix(await f.text(), f.name)));
      }
    }
    if (costText) {
      const J = Number(costText.replaceAll(MINUS, "-"));
      if (!Number.isFinite(J)) throw new Error(`J: "${costText}" is not a number`);
      body.cost = J;
    }
    if (!("cost" in body) && !("weights" in body)) throw new Error("Paste your JSON, choose your files, or type your J first.");
    return body;
  }

  function show(reply) {
    result.hidden = false;
    const ok = reply.ok;
    const verdict = $("ck-verdict");
    verdict.className = "pn-verdict " + (ok ? "ck-ok" : "ck-bad");
    const wrong = reply.layers.flatMap((layer) => ["weights", "biases"].filter((p) => !layer[p].ok)).length;
    const parts = reply.layers.length * 2;
    verdict.textContent = ok
      ? (reply.layers.length ? "✓ Your J and gradients match ours: your backprop is right." : "✓ Your J matches ours.")
      : reply.layers.length
        ? `✗ Not yet: ${wrong} of ${parts} gradient matrices differ${reply.cost.ok === false ? ", and J differs" : ""}.`
        : "✗ Your J differs from ours.";
    $("ck-tol").textContent = power(reply.tolerance);

    const c = reply.cost;
    $("ck-cost-line").replaceChildren(
      el("strong", { text: "J " }),
      c.yours === null ? "yours not sent · " : `yours ${fmt(c.yours)} · `,
      `ours ${fmt(c.ours)}`,
      c.relative_difference === undefined ? "" : ` · relative difference ${fmt(c.relative_difference)} `,
      c.ok === null ? "" : el("span", { class: c.ok ? "ck-tick" : "ck-cross", text: c.ok ? "✓" : "✗" }),
    );

    const tbody = $("ck-layers").tBodies[0];
    $("ck-layers").hidden = !reply.layers.length;
    tbody.replaceChildren(...reply.layers.map((layer, l) => el("tr", {},
      el("th", { scope: "row", text: `Θ${courseLayer(l)}` }),
      cell(layer.weights), cell(layer.biases))));

    const list = $("ck-diagnosis");
    list.replaceChildren(...reply.diagnosis.map((d) => {
      const tex = el("div", { class: "ck-formula" });
      const item = el("li", { dataset: { code: d.code } }, el("p", { text: d.message }), tex);
      if (FORMULA[d.code]) renderTex(tex, FORMULA[d.code], { label: "" });
      return item;
    }));

    const edges = [];
    const nodes = [];
    reply.layers.forEach((layer, l) => {
      for (const [i, j] of layer.weights.differs || []) edges.push([l, i, j]);
      for (const i of layer.biases.differs || []) nodes.push([l + 1, i]);
    });
    marks(edges.length || nodes.length ? { edges, nodes } : null);
    clear.hidden = !(edges.length || nodes.length);
  }
}

/** 1e-7 → "10⁻⁷" (a power of ten as the course writes it), anything else 3 s.f. */
function power(x) {
  const e = Math.log10(x);
  return Number.isInteger(e) ? `10${e < 0 ? "⁻" : ""}${sup(Math.abs(e))}` : fmt(x);
}

function cell(part) {
  return el("td", { class: part.ok ? "ck-ok" : "ck-bad" },
    `${fmt(part.relative_difference)} `, el("span", { text: part.ok ? "✓" : "✗", "aria-label": part.ok ? "ok" : "differs" }));
}

function marks(detail) {
  document.dispatchEvent(new CustomEvent("bpl:marks", { detail: detail || { edges: [], nodes: [] } }));
}

function parseJson(text, what) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`${what} must be a JSON object: {"cost", "weights", "biases"}`);
  return value;
}

/** A CSV (or whitespace-separated) matrix as rows of numbers; says which cell is not one. */
function parseMatrix(text, name) {
  const rows = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith("%") && !line.startsWith("#"));
  return rows.map((line, r) => line.split(/[,;\s]+/).map((cellText, c) => {
    const v = Number(cellText);
    if (cellText === "" || !Number.isFinite(v)) throw new Error(`${name}, row ${r + 1}, column ${c + 1}: "${cellText}" is not a number`);
    return v;
  }));
}

function naturalOrder(a, b) {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
}
