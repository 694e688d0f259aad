// Tether browser client: one session over a WebSocket that survives dropped connections.
// ES module, no dependencies. Served by the gateway at /client/tether-client.js; see docs/client.md.
//
// What it does for the application:
//  - connects with the subprotocols ["gateway.v1", "bearer.<jwt>"], a fresh token from getToken() each time;
//  - on an unexpected close, reconnects with exponential backoff and full jitter and resumes the session
//    with the last seq it processed; stops on terminal close codes and says why ('terminal');
//  - delivers every history frame (event, status, notice) exactly once and in seq order, dropping replay
//    duplicates, and surfaces replay gaps;
//  - acknowledges processed seqs periodically and when the stream goes quiet;
//  - keeps sent messages in an outbox until 'accepted' and resends them (same id) after a reconnect;
//  - answers refresh_required with getToken() + auth_refresh, and reconnects with a fresh token after 4010;
//  - keeps {sessionId, lastSeq} in sessionStorage so that a page reload resumes the session;
//  - ends the session on purpose with end() (protocol section 8.7), resuming first if it has to;
//  - keeps the worker's requests to the user that wait for an answer (protocol section 7.3), rebuilt from
//    session_ready.pending_requests on every connection, and sends the user's answers with respond();
//  - or, with options.view, watches another session read-only (a viewer, protocol section 7.4);
//  - with options.batch, asks the gateway for batched delivery (protocol section 8.4) and unpacks each
//    `batch` frame into the very events it would have dispatched for one message per frame.
//
// Everything runs on the page's single thread; events are dispatched synchronously.

export const PROTOCOL = 'gateway.v1';

/** Close codes after which the client gives up ('terminal', state 'closed'). */
export const TERMINAL_CLOSE_CODES = Object.freeze({
  1000: 'closed normally by the server',
  1002: 'WebSocket protocol error',
  1007: 'invalid UTF-8 in a text frame',
  1009: 'a frame was too large',
  4001: 'another connection (another tab or device) took this session',
  4004: 'the session was not found or has ended',
  4008: 'policy violation: too many messages too fast',
  4009: 'invalid sequence on resume',
  4011: 'the session ended',
});

/** Of the terminal codes, those after which the session itself is gone: it is forgotten. */
export const SESSION_GONE_CODES = Object.freeze([4004, 4009, 4011]);

/** Error codes after which a message stays in the outbox: it was not taken and is sent again later. */
const RESEND_LATER = new Set(['shutting_down', 'token_expired']);

/** The close code dropConnection() uses; outside the protocol's own codes, never terminal. */
export const DROP_CODE = 4000;

/** How long end() waits before sending `end` again after the gateway refused it with rate_limited. */
const END_RETRY_MS = 1000;

const DEFAULT_BACKOFF = Object.freeze({ initialMs: 500, maxMs: 30000, factor: 2 });

/**
 * The reconnect delay for 0-based attempt `attempt`: full jitter,
 * random(0, min(maxMs, initialMs * factor^attempt)).
 */
export function backoffDelay(attempt, backoff = DEFAULT_BACKOFF, random = Math.random) {
  const { initialMs, maxMs, factor } = { ...DEFAULT_BACKOFF, ...backoff };
  const ceiling = Math.min(maxMs, initialMs * Math.pow(factor, attempt));
  return Math.floor(random() * ceiling);
}

function defaultStorage() {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // sessionStorage throws where storage is disabled
  }
}

