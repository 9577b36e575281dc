// Share and export: copy the page's link (it holds the whole configuration and seed),
// download weights / loss history / a Python script, and import weights from a file.

export function initExports({ api, sessionId, root }) {
  const $ = (sel) => root.querySelector(sel);
  const status = $(".export-status");
  const say = (text) => { status.textContent = text; };

  function refreshLinks() {
    const id = sessionId();
    $("[data-export=weights]").href = `/api/sessions/${id}/params?download=1`;
    $("[data-export=history]").href = `/api/sessions/${id}/history.csv`;
    $("[data-export=python]").href = `/api/sessions/${id}/export.py`;
  }
  for (const a of root.querySelectorAll("[data-export]")) {
    a.addEventListener("pointerdown", refreshLinks);
    a.addEventListener("focus", refreshLinks);
  }
  refreshLinks();

  $("[data-action=copy-link]").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      say("Link copied: it rebuilds this network, data and initial weights.");
    } catch {
      say(`Copy this link: ${location.href}`);
    }
  });

  const picker = $("input[type=file]");
  $("[data-action=import]").addEventListener("click", () => picker.click());
  picker.addEventListener("change", async () => {
    const file = picker.files[0];
    picker.value = "";
    if (!file) return;
    let body;
    try {
      body = JSON.parse(await file.text());
    } catch {
      return say(`${file.name} is not JSON: export weights from this page to get the right format.`);
    }
    const r = await api("/params", { method: "PUT", body: JSON.stringify(body) });
    say(r.ok ? `Weights imported from ${file.name}.` : (await r.json()).error.message);
  });
}
