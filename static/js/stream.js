// The page's connection to its session: an EventSource on the SSE stream that keeps
// only the newest frame and says "reconnecting…" while the server is away.
//
// When the stream is refused, `recover` finds out why with a HEAD on the same URL
// (which holds no stream slot): 429/503 → wait as long as Retry-After says; 404 → the
// server no longer has this session (a restart without it), so make a new one from the
// link; anything else → back off exponentially. It gives up after a few minutes and
// says so instead of retrying for ever. With no session yet (a fresh page), the first
// recovery is simply the creation of the session.

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
  constructor(sessionId, { onFrame, onStatus, onPhase, onConnection, onLost }) {
    this.id = sessionId;
    this.handlers = { onFrame, onStatus, onPhase, onConnection, onLost };
    this.source = null;
    this.recovering = false;
    this.failures = 0;          // opens in a row that never reached "open"
  }

  open() {
    this.close();
    const source = new EventSource(`/api/sessions/${this.id}/events`);
    this.source = source;
    source.addEventListener("open", () => {
      this.failures = 0;
      this.handlers.onConnection("live");
    });
    let pictures = null;   // a frame without "heatmaps" shows the last ones this stream sent
    source.addEventListener("frame", (e) => {
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

  close() {
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
