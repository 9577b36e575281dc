// The page's connection to its session: an EventSource on the SSE stream that keeps
// only the newest frame and says "reconnecting…" while the server is away.
//
// When the stream is refused, `recover` finds out why with a HEAD on the same URL
// (which holds no stream slot): 429/503 → wait as long as Retry-After says; 404 → the
// server no longer has this session (a restart without it), so make a new one from the
// link; anything else → back off exponentially. It gives up after a few minutes and
// says so instead of retrying for ever. With no session yet (a fresh page), the first
// recovery is simply the creation of the session.

// Pacing. A page that cannot draw every frame (a small laptop, a busy machine, a
// background tab) still pays to receive and decode each one. Every PACE_WINDOW_MS the
// stream compares the frames it received with the frames that reached a rendering
// update (a requestAnimationFrame after at least one new frame) and, if it shows far
// fewer, reopens the stream asking the server for about as many as it shows
// (events?fps=N); once it shows all it gets, it asks for twice as many, up to 60.
// The first window after an open is not judged: the page may still be starting.
const PACE_WINDOW_MS = 1000;
export const MIN_FPS = 4;
export const MAX_FPS = 60;

/** The frame rate to ask for after a window, or null to keep `fps`. */
export function nextFps(fps, received, shown, seconds) {
  if (received < Math.min(8, 0.5 * fps * seconds)) return null;   // paused or stepping: nothing to judge
  if (shown < 0.8 * received) {
    const want = Math.max(MIN_FPS, Math.min(MAX_FPS, Math.ceil((1.1 * shown) / seconds)));
    return want < 0.9 * fps ? want : null;
  }
  if (fps < MAX_FPS && shown >= 0.95 * received && received / seconds >= 0.8 * fps) {
    return Math.min(MAX_FPS, 2 * fps);
  }
  return null;
}

const MAX_ATTEMPTS = 12;        // ≈ 2 minutes of backoff
const MAX_DELAY = 15;           // seconds
const JSON_HEADERS = { "Content-Type": "application/json" };

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const backoff = (attempt) => Math.min(0.5 * 2 ** attempt, MAX_DELAY) * (0.75 + Math.random() / 2);

