// The page's connection to its session: an EventSource on the SSE stream that keeps
// only the newest frame, says "reconnecting…" while the server is away, and, when the
// server has forgotten the session (a restart), asks for a new one built from the
// configuration in the address bar.

export class SessionStream {
  constructor(sessionId, { onFrame, onStatus, onPhase, onConnection, onLost }) {
    this.id = sessionId;
    this.handlers = { onFrame, onStatus, onPhase, onConnection, onLost };
    this.source = null;
    this.recovering = false;
  }

  open() {
    this.close();
    const source = new EventSource(`/api/sessions/${this.id}/events`);
    this.source = source;
    source.addEventListener("open", () => this.handlers.onConnection("live"));
    source.addEventListener("frame", (e) => this.handlers.onFrame(JSON.parse(e.data)));
    source.addEventListener("status", (e) => this.handlers.onStatus(JSON.parse(e.data)));
    source.addEventListener("phase", (e) => this.handlers.onPhase?.(JSON.parse(e.data)));
    source.addEventListener("error", () => this.lost());
  }

  // An error event means the connection dropped (the browser retries by itself) or
  // the server refused the stream (closed: the session is gone, so make a new one).
  lost() {
    this.handlers.onConnection("reconnecting");
    if (this.source && this.source.readyState === EventSource.CLOSED) {
      this.recover();
    }
  }

  async recover() {
    if (this.recovering) return;
    this.recovering = true;
    for (let attempt = 0; ; attempt++) {
      try {
        const still = await fetch(`/api/sessions/${this.id}`);
        if (still.ok) break;
        const created = await fetch("/api/sessions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(configFromUrl()),
        });
        if (created.ok) {
          this.id = (await created.json()).id;
          this.handlers.onLost(this.id);
          break;
        }
      } catch {
        // the server is still down: wait and try again
      }
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 4000)));
    }
    this.recovering = false;
    this.open();
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
