// The timeline: a slider over the session's history snapshots. Dragging it shows the
// network and the boundary as they were (the server builds that moment's frame; live
// frames are held back meanwhile); "Resume from here" makes that moment the present.

export class Timeline {
  constructor({ slider, label, resume, live, api, show, onViewing }) {
    Object.assign(this, { slider, label, resume, live, api, show, onViewing });
    this.steps = [];
    this.viewing = false;
    this.pending = null;
    slider.addEventListener("focus", () => this.refresh());
    slider.addEventListener("pointerdown", () => this.refresh());
    slider.addEventListener("input", () => this.view(Number(slider.value)));
    resume.addEventListener("click", () => this.restore());
    live.addEventListener("click", () => this.leave());
  }

  async refresh() {
    const body = await (await this.api("/timeline")).json();
    this.steps = body.steps;
    this.slider.max = String(Math.max(0, this.steps.length - 1));
    if (!this.viewing) this.slider.value = this.slider.max;
  }

  async view(index) {
    if (!this.viewing) {
      await this.api("/pause", { method: "POST" });
      this.setViewing(true);
    }
    this.label.textContent = `step ${this.steps[index] ?? "?"}`;
    // Only the newest request matters while dragging.
    const token = (this.pending = {});
    const response = await this.api(`/timeline/${index}`);
    if (token !== this.pending || !this.viewing || !response.ok) return;
    this.show(await response.json());
  }

  async restore() {
    const index = Number(this.slider.value);
    const r = await this.api(`/timeline/${index}/restore`, { method: "POST" });
    if (r.ok) this.leave();
  }

  leave() {
    this.setViewing(false);
    this.label.textContent = "live";
    this.refresh();
  }

  setViewing(on) {
    this.viewing = on;
    this.resume.disabled = !on;
    this.live.disabled = !on;
    this.onViewing(on);
  }

  // Live frames: keep the slider's end in step with the history, cheaply.
  follow(frame) {
    if (this.viewing) return;
    this.label.textContent = `live · step ${frame.step.toLocaleString("en-US")}`;
  }
}
