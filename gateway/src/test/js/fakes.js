// Test doubles for the client library: a WebSocket the test plays the server of, timers that move
// only when the test says so, and an in-memory Storage.

/** Timers on a virtual clock: nothing runs until advance(). */
export class FakeTimers {
  constructor() {
    this.time = 0;
    this.nextId = 1;
    this.pending = new Map(); // id -> {at, fn, order}
    this.order = 0;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.pending.set(id, { at: this.time + Math.max(0, ms ?? 0), fn, order: this.order++ });
      return id;
    };
    this.clearTimeout = (id) => {
      this.pending.delete(id);
    };
    this.now = () => this.time;
  }

  /** Runs every timer due within the next `ms`, in time order, moving the clock to each. */
  advance(ms) {
    const end = this.time + ms;
    for (;;) {
      let next = null;
      for (const [id, timer] of this.pending) {
        if (timer.at <= end && (next === null || timer.at < next[1].at
            || (timer.at === next[1].at && timer.order < next[1].order))) {
          next = [id, timer];
        }
      }
      if (next === null) {
        break;
      }
      this.pending.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }

  /** Delays of the timers now pending, from now, smallest first. */
  delays() {
    return [...this.pending.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }
}

/** A WebSocket whose server side the test plays. Every instance is recorded in FakeWebSocket.all. */
export class FakeWebSocket {
  static all = [];

  static reset() {
    FakeWebSocket.all = [];
  }

  static get last() {
    return FakeWebSocket.all[FakeWebSocket.all.length - 1];
  }

  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.sent = [];
    this.closedWith = null; // {code, reason} when the client called close()
    this.readyState = 0;
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    this.onerror = null;
    FakeWebSocket.all.push(this);
  }

  send(text) {
    if (this.readyState !== 1) {
      throw new Error('InvalidStateError: not open');
    }
    this.sent.push(JSON.parse(text));
  }

  close(code, reason) {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }

  /** Frames the client sent, of the given type. */
  sentOf(type) {
    return this.sent.filter((frame) => frame.type === type);
  }

  // --- the server's side ---

  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** Opens and sends session_ready; `pendingRequests` in the wire form, [{request_id, request, seq}]. */
  ready({ sessionId = 'S1', resumed = false, lastSeq = 0, state = 'idle', tokenExpiresAt = 2000000000, node, role,
    pendingRequests, endsAt } = {}) {
    this.open();
    this.receive({
      type: 'session_ready', session_id: sessionId, resumed, last_seq: lastSeq,
      token_expires_at: tokenExpiresAt, state, ...(node === undefined ? {} : { node }),
      ...(role === undefined ? {} : { role }), ...(pendingRequests === undefined ? {} : { pending_requests: pendingRequests }),
      ...(endsAt === undefined ? {} : { ends_at: endsAt }),
    });
  }

  event(seq, event = { type: 'delta', text: 'x' + seq }) {
    this.receive({ type: 'event', seq, event });
  }

  serverClose(code, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason, wasClean: code !== 1006 });
  }
}

/** The Storage interface over a Map. */
export class MemoryStorage {
  constructor(entries = {}) {
    this.map = new Map(Object.entries(entries));
  }

  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }

  setItem(key, value) {
    this.map.set(key, String(value));
  }

  removeItem(key) {
    this.map.delete(key);
  }
}

/** Lets pending promise callbacks (getToken) run. */
export function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}
