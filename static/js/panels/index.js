// The explanation panels below the main screen: one tab per question a student of the
// course asks (the six steps, δ, why not differentiate directly, why not numerical,
// symmetry, vanishing gradients, digits), and the maths panel beside them.
//
// The panels are views of the frame: every number they show (α, λ, m, the costs, δ,
// g′(z), ∂J/∂W, ΔW) is the frame's or an API reply's; JavaScript formats and draws.
//
// Frames arrive up to 60×/s. They are coalesced here: panels see at most ~4 updates
// a second while training runs (~10 when paused or stepping), and only the panels a
// person can see (selected tab, actually in the viewport) do any work. Data that must
// not be missed while a panel is hidden (the gradient-norm history) is collected
// cheaply on every flush.

import { initStepper } from "./stepper.js";
import { initMaths } from "./maths.js";
import { initProbe } from "./probe.js";
import { initDirect } from "./direct.js";
import { initNumerical } from "./numerical.js";
import { initSymmetry } from "./symmetry.js";
import { initFlow } from "./flow.js";
import { initDigits } from "./digits.js";

const FLUSH_MS = 100;          // paused / stepping
const FLUSH_RUNNING_MS = 250;  // while training streams frames

export function initPanels(ctx) {
  const root = ctx.root;
  const $ = (id) => document.getElementById(id);
  const panels = [];
  const visible = new Map(); // element → intersecting
  let frame = null;
  let timer = 0;
  let lastFlush = 0;

  const app = {
    ctx,
    $,
    frame: () => frame,
    selection: null,    // {kind: "node", l, i} | {kind: "edge", l, i, j}
    async post(path, body) {
      const r = await ctx.api(path, { method: "POST", body: JSON.stringify(body ?? {}) });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(data?.error?.message || `HTTP ${r.status}`);
      return data;
    },
    /** Move the focus example by `by` through the training set (m_train examples). */
    async moveFocus(by) {
      const n = frame?.maths.m_train;
      if (!n) return;
      const index = (frame.focus.index + by + n) % n;
      try { await app.post("/focus", { index }); } catch { /* the stream shows the truth */ }
    },
    /** Change settings through the page's own controls, so they and the URL follow:
     * each control posts itself when it changes. */
    setControls(values) {
      const inputs = [];
      for (const [name, value] of Object.entries(values)) {
        const input = $("input-" + name);
        if (!input) continue;
        // Lists are written space-separated so the server re-renders the field
        // (and its +/− unit buttons) in its canonical form.
        input.value = Array.isArray(value) ? value.join(" ") + " " : String(value);
        inputs.push(input);
      }
      for (const input of inputs) input.dispatchEvent(new Event("change", { bubbles: true }));
    },
    select(sel, source) {
      app.selection = sel;
      for (const p of panels) p.select?.(sel, source);
    },
    showTab(name) {
      const tab = $("tab-" + name);
      if (tab) activate(tab, false);
    },
    isShown: (name) => isShown(panels.find((p) => p.name === name)),
    refresh(name) {
      const p = panels.find((q) => q.name === name);
      if (p && isShown(p) && frame) p.update?.(frame);
    },
  };

  // --- tabs (WAI-ARIA tabs pattern, vertical; arrows, Home/End) -------------------
  const tablist = root.querySelector("[role=tablist]");
  const tabs = [...tablist.querySelectorAll("[role=tab]")];
  function activate(tab, focus = true) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    const name = tab.id.replace(/^tab-/, "");
    for (const p of panels) {
      if (p.name === name) p.shown?.();
      else if (p.el && p.el.hidden) p.hiddenNow?.();
    }
    const p = panels.find((q) => q.name === name);
    if (p && frame) p.update?.(frame);
  }
  tablist.addEventListener("click", (e) => {
    const tab = e.target.closest("[role=tab]");
    if (tab) activate(tab);
  });
  tablist.addEventListener("keydown", (e) => {
    const k = tabs.indexOf(document.activeElement);
    if (k < 0) return;
    const next = {
      ArrowDown: k + 1, ArrowRight: k + 1, ArrowUp: k - 1, ArrowLeft: k - 1,
      Home: 0, End: tabs.length - 1,
    }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    activate(tabs[(next + tabs.length) % tabs.length]);
  });

  // --- visibility -------------------------------------------------------------------
  const io = new IntersectionObserver((entries) => {
    for (const en of entries) {
      const was = visible.get(en.target);
      visible.set(en.target, en.isIntersecting);
      if (en.isIntersecting && !was && frame) {
        const p = panels.find((q) => q.el === en.target);
        p?.update?.(frame);
      }
    }
  }, { rootMargin: "0px" }); // only what is really on screen (a margin made the first panel count at y = 894 of 800)

  function isShown(p) {
    return !!p && !!p.el && !p.el.hidden && visible.get(p.el) === true;
  }

  // --- the panels -------------------------------------------------------------------
  const add = (p) => {
    panels.push(p);
    if (p.el) { visible.set(p.el, false); io.observe(p.el); }
  };
  add(initStepper(app));
  add(initMaths(app));
  add(initProbe(app));
  add(initDirect(app));
  add(initNumerical(app));
  add(initSymmetry(app));
  add(initFlow(app));
  add(initDigits(app));

  // --- frames -----------------------------------------------------------------------
  function flush() {
    timer = 0;
    lastFlush = performance.now();
    if (!frame) return;
    for (const p of panels) {
      p.collect?.(frame);
      if (isShown(p)) p.update?.(frame);
    }
    const banner = $("pn-logreg");
    const logreg = frame.sizes?.length === 2;
    if (banner.hidden === logreg) banner.hidden = !logreg;
  }

  return {
    onFrame(f) {
      frame = f;   // the latest state, whole
      if (timer) return;
      const every = f.status === "running" ? FLUSH_RUNNING_MS : FLUSH_MS;
      timer = setTimeout(flush, Math.max(0, every - (performance.now() - lastFlush)));
    },
    onStructure(f) {
      frame = f;
      app.selection = null;
      for (const p of panels) p.structure?.(f);
      flush();
    },
    selectNode(l, i) {
      app.select({ kind: "node", l, i }, "diagram");
    },
    selectEdge(l, i, j, w) {
      app.select({ kind: "edge", l, i, j }, "diagram");
      // The footer promises "click an edge to edit its weight": unless the whole maths panel
      // (with its own "Edit this weight…" button) is in view, open the editor. (Its top
      // peeking in at 1440×900 and 1920×1080 used to swallow the click.)
      const r = $("pn-maths").getBoundingClientRect();
      if (!(r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight)) ctx.editWeight(l, i, j, w);
    },
  };
}