function retryAfter(response, attempt) {
  const seconds = Number(response.headers.get("Retry-After"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 120) : backoff(attempt);
}

export class SessionStream {
  // onLost(newId, {recovered, dropped}): a new session replaced a lost one (recovered)
  // or was created for a fresh page; dropped names the link's settings it had to leave out.
  constructor(sessionId, { onFrame, onStatus, onPhase, onConnection, onLost, onPace }) {
    this.id = sessionId;
    this.handlers = { onFrame, onStatus, onPhase, onConnection, onLost, onPace };
    this.source = null;
    this.recovering = false;
    this.failures = 0;          // opens in a row that never reached "open"
    this.fps = MAX_FPS;         // frames a second asked of the server (see nextFps)
    this.pace = { received: 0, shown: 0, pending: false, timer: 0, since: 0, windows: 0 };
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && this.fps < MAX_FPS && this.source) this.repace(MAX_FPS);
    });
  }

  open() {
    this.close();
    const query = this.fps < MAX_FPS ? `?fps=${this.fps}` : "";
    const source = new EventSource(`/api/sessions/${this.id}/events${query}`);
    this.source = source;
    const pace = this.pace;
    Object.assign(pace, { received: 0, shown: 0, since: performance.now(), windows: 0 });
    pace.timer = setInterval(() => this.judge(), PACE_WINDOW_MS);
    const shown = () => { pace.pending = false; pace.shown += 1; };
    source.addEventListener("open", () => {
      this.failures = 0;
      this.handlers.onConnection("live");
    });
    let pictures = null;   // a frame without "heatmaps" shows the last ones this stream sent
    source.addEventListener("frame", (e) => {
      pace.received += 1;
      if (!pace.pending) {
        pace.pending = true;
        requestAnimationFrame(shown);
      }
      const frame = JSON.parse(e.data);
      if ("heatmaps" in frame) pictures = { heatmaps: frame.heatmaps, boundary: frame.boundary };
      else Object.assign(frame, pictures);
      this.handlers.onFrame(frame);
    });
    source.addEventListener("status", (e) => this.handlers.onStatus(JSON.parse(e.data)));
    source.addEventListener("phase", (e) => this.handlers.onPhase?.(JSON.parse(e.data)));
    source.addEventListener("error", () => this.lost());
  }

  // An error event means the connection dropped (the browser retries by itself) or
  // the server refused the stream (closed: find out why and act on it).
  lost() {
    this.handlers.onConnection("reconnecting");
    if (this.source && this.source.readyState === EventSource.CLOSED) {
      this.recover();
    }
  }

  async recover() {
    if (this.recovering) return;
    this.recovering = true;
    this.close();
    this.failures += 1;
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const wait = await this.attempt(attempt);
        if (wait === 0) {
          if (this.failures > 1) await sleep(backoff(this.failures));   // refused again right after a welcome
          this.open();
          return;
        }
        await sleep(wait);
      }
      this.handlers.onConnection("failed");
    } finally {
      this.recovering = false;
    }
  }

  // One try: 0 when the stream may open now, else the seconds to wait before the next.
  async attempt(attempt) {
    if (!this.id) return this.replace(attempt, false);
    let probe;
    try {
      probe = await fetch(`/api/sessions/${this.id}/events`, { method: "HEAD" });
    } catch {
      return backoff(attempt);              // the server is away
    }
    if (probe.ok) return 0;
    if (probe.status === 404) return this.replace(attempt, true);
    if (probe.status === 429 || probe.status === 503) return retryAfter(probe, attempt);
    return backoff(attempt);
  }

  // A new session from the link's configuration. A setting the server refuses (say
  // dataset=csv after a restart lost the upload) is left out, and said, rather than
  // asked for again and again.
  async replace(attempt, recovered) {
    let config = configFromUrl();
    const dropped = [];
    for (let tries = 0; tries < 6; tries++) {
      let r;
      try {
        r = await fetch("/api/sessions", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(config) });
      } catch {
        return backoff(attempt);
      }
      if (r.status === 201) {
        this.id = (await r.json()).id;
        this.handlers.onLost(this.id, { recovered, dropped });
        return 0;
      }
      if (r.status === 429 || r.status === 503) return retryAfter(r, attempt);
      if (r.status !== 400) return backoff(attempt);
      const field = (await r.json().catch(() => null))?.error?.field;
      if (field && field in config) {
        dropped.push(field);
        delete config[field];
      } else {
        dropped.push(...Object.keys(config).filter((k) => k !== "seed"));
        config = "seed" in config ? { seed: config.seed } : {};
      }
    }
    return backoff(attempt);
  }

  judge() {
    const p = this.pace;
    p.windows += 1;
    const seconds = (performance.now() - p.since) / 1000;
    const fps = nextFps(this.fps, p.received, p.shown, seconds);   // a hidden tab shows none: MIN_FPS
    Object.assign(p, { received: 0, shown: 0, since: performance.now() });
    if (fps !== null && p.windows > 1) this.repace(fps);
  }

  repace(fps) {
    this.fps = fps;
    this.handlers.onPace?.(fps);
    this.open();
  }

  close() {
    clearInterval(this.pace.timer);
    if (this.source) this.source.close();
    this.source = null;
  }
}

// The address bar holds the whole configuration (see the server's to_query); lists
// are comma-separated.
const LIST_FIELDS = new Set(["layers", "features"]);

export function configFromUrl() {
  const config = {};
  for (const [key, value] of new URLSearchParams(location.search)) {
    if (LIST_FIELDS.has(key)) {
      config[key] = value === "" ? [] : value.split(",");
    } else {
      config[key] = value;
    }
  }
  return config;
}