/** A random UUID (v4) for a message id; crypto.randomUUID() where the platform has it. */
function randomId() {
  if (typeof globalThis.crypto?.randomUUID === 'function') {
    return globalThis.crypto.randomUUID();
  }
  const hex = [];
  for (let i = 0; i < 32; i++) {
    hex.push(Math.floor(Math.random() * 16).toString(16));
  }
  hex[12] = '4';
  hex[16] = (8 + Math.floor(Math.random() * 4)).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A CustomEvent; built from Event where CustomEvent is missing (Node 18, where the tests may run). */
function customEvent(name, detail) {
  if (typeof globalThis.CustomEvent === 'function') {
    return new CustomEvent(name, { detail });
  }
  const event = new Event(name);
  Object.defineProperty(event, 'detail', { value: detail, enumerable: true });
  return event;
}

/** What send(), respond(), interrupt(), end() and newSession() throw (or reject with) on a viewer. */
function readOnlyError(what) {
  return Object.assign(new Error(`TetherClient.${what}: this client is a viewer (read only)`), { code: 'read_only' });
}

/** What send() throws after end(). */
function sessionEndedError(message) {
  return Object.assign(new Error(message), { code: 'session_ended' });
}

export class TetherClient extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.url ws(s)://host/ws, required
   * @param {() => Promise<string>|string} options.getToken a JWT; called before each connect, on
   *     refresh_required and after 4010
   * @param {Storage|null} [options.storage] where {sessionId, lastSeq} is kept; default sessionStorage
   * @param {string} [options.storageKey] default 'tether.session'
   * @param {{initialMs?: number, maxMs?: number, factor?: number}} [options.backoff]
   * @param {number} [options.ackIntervalMs] default 1000
   * @param {number} [options.ackQuietMs] the stream counts as quiet after this long without a
   *     frame; default min(250, ackIntervalMs)
   * @param {number} [options.minRefreshIntervalMs] least time between two token refreshes; default 2000
   * @param {typeof WebSocket} [options.WebSocket] default globalThis.WebSocket
   * @param {() => number} [options.random] default Math.random
   * @param {string} [options.view] a session id to watch read-only (role viewer): the client resumes
   *     that session as a viewer, gets its history, never sends messages, interrupts, acks or `end`,
   *     and keeps nothing in storage unless options.storage is given
   * @param {boolean} [options.wait] a new session waits in the gateway's line when it is at capacity
   *     (`wait=1`, protocol section 8.1) instead of being refused; 'queued' events tell the position
   * @param {string} [options.node] with `view`: the gateway node serving that session (for a proxy's
   *     routing, `&node=`); learnt again from session_ready and from session_busy answers
   * @param {number} [options.batch] ask for batched delivery (`?batch=<ms>`, protocol section 8.4): an
   *     integer from 1 to 1000, the longest the gateway may hold a message to send it with others;
   *     the gateway may cut it to its own maximum or not batch at all. The events are the same either
   *     way. Default: no batching
   * @param {{setTimeout: Function, clearTimeout: Function, now: () => number}} [options.timers]
   *     default the global timers and Date.now (tests inject fakes)
   * @param {string} [options.fork] start the session as a fork of this session id (`?fork=<id>`,
   *     protocol section 8.2): a new session continuing from that one's newest worker checkpoint.
   *     Only for the client's first session; once it is ready the client resumes it like any other.
   *     fork() makes such a client from a connected one
   */
  constructor(options) {
    super();
    if (!options || typeof options.url !== 'string' || options.url === '') {
      throw new TypeError('TetherClient: options.url is required');
    }
    if (typeof options.getToken !== 'function') {
      throw new TypeError('TetherClient: options.getToken is required');
    }
    if (options.batch !== undefined
        && !(Number.isInteger(options.batch) && options.batch >= 1 && options.batch <= 1000)) {
      throw new TypeError('TetherClient: options.batch must be an integer from 1 to 1000 (milliseconds)');
    }
    this._batch = options.batch ?? null;
    this._options = options; // for fork(): the new client is made like this one
    this._forkOf = typeof options.fork === 'string' && options.fork !== '' ? options.fork : null;
    this._forkedFrom = null; // session_ready.forked_from: the session this one was forked from
    this._forkSeq = null; // session_ready.fork_seq: that session's seq at the checkpoint, or null
    this._url = options.url;
    this._getToken = options.getToken;
    this._viewer = typeof options.view === 'string' && options.view !== '';
    this._wait = options.wait === true;
    this._role = null; // session_ready.role on the current session
    this._sessionState = null; // the session's state: session_ready.state, then each live status
    this._storage = options.storage === undefined ? (this._viewer ? null : defaultStorage()) : options.storage;
    this._storageKey = options.storageKey ?? 'tether.session';
    this._backoff = { ...DEFAULT_BACKOFF, ...(options.backoff ?? {}) };
    this._ackIntervalMs = options.ackIntervalMs ?? 1000;
    this._ackQuietMs = options.ackQuietMs ?? Math.min(250, this._ackIntervalMs);
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this._random = options.random ?? Math.random;
    const timers = options.timers ?? {};
    this._setTimeout = timers.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
    this._clearTimeout = timers.clearTimeout ?? ((id) => globalThis.clearTimeout(id));
    this._now = timers.now ?? (() => Date.now());

    this._state = 'closed';
    this._sessionId = null;
    this._node = null; // the gateway node serving the session (session_ready.node), for the proxy's routing
    this._endsAt = null; // the session's end, epoch seconds: session_ready.ends_at, moved by duration_extended
    this._lastSeq = 0;
    this._ws = null;
    this._ready = false; // session_ready seen on the current socket
    this._wanted = false; // connect() called and not close()d
    this._attempt = 0; // reconnect attempts since the last session_ready
    this._reconnectTimer = null;
    this._retryAfterMs = 0; // from shutting_down: wait at least this long before reconnecting
    this._replaced = false;
    this._gapCovered = 0; // highest seq announced lost by replay_gap
    this._outbox = new Map(); // id -> {id, data, held: error code while not to be sent}
    this._refreshing = false;
    this._refreshTimer = null;
    this._lastRefreshAt = -Infinity;
    this._minRefreshIntervalMs = options.minRefreshIntervalMs ?? 2000;
    this._generation = 0; // bumped whenever the current connection is abandoned
    // acks
    this._ackedSeq = 0;
    this._lastAckAt = -Infinity;
    this._firstUnackedAt = null;
    this._lastFrameAt = 0;
    this._ackTimer = null;
    // end()
    this._ending = null; // while end() waits: {promise, resolve, reject, sentOn: the socket it went out on}
    this._endRetryTimer = null;
    this._endReason = null; // why the session ended, if the current socket said (status ended, session_expired)
    this._ended = null; // the 'ended' detail once end() completed, until connect() or newSession()
    // requests to the user (protocol section 7.3)
    this._requests = new Map(); // request id -> {requestId, request, seq}: the ones waiting for an answer
    this._answers = new Map(); // request id -> {data, state: 'queued' | 'sent'}: this client's answers not yet resolved
    this._readySeq = 0; // session_ready.last_seq on the current socket: pending_requests is as of that seq

    this._restore();
    if (this._viewer) {
      this._sessionId = options.view;
      this._node = typeof options.node === 'string' && options.node !== '' ? options.node : this._node;
    }
    this._onPageHide = () => this._persist();
    if (typeof globalThis.addEventListener === 'function') {
      globalThis.addEventListener('pagehide', this._onPageHide);
      globalThis.addEventListener('beforeunload', this._onPageHide);
    }
  }

  /** 'connecting' | 'open' | 'reconnecting' | 'closed' */
  get state() {
    return this._state;
  }

  get sessionId() {
    return this._sessionId;
  }

  /** The gateway node serving the session (session_ready.node), or null. */
  get node() {
    return this._node;
  }

  /**
   * When the session reaches its maximum duration, epoch seconds (protocol section 8.3): from
   * session_ready.ends_at, then from every `duration_extended` notice; null before the first
   * session_ready, or from a gateway that does not send it.
   */
  get endsAt() {
    return this._endsAt;
  }

  /**
   * The session's state as the gateway last said: session_ready.state, then the state of each
   * status newer than that session_ready (a replayed one is history, not news). One of 'preparing',
   * 'idle', 'processing', 'restarting', 'hibernated' (asleep without a worker: the next message
   * wakes it, through 'preparing'), 'ended'; null before the first session_ready.
   */
  get sessionState() {
    return this._sessionState;
  }

  /**
   * The session this one is a fork of (protocol section 8.2), as the fork's session_ready said; null
   * for a session that is not a fork, and before that session_ready.
   */
  get forkedFrom() {
    return this._forkedFrom;
  }

  /**
   * The seq of the forked session when the checkpoint this fork continues from was taken: the
   * fork's worker knows that session's history up to there. Null when it had no checkpoint (the
   * fork started fresh), and for a session that is not a fork.
   */
  get forkSeq() {
    return this._forkSeq;
  }

  /** 'owner' or 'viewer' as the last session_ready said; before one, what was asked for. */
  get role() {
    return this._role ?? (this._viewer ? 'viewer' : 'owner');
  }

  /** The highest seq the application has processed. */
  get lastSeq() {
    return this._lastSeq;
  }

  /** Ids of messages sent and not yet accepted, oldest first. */
  get pending() {
    return [...this._outbox.keys()];
  }

  /**
   * The worker's requests to the user that wait for an answer, oldest first: frozen
   * {requestId, request, seq, answer}, `answer` being null (this client has not answered), 'queued'
   * (respond() was called while not connected: it goes out after the next session_ready) or 'sent'
   * (it went out; its request_resolved should follow). Rebuilt from session_ready.pending_requests
   * on every connection, so a request whose `request` frame was evicted from the replay buffer is
   * listed, and one resolved while the client was away is not; then kept up to date by `request` and
   * `request_resolved` frames. Kept while reconnecting; emptied when the session is forgotten.
   */
  get pendingRequests() {
    return [...this._requests.values()].map((entry) => Object.freeze({
      ...entry, answer: this._answers.get(entry.requestId)?.state ?? null,
    }));
  }

  /**
   * After end() completed: what it resolved with ({sessionId, reason, seq, dropped}); null before,
   * and again after connect() or newSession().
   */
  get ended() {
    return this._ended;
  }

  /** Connects: resumes the stored session if there is one, else starts a new one. */
  connect() {
    if (this._wanted && this._state !== 'closed') {
      return;
    }
    this._ended = null;
    this._wanted = true;
    this._attempt = 0;
    this._setState('connecting');
    this._open();
  }

  /**
   * Sends `data` (any JSON value) to the worker as message `id` (default a random UUID). The
   * message stays in the outbox until 'accepted', and is sent again with the same id after every
   * reconnect (the gateway drops duplicates). Returns the id.
   */
  send(data, id = randomId()) {
    if (this._viewer) {
      throw readOnlyError('send');
    }
    if (typeof id !== 'string' || id.length < 1 || id.length > 256) {
      throw new TypeError('TetherClient.send: id must be a string of 1..256 characters');
    }
    if (this._ending || this._ended) {
      throw sessionEndedError(this._ending
        ? 'TetherClient.send: end() is ending the session; call newSession() for another'
        : 'TetherClient.send: the session was ended by end(); call newSession() for another');
    }
    if (!this._outbox.has(id)) {
      this._outbox.set(id, { id, data, held: null });
    }
    if (this._ready) {
      this._sendFrame({ type: 'message', id, data });
    }
    return id;
  }

  /**
   * Answers the worker's request `requestId` with `data` (any JSON value; an approval takes
   * {decision: 'allow' | 'deny'}). Connected, the `respond` frame goes out at once and 'sent' is
   * returned. Not connected (connecting, reconnecting, or closed), the answer waits and goes out once,
   * right after the next session_ready, before the outbox's messages: 'queued' is returned. An
   * answer that went out is not sent again: if its connection dropped before the gateway took it,
   * the request is still pending after the resume and pendingRequests lists it, unanswered, again.
   * The gateway decides what counts: the first answer wins, and a late one (this client's or
   * another's), an unknown id or a refused answer comes back as an 'error' event (request_resolved,
   * request_not_found, invalid_field). Throws on a viewer (code 'read_only') and after end()
   * (code 'session_ended').
   */
  respond(requestId, data) {
    if (this._viewer) {
      throw readOnlyError('respond');
    }
    if (typeof requestId !== 'string' || requestId.length < 1 || requestId.length > 256) {
      throw new TypeError('TetherClient.respond: requestId must be a string of 1..256 characters');
    }
    if (this._ending || this._ended) {
      throw sessionEndedError('TetherClient.respond: the session is ending or was ended by end()');
    }
    const answer = { data: data === undefined ? null : data, state: 'queued' };
    if (this._ready && this._sendFrame({ type: 'respond', request_id: requestId, data: answer.data })) {
      answer.state = 'sent';
    }
    if (this._answers.get(requestId)?.state !== 'sent') {
      this._answers.set(requestId, answer); // a second answer before the first went out replaces it
    }
    return answer.state;
  }

  /** Asks the worker to stop the current turn. */
  interrupt() {
    if (this._viewer) {
      throw readOnlyError('interrupt');
    }
    if (this._ready) {
      this._sendFrame({ type: 'interrupt' });
    }
  }

  /**
   * Asks for more time (protocol section 8.3). The answer comes as a `notice` event with code
   * `duration_extended` (`details.ends_at`; endsAt follows it) or an 'error' event with code
   * `extension_refused` and the reason. Returns whether `extend` went out: not while disconnected
   * (it is not queued: ask again once connected). Throws on a viewer (code 'read_only').
   */
  extend() {
    if (this._viewer) {
      throw readOnlyError('extend');
    }
    return this._ready ? this._sendFrame({ type: 'extend' }) : false;
  }

  /**
   * Closes the socket as a network failure would: the client reconnects and resumes. For demos
   * and tests.
   */
  dropConnection() {
    const ws = this._ws;
    if (!ws) {
      return;
    }
    this._abandonSocket(DROP_CODE, 'dropped by the client');
    this._onConnectionLost(DROP_CODE, 'dropped by the client');
  }

  /**
   * Ends the session for good (protocol section 8.7): the gateway interrupts a running turn, stops
   * the worker, and closes with 1000 after a `status` `ended` `client_end`. Connected, `end` goes
   * out at once; otherwise the client connects (or waits for the reconnect under way), resumes the
   * session and sends `end` right after session_ready, before anything from the outbox. Until it
   * completes, send() throws.
   *
   * Resolves with {sessionId, reason, seq, dropped} once the session has ended: `reason` is the
   * gateway's ('client_end'; or the reason it had already ended with, learnt on resume; null if
   * unknown), `seq` the seq of its `status ended` frame (null if the client did not see it),
   * `dropped` the ids that were still in the outbox (they are discarded). The stored session is
   * forgotten, the client stops (state 'closed', no reconnect), and 'ended' fires with the same
   * detail; send() throws until connect() or newSession() starts another session. With no session
   * to end (none stored, never connected) it resolves at once with sessionId null.
   *
   * Rejects (Error with `code`) if the session may still be running: 'terminal' (with `closeCode`,
   * `reason`; e.g. 4001, another tab took the session), 'closed' (close() was called),
   * 'new_session' (newSession() was called). Calling it again returns the same promise.
   */
  end() {
    if (this._viewer) {
      return Promise.reject(readOnlyError('end'));
    }
    if (this._ended) {
      return Promise.resolve(this._ended);
    }
    if (this._ending) {
      return this._ending.promise;
    }
    const ending = { sentOn: null };
    ending.promise = new Promise((resolve, reject) => {
      ending.resolve = resolve;
      ending.reject = reject;
    });
    this._ending = ending;
    if (this._sessionId === null && this._ws === null) {
      this._finishEnd(null, null); // no session on the gateway that this client knows of
    } else if (this._ready) {
      this._sendEnd();
    } else if (this._state === 'closed') {
      this.connect(); // resume the session to end it; `end` follows session_ready
    } // else connecting or reconnecting: `end` follows session_ready
    return ending.promise;
  }

  /**
   * Forgets the stored session and connects a new one (never a fork, even on a client made with
   * options.fork). Unaccepted messages stay in the outbox.
   */
  newSession() {
    if (this._viewer) {
      throw readOnlyError('newSession');
    }
    this._failEnd('new_session', 'newSession() was called before the session ended');
    this._abandonSocket(1000, 'new session');
    this._cancelReconnect();
    this._forgetSession();
    this._forkOf = null; // a new session from nothing, even on a client made to fork
    this._wanted = false;
    this.connect();
  }

  /**
   * Forks this client's session (protocol section 8.2): returns a new, connecting TetherClient for a
   * new session that continues from this session's newest worker checkpoint. This client and its
   * session go on untouched; the two sessions are independent from then on. The new client is made
   * with this one's options, `overrides` over them; its stored session is kept under its own key
   * (`overrides.storageKey`, default this key plus '.fork.' and a random suffix: pass one to find the
   * fork again after a reload). Its 'ready' says `forkedFrom` and `forkSeq`. A refusal (the session
   * is gone, or a limit) reaches the new client as it would a new session: 'terminal' with 4004, or
   * reconnecting after a 429/503. Throws when this client has no session yet, or is a viewer.
   */
  fork(overrides = {}) {
    if (this._viewer) {
      throw readOnlyError('fork');
    }
    if (!this._sessionId) {
      throw Object.assign(new Error('fork(): this client has no session yet'), { code: 'no_session' });
    }
    const forked = new TetherClient({
      ...this._options,
      storage: this._storage,
      storageKey: this._storageKey + '.fork.' + randomId(),
      ...overrides,
      fork: this._sessionId,
      view: undefined,
    });
    forked.connect();
    return forked;
  }

  /** Closes intentionally (1000): no reconnect. The session stays resumable by a later connect(). */
  close() {
    this._failEnd('closed', 'close() was called before the session ended');
    this._wanted = false;
    this._cancelReconnect();
    this._abandonSocket(1000, 'client closed');
    this._persist();
    this._setState('closed');
  }

  // --- connection ---------------------------------------------------------------------------

  async _open() {
    const generation = ++this._generation;
    let token;
    try {
      token = await this._getToken();
    } catch (error) {
      if (generation !== this._generation || !this._wanted) {
        return;
      }
      this._emit('error', { code: 'token_unavailable', message: String(error?.message ?? error), id: null });
      this._scheduleReconnect();
      return;
    }
    if (generation !== this._generation || !this._wanted) {
      return;
    }
    let ws;
    try {
      ws = new this._WebSocket(this._connectUrl(), [PROTOCOL, 'bearer.' + token]);
    } catch (error) {
      this._emit('error', { code: 'connect_failed', message: String(error?.message ?? error), id: null });
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    this._ready = false;
    this._replaced = false;
    this._endReason = null;
    ws.onopen = () => {
      if (ws === this._ws) {
        this._emit('connected', { attempt: this._attempt });
      }
    };
    ws.onmessage = (message) => {
      if (ws === this._ws) {
        this._onMessage(message.data);
      }
    };
    ws.onclose = (event) => {
      if (ws === this._ws) {
        this._ws = null;
        this._onClose(event.code, event.reason ?? '');
      }
    };
    ws.onerror = () => {}; // a close event follows
  }

  _connectUrl() {
    const batch = this._batch === null ? '' : 'batch=' + this._batch;
    if (!this._sessionId) {
      const fork = this._forkOf ? 'fork=' + encodeURIComponent(this._forkOf) : '';
      const params = [fork, batch, this._wait ? 'wait=1' : ''].filter((p) => p !== '').join('&');
      return params === '' ? this._url : this._url + (this._url.includes('?') ? '&' : '?') + params;
    }
    const separator = this._url.includes('?') ? '&' : '?';
    const node = this._node ? '&node=' + encodeURIComponent(this._node) : '';
    const role = this._viewer ? '&role=viewer' : '';
    return this._url + separator + 'session=' + encodeURIComponent(this._sessionId) + role + '&last_seq=' + this._lastSeq
      + node + (batch === '' ? '' : '&' + batch);
  }

  /** Stops listening to the current socket and closes it; its events are ignored from now on. */
  _abandonSocket(code, reason) {
    const ws = this._ws;
    this._ws = null;
    this._ready = false;
    this._generation++;
    this._cancelAck();
    this._cancelRefresh();
    if (ws) {
      try {
        ws.close(code, reason);
      } catch {
        // already closing
      }
    }
  }

  _onClose(code, reason) {
    this._ready = false;
    this._cancelAck();
    this._cancelRefresh();
    if (!this._wanted) {
      this._setState('closed');
      return;
    }
    if (this._replaced && code !== 4001) {
      code = 4001; // session_replaced came, the close frame did not
    }
    if (Object.hasOwn(TERMINAL_CLOSE_CODES, code)) {
      this._terminal(code, reason || TERMINAL_CLOSE_CODES[code]);
      return;
    }
    this._onConnectionLost(code, reason);
  }

  _onConnectionLost(code, reason) {
    this._ready = false;
    this._persist();
    this._scheduleReconnect();
  }

  _terminal(code, reason) {
    if (this._ending && (code === 1000 || SESSION_GONE_CODES.includes(code))) {
      // 1000 follows the gateway's `status ended client_end`; a session that is gone has ended too.
      this._finishEnd(code === 1000 ? 'client_end' : this._endReason, null);
      return;
    }
    this._wanted = false;
    this._cancelReconnect();
    if (SESSION_GONE_CODES.includes(code)) {
      this._forgetSession();
    } else {
      this._persist();
    }
    this._setState('closed');
    this._emit('terminal', { code, reason });
    this._failEnd('terminal', `the connection closed with ${code} (${reason}) before the session ended`,
      { closeCode: code, reason });
  }

  _scheduleReconnect() {
    if (this._ending && this._sessionId === null) {
      this._finishEnd(null, null); // a new session was on its way and never came: nothing to end
      return;
    }
    this._cancelReconnect();
    const jitter = backoffDelay(this._attempt, this._backoff, this._random);
    const delayMs = this._retryAfterMs + jitter;
    this._retryAfterMs = 0;
    const attempt = ++this._attempt;
    this._setState('reconnecting', { attempt, delayMs });
    this._reconnectTimer = this._setTimeout(() => {
      this._reconnectTimer = null;
      if (this._wanted) {
        this._open();
      }
    }, delayMs);
  }

  _cancelReconnect() {
    if (this._reconnectTimer !== null) {
      this._clearTimeout(this._reconnectTimer);
      this._reconnectTimer = null;
    }
  }

  _setState(state, extra = {}) {
    if (this._state === state && state !== 'reconnecting') {
      return;
    }
    this._state = state;
    this._emit('state', { state, ...extra });
  }

  // --- frames -------------------------------------------------------------------------------

  _onMessage(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // the gateway only sends JSON objects
    }
    if (!frame || typeof frame !== 'object') {
      return;
    }
    if (frame.type === 'batch') {
      // Several messages in one frame (protocol section 8.4): each is handled as if it had come
      // alone, in order, until one of them makes this client leave the socket.
      const ws = this._ws;
      for (const message of Array.isArray(frame.messages) ? frame.messages : []) {
        if (this._ws !== ws) {
          return;
        }
        if (message && typeof message === 'object' && message.type !== 'batch') {
          this._onFrame(message);
        }
      }
      return;
    }
    this._onFrame(frame);
  }

  /** One message from the gateway, alone in its frame or out of a batch. */
  _onFrame(frame) {
    switch (frame.type) {
      case 'session_ready':
        return this._onReady(frame);
      case 'event':
        return this._onHistory(frame, 'event', { seq: frame.seq, event: frame.event });
      case 'status':
        if (typeof frame.seq === 'number' && frame.seq > this._lastSeq && frame.seq > this._readySeq) {
          this._sessionState = frame.state;
        }
        if (frame.state === 'ended') {
          this._endReason = frame.reason ?? null;
        }
        if (this._onHistory(frame, 'status', { seq: frame.seq, state: frame.state, reason: frame.reason ?? null })
            && frame.state === 'ended' && this._ending) {
          this._finishEnd(frame.reason ?? null, frame.seq);
        }
        return;
      case 'notice':
        return this._onHistory(frame, 'notice', () => {
          if (frame.code === 'duration_extended' && typeof frame.details?.ends_at === 'number') {
            this._endsAt = Math.max(this._endsAt ?? 0, frame.details.ends_at); // a replay never moves it back
          }
          return { seq: frame.seq, code: frame.code, message: frame.message, details: frame.details ?? null };
        });
      case 'request':
        return this._onHistory(frame, 'request', () => ({
          seq: frame.seq, requestId: frame.request_id, request: frame.request ?? null, pending: this._noteRequest(frame),
        }));
      case 'request_resolved':
        return this._onHistory(frame, 'request_resolved', () => {
          this._requests.delete(frame.request_id);
          this._answers.delete(frame.request_id);
          return { seq: frame.seq, requestId: frame.request_id, outcome: frame.outcome };
        });
      case 'replay_gap':
        this._gapCovered = Math.max(this._gapCovered, frame.to);
        return this._emit('gap', { from: frame.from, to: frame.to });
      case 'accepted':
        this._outbox.delete(frame.id);
        return this._emit('accepted', { id: frame.id, duplicate: !!frame.duplicate, queued: frame.queued ?? 0 });
      case 'error':
        return this._onError(frame);
      case 'refresh_required':
        return this._refresh(frame.expires_at);
      case 'auth_ok':
        this._releaseHeld('token_expired');
        return this._emit('refreshed', { expiresAt: frame.expires_at });
      case 'session_replaced':
        this._replaced = true;
        return;
      case 'shutting_down':
        this._retryAfterMs = Math.max(0, (frame.retry_after ?? 0) * 1000);
        return this._emit('shutting_down', { retryAfter: frame.retry_after ?? null });
      case 'queued':
        return this._emit('queued', { position: frame.position, estimatedWait: frame.estimated_wait ?? null });
      default:
        return; // pong, and frame types added later
    }
  }

  _onReady(frame) {
    const resumed = !!frame.resumed;
    if (!resumed) {
      this._lastSeq = 0;
      this._gapCovered = 0;
    }
    this._sessionId = frame.session_id;
    this._node = typeof frame.node === 'string' ? frame.node : null;
    this._role = frame.role === 'viewer' ? 'viewer' : 'owner';
    this._endsAt = typeof frame.ends_at === 'number' ? frame.ends_at : null;
    this._sessionState = typeof frame.state === 'string' ? frame.state : null;
    if (!resumed) {
      // A fork's own answer names its parent; any other new session is no fork (protocol section 8.2).
      this._forkedFrom = typeof frame.forked_from === 'string' ? frame.forked_from : null;
      this._forkSeq = typeof frame.fork_seq === 'number' ? frame.fork_seq : null;
      this._forkOf = null; // forked: from now on the session is resumed, and a newSession() is a plain one
    }
    this._ready = true;
    this._attempt = 0;
    this._ackedSeq = 0; // an ack in flight on the lost connection may not have arrived
    this._lastAckAt = -Infinity;
    this._readySeq = typeof frame.last_seq === 'number' ? frame.last_seq : 0;
    this._requests = new Map();
    for (const pending of Array.isArray(frame.pending_requests) ? frame.pending_requests : []) {
      if (pending && typeof pending.request_id === 'string') {
        this._requests.set(pending.request_id,
          { requestId: pending.request_id, request: pending.request ?? null, seq: pending.seq ?? null });
      }
    }
    for (const [requestId, answer] of this._answers) {
      if (answer.state === 'sent') {
        this._answers.delete(requestId); // taken, or lost with its connection: pending_requests says which
      }
    }
    this._persist();
    this._setState('open');
    this._emit('ready', {
      sessionId: frame.session_id, resumed, lastSeq: frame.last_seq, state: frame.state,
      tokenExpiresAt: frame.token_expires_at, role: this._role, endsAt: this._endsAt,
      forkedFrom: this._forkedFrom, forkSeq: this._forkSeq,
    });
    if (this._ending) {
      if (this._ready) {
        this._sendEnd(); // the outbox stays unsent: it is dropped once the session has ended
      }
      return;
    }
    // Answers first: the running turn waits for them, queued messages only for later turns.
    for (const [requestId, answer] of this._answers) {
      if (!this._ready) {
        break; // a listener closed the connection
      }
      if (this._sendFrame({ type: 'respond', request_id: requestId, data: answer.data })) {
        answer.state = 'sent';
      }
    }
    for (const entry of this._outbox.values()) {
      if (!this._ready) {
        break; // a listener closed the connection
      }
      entry.held = entry.held === 'token_expired' ? 'token_expired' : null;
      if (entry.held === null) {
        this._sendFrame({ type: 'message', id: entry.id, data: entry.data });
      }
    }
    if (this._lastSeq > 0) {
      this._noteProcessed();
    }
  }

  /**
   * Delivers a history frame unless it is a replay duplicate; says whether it was delivered.
   * `detail` may be a function: it runs only for a frame that is delivered, before the listeners.
   */
  _onHistory(frame, name, detail) {
    const seq = frame.seq;
    if (typeof seq !== 'number' || seq <= this._lastSeq) {
      return false; // replay duplicate
    }
    const expected = Math.max(this._lastSeq, this._gapCovered) + 1;
    if (seq > expected) {
      // Never expected from the gateway (it announces every gap), but never hidden either.
      this._gapCovered = seq - 1;
      this._emit('gap', { from: expected, to: seq - 1 });
    }
    this._emit(name, typeof detail === 'function' ? detail() : detail);
    this._lastSeq = seq; // only once the application's listeners ran
    this._persist();
    this._noteProcessed();
    return true;
  }

  /**
   * A `request` frame: lists the request as pending unless it was resolved before this connection's
   * session_ready (a replayed request missing from pending_requests: its request_resolved follows in
   * the replay). Says whether it is pending.
   */
  _noteRequest(frame) {
    const requestId = frame.request_id;
    if (typeof requestId !== 'string') {
      return false;
    }
    if (frame.seq <= this._readySeq && !this._requests.has(requestId)) {
      return false;
    }
    this._requests.set(requestId, { requestId, request: frame.request ?? null, seq: frame.seq });
    return true;
  }

  _onError(frame) {
    const detail = { code: frame.code, message: frame.message ?? '', id: frame.id ?? null };
    if (frame.reason !== undefined) {
      detail.reason = frame.reason;
    }
    if (frame.request_id != null) {
      detail.requestId = frame.request_id; // a refused respond names its request
      if (frame.code === 'invalid_field') {
        this._answers.delete(frame.request_id); // the request still waits: it may be answered again
      }
    }
    if (this._viewer && frame.code === 'session_busy') {
      // Another node serves the watched session: its message names it (`&node=<node>`); close 1001 follows.
      const named = /&node=([a-z0-9-]{1,32})/.exec(frame.message ?? '');
      if (named) {
        this._node = named[1];
      }
    }
    if (frame.code === 'session_expired') {
      this._endReason = frame.reason ?? null; // why, should end() be waiting: close 4004 follows
    }
    if (frame.code === 'rate_limited' && frame.id == null && this._ending && this._ending.sentOn === this._ws) {
      this._retryEnd(); // perhaps `end` itself was refused; a second `end` is harmless
    }
    const entry = frame.id != null ? this._outbox.get(frame.id) : undefined;
    if (entry) {
      if (RESEND_LATER.has(frame.code)) {
        entry.held = frame.code; // not taken: sent again after auth_ok (token_expired) or a reconnect
        detail.willRetry = true;
      } else {
        this._outbox.delete(frame.id);
        detail.willRetry = false;
      }
    }
    this._emit('error', detail);
  }

  _releaseHeld(code) {
    for (const entry of this._outbox.values()) {
      if (entry.held === code) {
        entry.held = null;
        if (this._ready && !this._ending) {
          this._sendFrame({ type: 'message', id: entry.id, data: entry.data });
        }
      }
    }
  }

  async _refresh(expiresAt) {
    if (this._refreshing || this._refreshTimer !== null) {
      return; // refresh_required repeats until auth_ok; one getToken() at a time
    }
    // A token that is already inside the gateway's refresh lead when it arrives is asked about again
    // at once: without a floor, client and gateway would trade tokens in a tight loop.
    const wait = this._lastRefreshAt + this._minRefreshIntervalMs - this._now();
    if (wait > 0) {
      this._refreshTimer = this._setTimeout(() => {
        this._refreshTimer = null;
        if (this._ready) {
          this._refresh(expiresAt);
        }
      }, wait);
      return;
    }
    this._lastRefreshAt = this._now();
    this._refreshing = true;
    const ws = this._ws;
    try {
      const token = await this._getToken();
      if (ws && ws === this._ws && this._ready) {
        this._sendFrame({ type: 'auth_refresh', token });
        this._emit('refreshing', { expiresAt });
      }
    } catch (error) {
      this._emit('error', { code: 'token_unavailable', message: String(error?.message ?? error), id: null });
    } finally {
      this._refreshing = false;
    }
  }

  _cancelRefresh() {
    if (this._refreshTimer !== null) {
      this._clearTimeout(this._refreshTimer);
      this._refreshTimer = null;
    }
  }

  // --- end ---------------------------------------------------------------------------------------

  _sendEnd() {
    if (this._sendFrame({ type: 'end' })) {
      this._ending.sentOn = this._ws;
    } // else the socket is closing: `end` goes out after the resume
  }

  _retryEnd() {
    if (this._endRetryTimer !== null) {
      return;
    }
    const ws = this._ws;
    this._endRetryTimer = this._setTimeout(() => {
      this._endRetryTimer = null;
      if (this._ending && this._ready && this._ws === ws) {
        this._sendEnd();
      }
    }, END_RETRY_MS);
  }

  _cancelEndRetry() {
    if (this._endRetryTimer !== null) {
      this._clearTimeout(this._endRetryTimer);
      this._endRetryTimer = null;
    }
  }

  /** The session has ended: stop for good, forget it, drop the outbox, resolve end(). */
  _finishEnd(reason, seq) {
    const ending = this._ending;
    this._ending = null;
    this._cancelEndRetry();
    const sessionId = this._sessionId;
    this._wanted = false;
    this._cancelReconnect();
    this._abandonSocket(1000, 'session ended');
    const dropped = [...this._outbox.keys()];
    this._outbox.clear();
    this._forgetSession();
    this._ended = Object.freeze({ sessionId, reason, seq, dropped: Object.freeze(dropped) });
    this._setState('closed');
    this._emit('ended', this._ended);
    ending.resolve(this._ended);
  }

  /** end() will not complete: reject its promise. The session may still be running. */
  _failEnd(code, message, extra = {}) {
    const ending = this._ending;
    if (!ending) {
      return;
    }
    this._ending = null;
    this._cancelEndRetry();
    ending.reject(Object.assign(new Error('TetherClient.end: ' + message), { code, ...extra }));
  }

  _sendFrame(frame) {
    const ws = this._ws;
    if (!ws) {
      return false;
    }
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false; // closing: the close event decides what happens next
    }
  }

  _emit(name, detail) {
    this.dispatchEvent(customEvent(name, detail));
  }

  // --- acks ---------------------------------------------------------------------------------

  /**
   * A seq was processed. The ack goes out when the stream has been quiet for ackQuietMs, or
   * ackIntervalMs after the first unacknowledged seq while it keeps flowing, but never sooner than
   * ackIntervalMs after the previous ack.
   */
  _noteProcessed() {
    if (this._viewer) {
      return; // a viewer's ack is ignored by the gateway: none is sent
    }
    const now = this._now();
    this._lastFrameAt = now;
    if (this._firstUnackedAt === null) {
      this._firstUnackedAt = now;
    }
    if (this._ackTimer === null) {
      this._armAck();
    }
  }

  _ackDue() {
    const wanted = Math.min(this._lastFrameAt + this._ackQuietMs, this._firstUnackedAt + this._ackIntervalMs);
    return Math.max(wanted, this._lastAckAt + this._ackIntervalMs);
  }

  _armAck() {
    const delay = Math.max(0, this._ackDue() - this._now());
    this._ackTimer = this._setTimeout(() => {
      this._ackTimer = null;
      this._ackTick();
    }, delay);
  }

  _ackTick() {
    if (!this._ready || this._lastSeq <= this._ackedSeq) {
      this._firstUnackedAt = null;
      return;
    }
    if (this._now() < this._ackDue()) {
      this._armAck();
      return;
    }
    if (this._sendFrame({ type: 'ack', seq: this._lastSeq })) {
      this._ackedSeq = this._lastSeq;
      this._lastAckAt = this._now();
      this._firstUnackedAt = null;
    }
  }

  _cancelAck() {
    if (this._ackTimer !== null) {
      this._clearTimeout(this._ackTimer);
      this._ackTimer = null;
    }
    this._firstUnackedAt = null;
  }

  // --- storage ------------------------------------------------------------------------------

  _restore() {
    if (!this._storage) {
      return;
    }
    try {
      const saved = JSON.parse(this._storage.getItem(this._storageKey) ?? 'null');
      if (saved && typeof saved.sessionId === 'string' && Number.isSafeInteger(saved.lastSeq) && saved.lastSeq >= 0) {
        this._sessionId = saved.sessionId;
        this._lastSeq = saved.lastSeq;
        this._node = typeof saved.node === 'string' ? saved.node : null;
      }
    } catch {
      // unreadable: start a new session
    }
  }

  _persist() {
    if (!this._storage) {
      return;
    }
    try {
      if (this._sessionId) {
        this._storage.setItem(this._storageKey,
          JSON.stringify(this._node ? { sessionId: this._sessionId, lastSeq: this._lastSeq, node: this._node }
            : { sessionId: this._sessionId, lastSeq: this._lastSeq }));
      } else {
        this._storage.removeItem(this._storageKey);
      }
    } catch {
      // storage full or disabled: resuming after a reload is lost, nothing else
    }
  }

  _forgetSession() {
    this._sessionId = null;
    this._node = null; // the gateway node serving the session (session_ready.node), for the proxy's routing
    this._endsAt = null; // the session's end, epoch seconds: session_ready.ends_at, moved by duration_extended
    this._lastSeq = 0;
    this._gapCovered = 0;
    this._ackedSeq = 0;
    this._requests.clear(); // requests and answers belong to their session
    this._answers.clear();
    this._readySeq = 0;
    this._persist();
  }
}
