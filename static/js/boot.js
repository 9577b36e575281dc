// The page's entry module. The HTML already shows the network (the server draws the
// diagram, its heatmaps and numbers: app/web/preview.py), so the first paint must not
// wait for — or share the machine with — anything else: not the page's other modules,
// not htmx, not the styles of what lies below the first screen. Their URLs are in the
// page (#after-paint, versioned by the server); after the first paint they are all
// requested at once (modulepreload: fetched and compiled in parallel, no waterfall of
// imports), and main.js runs once htmx is there, since its controls are htmx controls.

function afterPaint() {
  const list = document.getElementById("after-paint");
  const { styles = [], scripts = [], modules = [] } = list ? JSON.parse(list.textContent) : {};
  const add = (tag, attrs) => {
    const el = Object.assign(document.createElement(tag), attrs);
    document.head.append(el);
    return el;
  };
  for (const href of styles) add("link", { rel: "stylesheet", href });
  for (const href of modules) add("link", { rel: "modulepreload", href });
  const loaded = scripts.map((src) => new Promise((resolve) => {
    // in order, as <script defer> would run them; an error still lets the page start
    const el = add("script", { src, async: false });
    el.addEventListener("load", resolve, { once: true });
    el.addEventListener("error", resolve, { once: true });
  }));
  Promise.all(loaded).then(() => import("./main.js"));
}

requestAnimationFrame(() => setTimeout(afterPaint));
