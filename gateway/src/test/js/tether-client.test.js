// Unit tests of the browser client library's logic, with a fake WebSocket and fake timers.
// Run: node --test gateway/src/test/js/   (ClientLibraryJsTest runs it from mvn verify)
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { TetherClient, backoffDelay } from '../../main/resources/web/tether-client.js';
import { FakeTimers, FakeWebSocket, MemoryStorage, flush } from './fakes.js';

let timers;
let storage;
let tokens;

beforeEach(() => {
  FakeWebSocket.reset();
  timers = new FakeTimers();
  storage = new MemoryStorage();
  tokens = 0;
});

function client(options = {}) {
  return new TetherClient({
    url: 'ws://gw.test/ws',
    getToken: async () => 'tok' + ++tokens,
    storage,
    WebSocket: FakeWebSocket,
    random: () => 0.5,
    timers,
    ...options,
  });
}

/** Records every event of the given names as [name, detail]. */
function record(target, ...names) {
  const seen = [];
  for (const name of names) {
    target.addEventListener(name, (e) => seen.push([name, e.detail]));
  }
  return seen;
}

async function connected(c, ready = {}) {
  c.connect();
  await flush();
  const ws = FakeWebSocket.last;
  ws.ready(ready);
  return ws;
}

/** Lets the reconnect timer fire and the new socket be created. */
async function reconnect(ms = 60000) {
  const before = FakeWebSocket.all.length;
  timers.advance(ms);
  await flush();
  assert.equal(FakeWebSocket.all.length, before + 1, 'a new socket was opened');
  return FakeWebSocket.last;
}

// --- connecting ------------------------------------------------------------------------------

test('connects with the gateway.v1 and bearer subprotocols and reports states', async () => {
  const c = client();
  const seen = record(c, 'state', 'ready');
  const ws = await connected(c, { sessionId: 'S1' });
  assert.equal(ws.url, 'ws://gw.test/ws');
  assert.deepEqual(ws.protocols, ['gateway.v1', 'bearer.tok1']);
  assert.equal(c.state, 'open');
  assert.equal(c.sessionId, 'S1');
  assert.deepEqual(seen.map(([n, d]) => n === 'state' ? d.state : n), ['connecting', 'open', 'ready']);
  assert.equal(seen[2][1].resumed, false);
});

test('requires url and getToken', () => {
  assert.throws(() => new TetherClient({ getToken: () => 't' }), TypeError);
  assert.throws(() => new TetherClient({ url: 'ws://x/ws' }), TypeError);
});

// --- backoff ---------------------------------------------------------------------------------

test('backoff delay is full jitter below min(max, initial * factor^attempt)', () => {
  const backoff = { initialMs: 500, maxMs: 30000, factor: 2 };
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = Math.min(30000, 500 * 2 ** attempt);
    assert.equal(backoffDelay(attempt, backoff, () => 0), 0);
    assert.ok(backoffDelay(attempt, backoff, () => 0.999999) < ceiling);
    assert.ok(backoffDelay(attempt, backoff, () => 0.999999) >= ceiling - 1);
    assert.equal(backoffDelay(attempt, backoff, () => 0.5), Math.floor(ceiling / 2));
  }
  assert.equal(backoffDelay(40, backoff, () => 0.999999), 29999, 'capped at maxMs');
});

test('reconnect delays grow with each failed attempt, capped, and reset after session_ready', async () => {
  const c = client({ backoff: { initialMs: 100, maxMs: 1000, factor: 2 } });
  const delays = [];
  c.addEventListener('state', (e) => e.detail.state === 'reconnecting' && delays.push(e.detail.delayMs));
  const ws = await connected(c);
  ws.serverClose(1006);
  for (let i = 0; i < 6; i++) {
    const next = await reconnect();
    next.serverClose(1006); // refused before any session_ready
  }
  assert.deepEqual(delays, [50, 100, 200, 400, 500, 500, 500]);
  const ok = await reconnect();
  ok.ready({ sessionId: 'S1', resumed: true });
  ok.serverClose(1006);
  assert.equal(delays.at(-1), 50, 'back to the first delay after a successful resume');
});

// --- history: order, duplicates, gaps ---------------------------------------------------------

test('sessionState: session_ready, then live statuses (hibernated, waking), not replayed ones', async () => {
  const c = client();
  assert.equal(c.sessionState, null);
  const seen = [];
  c.addEventListener('status', (e) => seen.push([e.detail.state, e.detail.reason, c.sessionState]));
  const ws = await connected(c);
  assert.equal(c.sessionState, 'idle');
  ws.receive({ type: 'status', seq: 1, state: 'hibernated', reason: 'idle' });
  assert.equal(c.sessionState, 'hibernated');
  ws.receive({ type: 'status', seq: 2, state: 'preparing', reason: 'wake' });
  assert.deepEqual(seen, [['hibernated', 'idle', 'hibernated'], ['preparing', 'wake', 'preparing']]);
  ws.serverClose(1006);
  const again = await reconnect();
  again.ready({ sessionId: 'S1', resumed: true, lastSeq: 3, state: 'hibernated' });
  assert.equal(c.sessionState, 'hibernated');
  again.receive({ type: 'status', seq: 3, state: 'idle' }); // replay: older than session_ready
  assert.equal(c.sessionState, 'hibernated', 'a replayed status is history');
  again.receive({ type: 'status', seq: 4, state: 'preparing', reason: 'wake' });
  assert.equal(c.sessionState, 'preparing');
});


test('drops replayed duplicates and resumes with the last processed seq', async () => {
  const c = client();
  const seqs = [];
  c.addEventListener('event', (e) => seqs.push(e.detail.seq));
  c.addEventListener('status', (e) => seqs.push(e.detail.seq));
  const ws = await connected(c);
  ws.event(1);
  ws.receive({ type: 'status', seq: 2, state: 'processing' });
  ws.event(3);
  ws.serverClose(1006);
  const again = await reconnect();
  assert.equal(again.url, 'ws://gw.test/ws?session=S1&last_seq=3');
  again.ready({ sessionId: 'S1', resumed: true, lastSeq: 5 });
  again.event(2);
  again.event(3);
  again.event(4);
  again.receive({ type: 'notice', seq: 5, code: 'worker_restarted', message: 'm' });
  again.event(4);
  assert.deepEqual(seqs, [1, 2, 3, 4]);
  assert.equal(c.lastSeq, 5);
});

test('lastSeq moves only after the application listeners ran', async () => {
  const c = client();
  const during = [];
  c.addEventListener('event', () => during.push(c.lastSeq));
  const ws = await connected(c);
  ws.event(1);
  ws.event(2);
  assert.deepEqual(during, [0, 1]);
  assert.equal(c.lastSeq, 2);
});

test('surfaces replay_gap, and an unannounced jump as a gap too', async () => {
  const c = client();
  const seen = record(c, 'gap', 'event');
  const ws = await connected(c);
  ws.event(1);
  ws.receive({ type: 'replay_gap', from: 2, to: 9 });
  ws.event(10);
  ws.event(13);
  assert.deepEqual(seen, [
    ['event', { seq: 1, event: { type: 'delta', text: 'x1' } }],
    ['gap', { from: 2, to: 9 }],
    ['event', { seq: 10, event: { type: 'delta', text: 'x10' } }],
    ['gap', { from: 11, to: 12 }],
    ['event', { seq: 13, event: { type: 'delta', text: 'x13' } }],
  ]);
});

// --- acks --------------------------------------------------------------------------------------

test('acks promptly when the stream goes quiet', async () => {
  const c = client({ ackIntervalMs: 1000 });
  const ws = await connected(c);
  ws.event(1);
  ws.event(2);
  timers.advance(249);
  assert.deepEqual(ws.sentOf('ack'), []);
  timers.advance(1);
  assert.deepEqual(ws.sentOf('ack'), [{ type: 'ack', seq: 2 }]);
  timers.advance(10000);
  assert.equal(ws.sentOf('ack').length, 1, 'nothing new, no new ack');
});

test('acks periodically during a continuous stream, never more often than ackIntervalMs', async () => {
  const c = client({ ackIntervalMs: 1000 });
  const ws = await connected(c);
  const ackTimes = [];
  const send = ws.send.bind(ws);
  ws.send = (text) => {
    if (JSON.parse(text).type === 'ack') ackTimes.push(timers.now());
    send(text);
  };
  let seq = 0;
  for (let t = 0; t < 3500; t += 100) {
    ws.event(++seq);
    timers.advance(100);
  }
  timers.advance(5000);
  assert.ok(ackTimes.length >= 3, 'acks while the stream flows: ' + ackTimes);
  for (let i = 1; i < ackTimes.length; i++) {
    assert.ok(ackTimes[i] - ackTimes[i - 1] >= 1000, 'spaced: ' + ackTimes);
  }
  assert.equal(ws.sentOf('ack').at(-1).seq, seq, 'the last ack covers everything');
});

test('the quiet ack waits for the interval since the previous ack', async () => {
  const c = client({ ackIntervalMs: 1000 });
  const ws = await connected(c);
  ws.event(1);
  timers.advance(250); // quiet: ack 1 at t=250
  ws.event(2);
  timers.advance(250); // quiet again at t=500, but the previous ack was at 250
  assert.equal(ws.sentOf('ack').length, 1);
  timers.advance(749); // t=1249
  assert.equal(ws.sentOf('ack').length, 1);
  timers.advance(1); // t=1250: an interval after the first ack
  assert.deepEqual(ws.sentOf('ack'), [{ type: 'ack', seq: 1 }, { type: 'ack', seq: 2 }]);
});

// --- outbox -----------------------------------------------------------------------------------

test('keeps messages until accepted and resends them with the same id after a reconnect', async () => {
  const c = client();
  const ws = await connected(c);
  const a = c.send({ text: 'a' }, 'm-a');
  const b = c.send({ text: 'b' });
  assert.equal(a, 'm-a');
  assert.match(b, /^[0-9a-f-]{36}$/);
  assert.deepEqual(ws.sentOf('message').map((m) => m.id), ['m-a', b]);
  ws.receive({ type: 'accepted', id: 'm-a', duplicate: false, queued: 0 });
  assert.deepEqual(c.pending, [b]);
  ws.serverClose(1006);
  const again = await reconnect();
  assert.deepEqual(again.sentOf('message'), [], 'nothing before session_ready');
  again.ready({ sessionId: 'S1', resumed: true });
  assert.deepEqual(again.sentOf('message'), [{ type: 'message', id: b, data: { text: 'b' } }]);
  again.receive({ type: 'accepted', id: b, duplicate: true, queued: 0 });
  assert.deepEqual(c.pending, []);
});

test('messages sent while disconnected go out once the session is ready', async () => {
  const c = client();
  c.connect();
  c.send('early', 'm1');
  await flush();
  const ws = FakeWebSocket.last;
  ws.ready();
  assert.deepEqual(ws.sentOf('message'), [{ type: 'message', id: 'm1', data: 'early' }]);
});

test('a refused message leaves the outbox; token_expired and shutting_down ones are sent again', async () => {
  const c = client();
  const errors = record(c, 'error');
  const ws = await connected(c);
  c.send(1, 'full');
  c.send(2, 'late');
  c.send(3, 'drain');
  ws.receive({ type: 'error', code: 'queue_full', message: 'q', id: 'full' });
  ws.receive({ type: 'error', code: 'token_expired', message: 't', id: 'late' });
  ws.receive({ type: 'error', code: 'shutting_down', message: 's', id: 'drain' });
  assert.deepEqual(c.pending, ['late', 'drain']);
  assert.deepEqual(errors.map(([, d]) => [d.id, d.willRetry]), [['full', false], ['late', true], ['drain', true]]);
  ws.receive({ type: 'auth_ok', expires_at: 2000000000 });
  assert.deepEqual(ws.sentOf('message').map((m) => m.id), ['full', 'late', 'drain', 'late']);
  ws.serverClose(1001);
  const again = await reconnect();
  again.ready({ sessionId: 'S1', resumed: true });
  assert.deepEqual(again.sentOf('message').map((m) => m.id), ['late', 'drain']);
});

// --- tokens -----------------------------------------------------------------------------------

test('refresh_required: getToken, auth_refresh, refreshed on auth_ok, no reconnect', async () => {
  const c = client();
  const seen = record(c, 'refreshing', 'refreshed');
  const ws = await connected(c);
  ws.receive({ type: 'refresh_required', expires_at: 1000 });
  ws.receive({ type: 'refresh_required', expires_at: 1000 }); // repeated while the first is in progress
  await flush();
  assert.deepEqual(ws.sentOf('auth_refresh'), [{ type: 'auth_refresh', token: 'tok2' }]);
  ws.receive({ type: 'auth_ok', expires_at: 5000 });
  assert.deepEqual(seen, [['refreshing', { expiresAt: 1000 }], ['refreshed', { expiresAt: 5000 }]]);
  assert.equal(FakeWebSocket.all.length, 1);
  assert.equal(c.state, 'open');
});

test('refreshes at most every minRefreshIntervalMs when the gateway asks again at once', async () => {
  const c = client({ minRefreshIntervalMs: 2000 });
  const ws = await connected(c);
  ws.receive({ type: 'refresh_required', expires_at: 20 });
  await flush();
  ws.receive({ type: 'auth_ok', expires_at: 20 });
  ws.receive({ type: 'refresh_required', expires_at: 20 }); // the new token is inside the lead too
  await flush();
  assert.equal(ws.sentOf('auth_refresh').length, 1, 'no second refresh at once');
  timers.advance(1999);
  await flush();
  assert.equal(ws.sentOf('auth_refresh').length, 1);
  timers.advance(1);
  await flush();
  assert.equal(ws.sentOf('auth_refresh').length, 2, 'the deferred refresh went out');
});

test('close 4010: reconnects with a fresh token and resumes', async () => {
  const c = client();
  const ws = await connected(c);
  ws.event(1);
  ws.serverClose(4010, 'token expired');
  assert.equal(c.state, 'reconnecting');
  const again = await reconnect();
  assert.deepEqual(again.protocols, ['gateway.v1', 'bearer.tok2']);
  assert.equal(again.url, 'ws://gw.test/ws?session=S1&last_seq=1');
});

test('a failing getToken is reported and retried with backoff', async () => {
  let fail = true;
  const c = client({ getToken: async () => { if (fail) throw new Error('no token'); return 'ok'; } });
  const errors = record(c, 'error');
  c.connect();
  await flush();
  assert.equal(FakeWebSocket.all.length, 0);
  assert.equal(errors[0][1].code, 'token_unavailable');
  assert.equal(c.state, 'reconnecting');
  fail = false;
  const ws = await reconnect();
  assert.deepEqual(ws.protocols, ['gateway.v1', 'bearer.ok']);
});

// --- closes -----------------------------------------------------------------------------------

for (const code of [4001, 4004, 4009, 4011]) {
  test(`close ${code} is terminal: no reconnect, state closed`, async () => {
    const c = client();
    const seen = record(c, 'terminal');
    const ws = await connected(c, { sessionId: 'S9' });
    ws.event(1);
    ws.serverClose(code, 'why');
    timers.advance(10 * 60 * 1000);
    await flush();
    assert.equal(FakeWebSocket.all.length, 1, 'no reconnect');
    assert.equal(c.state, 'closed');
    assert.deepEqual(seen, [['terminal', { code, reason: 'why' }]]);
    const stored = JSON.parse(storage.getItem('tether.session'));
    if (code === 4001) {
      assert.deepEqual(stored, { sessionId: 'S9', lastSeq: 1 }, 'a replaced session is still ours to take back');
    } else {
      assert.equal(stored, null, 'a session that is gone is forgotten');
      assert.equal(c.sessionId, null);
    }
  });
}

test('session_replaced followed by a dropped socket is still terminal 4001', async () => {
  const c = client();
  const seen = record(c, 'terminal');
  const ws = await connected(c);
  ws.receive({ type: 'session_replaced' });
  ws.serverClose(1006);
  assert.equal(seen[0][1].code, 4001);
  assert.equal(c.state, 'closed');
});

test('1001 and dropped sockets reconnect; shutting_down makes the first retry wait retry_after', async () => {
  const c = client();
  const seen = record(c, 'shutting_down');
  const ws = await connected(c);
  ws.receive({ type: 'shutting_down', retry_after: 5 });
  ws.serverClose(1001);
  assert.deepEqual(seen, [['shutting_down', { retryAfter: 5 }]]);
  assert.deepEqual(timers.delays(), [5000 + 250]);
  const again = await reconnect();
  again.serverClose(4004, 'session not found'); // the restarted gateway does not know the session
  assert.equal(c.state, 'closed');
  c.newSession();
  await flush();
  assert.equal(FakeWebSocket.last.url, 'ws://gw.test/ws', 'a new session');
});

test('dropConnection closes with a 4000 code and resumes; close() stops for good', async () => {
  const c = client();
  const states = [];
  c.addEventListener('state', (e) => states.push(e.detail.state));
  const ws = await connected(c);
  ws.event(1);
  c.dropConnection();
  assert.equal(ws.closedWith.code, 4000);
  ws.serverClose(4000); // the late close event of the abandoned socket changes nothing
  const again = await reconnect();
  assert.equal(again.url, 'ws://gw.test/ws?session=S1&last_seq=1');
  again.ready({ sessionId: 'S1', resumed: true, lastSeq: 1 });
  c.close();
  assert.equal(again.closedWith.code, 1000);
  timers.advance(10 * 60 * 1000);
  await flush();
  assert.equal(FakeWebSocket.all.length, 2);
  assert.deepEqual(states, ['connecting', 'open', 'reconnecting', 'open', 'closed']);
});

test('newSession forgets the stored session and starts a new one', async () => {
  const c = client();
  const ws = await connected(c, { sessionId: 'OLD' });
  ws.event(1);
  c.newSession();
  await flush();
  const fresh = FakeWebSocket.last;
  assert.equal(fresh.url, 'ws://gw.test/ws');
  assert.equal(storage.getItem('tether.session'), null);
  fresh.ready({ sessionId: 'NEW' });
  assert.equal(c.sessionId, 'NEW');
  assert.equal(c.lastSeq, 0);
});

// --- storage ----------------------------------------------------------------------------------

test('persists {sessionId, lastSeq} and a new client (a reloaded page) resumes from it', async () => {
  const first = client();
  const ws = await connected(first, { sessionId: 'S7' });
  ws.event(1);
  ws.event(2);
  assert.deepEqual(JSON.parse(storage.getItem('tether.session')), { sessionId: 'S7', lastSeq: 2 });

  const reloaded = client();
  assert.equal(reloaded.sessionId, 'S7');
  assert.equal(reloaded.lastSeq, 2);
  reloaded.connect();
  await flush();
  assert.equal(FakeWebSocket.last.url, 'ws://gw.test/ws?session=S7&last_seq=2');
});

test('resumes on the node that serves the session now (session_ready.node), across a reload', async () => {
  const c = client();
  const ws = await connected(c, { sessionId: 'a.S9', node: 'a' });
  ws.event(1);
  ws.serverClose(1001);
  const onB = await reconnect();
  assert.equal(onB.url, 'ws://gw.test/ws?session=a.S9&last_seq=1&node=a');
  onB.ready({ sessionId: 'a.S9', resumed: true, lastSeq: 1, node: 'b' }); // it moved to b
  assert.deepEqual(JSON.parse(storage.getItem('tether.session')), { sessionId: 'a.S9', lastSeq: 1, node: 'b' });
  onB.serverClose(1006);
  const again = await reconnect();
  assert.equal(again.url, 'ws://gw.test/ws?session=a.S9&last_seq=1&node=b', 'straight to its new node');

  const reloaded = client();
  reloaded.connect();
  await flush();
  assert.equal(FakeWebSocket.last.url, 'ws://gw.test/ws?session=a.S9&last_seq=1&node=b');
});

test('nothing secret is stored, and unreadable storage starts a new session', async () => {
  const c = client();
  const ws = await connected(c);
  ws.receive({ type: 'refresh_required', expires_at: 1 });
  await flush();
  for (const value of storage.map.values()) {
    assert.ok(!value.includes('tok'), 'no token in storage: ' + value);
  }
  storage.setItem('tether.session', '{broken');
  const other = client();
  assert.equal(other.sessionId, null);
});

test('works without storage', async () => {
  const c = client({ storage: null });
  const ws = await connected(c);
  ws.event(1);
  assert.equal(c.lastSeq, 1);
});

// --- end() ------------------------------------------------------------------------------------

/** The state of a promise, readable after flush(). */
function track(promise) {
  const t = { state: 'pending', value: undefined };
  promise.then((v) => { t.state = 'resolved'; t.value = v; }, (e) => { t.state = 'rejected'; t.value = e; });
  return t;
}

test('end: sends end, resolves on status ended client_end, stops for good, forgets the session', async () => {
  const c = client();
  const seen = record(c, 'status', 'ended', 'terminal');
  const ws = await connected(c, { sessionId: 'S1' });
  ws.event(1);
  c.send('unanswered', 'm1');
  const end = track(c.end());
  assert.deepEqual(ws.sentOf('end'), [{ type: 'end' }]);
  await flush();
  assert.equal(end.state, 'pending');

  ws.receive({ type: 'status', seq: 2, state: 'ended', reason: 'client_end' });
  await flush();
  const detail = { sessionId: 'S1', reason: 'client_end', seq: 2, dropped: ['m1'] };
  assert.equal(end.state, 'resolved');
  assert.deepEqual(end.value, detail);
  assert.deepEqual(seen, [
    ['status', { seq: 2, state: 'ended', reason: 'client_end' }],
    ['ended', detail],
  ], 'the status first, then ended; no terminal');
  assert.deepEqual(c.ended, detail);
  assert.equal(c.state, 'closed');
  assert.deepEqual(c.pending, [], 'the outbox is dropped');
  assert.equal(storage.getItem('tether.session'), null, 'a reload starts a new session');
  assert.equal(c.sessionId, null);
  assert.equal(ws.closedWith.code, 1000);

  ws.serverClose(1000); // the gateway's close of the socket the client already let go
  timers.advance(10 * 60 * 1000);
  await flush();
  assert.equal(FakeWebSocket.all.length, 1, 'no reconnect');
  assert.equal(seen.length, 2);
});

test('end resolves on close 1000 when the status did not come first', async () => {
  const c = client();
  const seen = record(c, 'ended', 'terminal');
  const ws = await connected(c, { sessionId: 'S1' });
  const end = track(c.end());
  ws.serverClose(1000);
  await flush();
  assert.deepEqual(end.value, { sessionId: 'S1', reason: 'client_end', seq: null, dropped: [] });
  assert.deepEqual(seen.map(([name]) => name), ['ended']);
  timers.advance(10 * 60 * 1000);
  await flush();
  assert.equal(FakeWebSocket.all.length, 1, 'no reconnect');
});

test('after end, send throws until newSession; a reloaded page starts a new session', async () => {
  const c = client();
  const ws = await connected(c, { sessionId: 'OLD' });
  const ending = c.end();
  assert.throws(() => c.send('while ending'), (e) => e.code === 'session_ended' && /newSession/.test(e.message));
  ws.receive({ type: 'status', seq: 1, state: 'ended', reason: 'client_end' });
  await ending;
  assert.throws(() => c.send('after'), (e) => e.code === 'session_ended' && /newSession/.test(e.message));
  assert.deepEqual(await c.end(), await ending, 'end() again resolves with the same detail');

  const reloaded = client();
  assert.equal(reloaded.sessionId, null);
  reloaded.connect();
  await flush();
  assert.equal(FakeWebSocket.last.url, 'ws://gw.test/ws', 'the reloaded page asks for a new session');

  c.newSession();
  await flush();
  const fresh = FakeWebSocket.last;
  assert.equal(fresh.url, 'ws://gw.test/ws');
  fresh.ready({ sessionId: 'NEW' });
  assert.equal(c.ended, null);
  c.send('hello', 'm1');
  assert.deepEqual(fresh.sentOf('message'), [{ type: 'message', id: 'm1', data: 'hello' }]);
});

test('end while reconnecting goes out right after session_ready, before the outbox and acks', async () => {
  const c = client();
  const ws = await connected(c, { sessionId: 'S1' });
  ws.event(1);
  c.send('unanswered', 'm1');
  ws.serverClose(1006);
  const end = track(c.end());
  assert.equal(c.state, 'reconnecting', 'the scheduled reconnect stays as it was');
  const again = await reconnect();
  assert.equal(again.url, 'ws://gw.test/ws?session=S1&last_seq=1');
  again.ready({ sessionId: 'S1', resumed: true, lastSeq: 1 });
  assert.deepEqual(again.sent, [{ type: 'end' }], 'only end: the outbox is not resent');
  timers.advance(5000);
  assert.deepEqual(again.sent, [{ type: 'end' }], 'no ack either');
  again.receive({ type: 'status', seq: 2, state: 'ended', reason: 'client_end' });
  await flush();
  assert.deepEqual(end.value, { sessionId: 'S1', reason: 'client_end', seq: 2, dropped: ['m1'] });
});

test('end on a client that is not connected resumes the stored session to end it', async () => {
  storage.setItem('tether.session', JSON.stringify({ sessionId: 'S5', lastSeq: 3 }));
  const c = client();
  const end = track(c.end());
  assert.equal(c.state, 'connecting');
  await flush();
  const ws = FakeWebSocket.last;
  assert.equal(ws.url, 'ws://gw.test/ws?session=S5&last_seq=3');
  ws.ready({ sessionId: 'S5', resumed: true, lastSeq: 3 });
  assert.deepEqual(ws.sentOf('end'), [{ type: 'end' }]);
  ws.receive({ type: 'status', seq: 4, state: 'ended', reason: 'client_end' });
  await flush();
  assert.equal(end.value.reason, 'client_end');
  assert.equal(storage.getItem('tether.session'), null);
});

test('end whose first try was taken before the socket dropped: the resume is refused, end resolves', async () => {
  const c = client();
  const seen = record(c, 'ended', 'terminal', 'error');
  const ws = await connected(c, { sessionId: 'S1' });
  const end = track(c.end());
  ws.serverClose(1006); // `end` went out; the status and the close 1000 were lost
  const again = await reconnect();
  again.open();
  again.receive({ type: 'error', code: 'session_expired', message: 'session has ended', reason: 'client_end' });
  again.serverClose(4004, 'session not found');
  await flush();
  assert.deepEqual(end.value, { sessionId: 'S1', reason: 'client_end', seq: null, dropped: [] });
  assert.deepEqual(seen.map(([name]) => name), ['error', 'ended'], 'no terminal: the session ended as asked');
  assert.equal(storage.getItem('tether.session'), null);
  timers.advance(10 * 60 * 1000);
  await flush();
  assert.equal(FakeWebSocket.all.length, 2, 'no reconnect');
});

test('end with no session to end resolves at once, and cancels a connect still getting its token', async () => {
  const c = client();
  assert.deepEqual(await c.end(), { sessionId: null, reason: null, seq: null, dropped: [] });
  assert.equal(c.state, 'closed');

  const other = client();
  other.connect(); // getToken() is pending: no socket yet, no session yet
  const end = track(other.end());
  await flush();
  assert.equal(FakeWebSocket.all.length, 0, 'no socket opened to create a session only to end it');
  assert.equal(end.state, 'resolved');
  assert.equal(end.value.sessionId, null);
});

test('end while a new session is being created: ends it once ready, or resolves if it never comes', async () => {
  const c = client();
  c.connect();
  await flush();
  const ws = FakeWebSocket.last; // the gateway may be creating a session for it right now
  const end = track(c.end());
  ws.ready({ sessionId: 'N1' });
  assert.deepEqual(ws.sentOf('end'), [{ type: 'end' }]);
  ws.receive({ type: 'status', seq: 1, state: 'ended', reason: 'client_end' });
  await flush();
  assert.equal(end.value.sessionId, 'N1');

  const other = client();
  other.connect();
  await flush();
  const lost = FakeWebSocket.last;
  const never = track(other.end());
  lost.serverClose(1006); // refused before any session_ready: there is no session to end
  await flush();
  assert.deepEqual(never.value, { sessionId: null, reason: null, seq: null, dropped: [] });
  timers.advance(10 * 60 * 1000);
  await flush();
  assert.equal(FakeWebSocket.all.length, 2, 'no reconnect to create a session only to end it');
});

test('end is rejected when another connection takes the session (4001); the session is kept', async () => {
  const c = client();
  const seen = record(c, 'terminal', 'ended');
  const ws = await connected(c, { sessionId: 'S1' });
  ws.event(1);
  const end = track(c.end());
  ws.serverClose(4001, 'session replaced');
  await flush();
  assert.equal(end.state, 'rejected');
  assert.equal(end.value.code, 'terminal');
  assert.equal(end.value.closeCode, 4001);
  assert.deepEqual(seen, [['terminal', { code: 4001, reason: 'session replaced' }]]);
  assert.deepEqual(JSON.parse(storage.getItem('tether.session')), { sessionId: 'S1', lastSeq: 1 });
  assert.equal(c.ended, null);
  c.send('still ours to send', 'm1'); // waits in the outbox, as after any terminal close
  assert.deepEqual(c.pending, ['m1']);
});

test('close() and newSession() during end reject it', async () => {
  const c = client();
  await connected(c, { sessionId: 'S1' });
  const closed = track(c.end());
  c.close();
  await flush();
  assert.equal(closed.state, 'rejected');
  assert.equal(closed.value.code, 'closed');
  assert.equal(storage.getItem('tether.session') !== null, true, 'close() keeps the session resumable');

  const abandoned = track(c.end()); // resumes to end it
  await flush();
  c.newSession();
  await flush();
  assert.equal(abandoned.value.code, 'new_session');
  assert.equal(FakeWebSocket.last.url, 'ws://gw.test/ws');
});

test('end refused by the frame rate limit is sent again a second later', async () => {
  const c = client();
  const ws = await connected(c);
  c.end();
  ws.receive({ type: 'error', code: 'rate_limited', message: 'too many frames: slow down' });
  ws.receive({ type: 'error', code: 'rate_limited', message: 'too many frames: slow down' });
  timers.advance(999);
  assert.equal(ws.sentOf('end').length, 1);
  timers.advance(1);
  assert.equal(ws.sentOf('end').length, 2, 'one retry for both refusals');
});

// --- viewers (protocol section 7.4) ------------------------------------------------------------

test('a viewer resumes the watched session with role=viewer, exposes role, and keeps nothing in storage', async () => {
  const c = client({ view: 'S9', node: 'gw-2', storage: undefined });
  assert.equal(c.role, 'viewer');
  const seen = record(c, 'ready', 'event');
  const ws = await connected(c, { sessionId: 'S9', resumed: true, lastSeq: 2, role: 'viewer', node: 'gw-2' });
  assert.equal(ws.url, 'ws://gw.test/ws?session=S9&role=viewer&last_seq=0&node=gw-2');
  assert.equal(seen[0][1].role, 'viewer');
  ws.event(1);
  ws.event(2);
  timers.advance(60000);
  assert.deepEqual(ws.sentOf('ack'), [], 'a viewer sends no acks');
  ws.serverClose(1006);
  const next = await reconnect();
  assert.equal(next.url, 'ws://gw.test/ws?session=S9&role=viewer&last_seq=2&node=gw-2', 'resumes after what it saw');
  assert.equal(storage.getItem('tether.session'), null, 'the owner\'s stored session is left alone');
});

test('an owner\'s role comes from session_ready', async () => {
  const c = client();
  await connected(c, { role: 'owner' });
  assert.equal(c.role, 'owner');
});

test('a viewer refuses send, interrupt, end and newSession locally', async () => {
  const c = client({ view: 'S9' });
  const ws = await connected(c, { sessionId: 'S9', resumed: true, role: 'viewer' });
  assert.throws(() => c.send('hi'), { code: 'read_only' });
  assert.throws(() => c.interrupt(), { code: 'read_only' });
  assert.throws(() => c.newSession(), { code: 'read_only' });
  await assert.rejects(c.end(), { code: 'read_only' });
  assert.throws(() => c.extend(), { code: 'read_only' });
  assert.deepEqual(ws.sent, [], 'nothing went to the gateway');
});

test('extend() sends extend when connected, and endsAt follows session_ready and duration_extended', async () => {
  const c = client();
  assert.equal(c.extend(), false, 'not connected: nothing is sent or queued');
  const ws = await connected(c, { endsAt: 1767254400 });
  assert.equal(c.endsAt, 1767254400);
  assert.equal(c.extend(), true);
  assert.deepEqual(ws.sentOf('extend'), [{ type: 'extend' }]);
  const notices = record(c, 'notice');
  ws.receive({ type: 'notice', seq: 1, code: 'duration_extended', message: 'later', details: { ends_at: 1767256200 } });
  assert.equal(c.endsAt, 1767256200);
  assert.equal(notices.length, 1);
  const errors = record(c, 'error');
  ws.receive({ type: 'error', code: 'extension_refused', message: 'this session has used all 1 of its extensions' });
  assert.equal(errors[0][1].code, 'extension_refused');
  assert.equal(c.endsAt, 1767256200, 'a refusal moves nothing');
});

test('endsAt is null from a gateway that does not send ends_at', async () => {
  const c = client();
  await connected(c);
  assert.equal(c.endsAt, null);
});

test('a viewer told session_busy by a node that does not serve the session reconnects to the named node', async () => {
  const c = client({ view: 'S9', node: 'gw-1' });
  c.connect();
  await flush();
  const ws = FakeWebSocket.last;
  ws.open();
  ws.receive({ type: 'error', code: 'session_busy', message: 'the session is served by node gw-3: connect there with &node=gw-3' });
  ws.serverClose(1001);
  const next = await reconnect();
  assert.equal(next.url, 'ws://gw.test/ws?session=S9&role=viewer&last_seq=0&node=gw-3');
});

// --- requests to the user (protocol section 7.3) -----------------------------------------------

const APPROVAL = { kind: 'approval', tool: 'Bash', input: { command: 'rm -rf build' } };

function request(ws, seq, requestId, body = APPROVAL) {
  ws.receive({ type: 'request', seq, request_id: requestId, request: body });
}

function resolved(ws, seq, requestId, outcome = 'answered') {
  ws.receive({ type: 'request_resolved', seq, request_id: requestId, outcome });
}

/** pendingRequests as [requestId, answer] pairs. */
function pendingOf(c) {
  return c.pendingRequests.map((r) => [r.requestId, r.answer]);
}

test('requests and their resolution are history: delivered once, in order, tracked in pendingRequests', async () => {
  const c = client();
  const seen = record(c, 'request', 'request_resolved', 'gap');
  const ws = await connected(c, { pendingRequests: [] });
  request(ws, 1, 'r1');
  request(ws, 2, 'r2', { kind: 'question', text: 'which branch?' });
  assert.deepEqual(c.pendingRequests, [
    { requestId: 'r1', request: APPROVAL, seq: 1, answer: null },
    { requestId: 'r2', request: { kind: 'question', text: 'which branch?' }, seq: 2, answer: null },
  ]);
  resolved(ws, 3, 'r1', 'timeout');
  request(ws, 2, 'r2'); // a replay duplicate
  ws.event(4);
  assert.deepEqual(pendingOf(c), [['r2', null]]);
  assert.deepEqual(seen, [
    ['request', { seq: 1, requestId: 'r1', request: APPROVAL, pending: true }],
    ['request', { seq: 2, requestId: 'r2', request: { kind: 'question', text: 'which branch?' }, pending: true }],
    ['request_resolved', { seq: 3, requestId: 'r1', outcome: 'timeout' }],
  ], 'no gap: request frames move lastSeq like any history frame');
  assert.equal(c.lastSeq, 4);
});

test('pendingRequests is rebuilt from session_ready on every reconnect: evicted requests show, resolved ones go', async () => {
  const c = client();
  const seen = record(c, 'request', 'request_resolved');
  const ws = await connected(c);
  request(ws, 1, 'r1');
  request(ws, 2, 'r2');
  ws.serverClose(1006);
  assert.deepEqual(pendingOf(c), [['r1', null], ['r2', null]], 'kept while reconnecting');
  const again = await reconnect();
  const atReady = [];
  c.addEventListener('ready', () => atReady.push(...pendingOf(c)));
  // While the client was away: r3 was asked (seq 3) and r1 answered from elsewhere (seq 4), both
  // frames evicted from the replay buffer; r4 was asked and timed out (seqs 5, 6), still replayed.
  again.ready({ sessionId: 'S1', resumed: true, lastSeq: 6, pendingRequests: [
    { request_id: 'r2', request: APPROVAL, seq: 2 }, { request_id: 'r3', request: APPROVAL, seq: 3 }] });
  assert.deepEqual(atReady, [['r2', null], ['r3', null]], 'listed at ready, before the replay');
  again.receive({ type: 'replay_gap', from: 3, to: 4 });
  request(again, 5, 'r4');
  assert.deepEqual(pendingOf(c), [['r2', null], ['r3', null]], 'a replayed request resolved since is not pending');
  resolved(again, 6, 'r4', 'timeout');
  assert.deepEqual(seen.slice(2), [
    ['request', { seq: 5, requestId: 'r4', request: APPROVAL, pending: false }],
    ['request_resolved', { seq: 6, requestId: 'r4', outcome: 'timeout' }],
  ]);
  request(again, 7, 'r5');
  resolved(again, 8, 'r2');
  assert.deepEqual(pendingOf(c), [['r3', null], ['r5', null]], 'live frames update it as before');

  again.serverClose(1006);
  const third = await reconnect();
  third.ready({ sessionId: 'S1', resumed: true, lastSeq: 8 }); // a gateway that lists none: none
  assert.deepEqual(c.pendingRequests, []);
});

test('a reloaded page lists the pending requests of the session it resumes', async () => {
  const first = client();
  const ws = await connected(first);
  request(ws, 1, 'r1');
  const reloaded = client();
  assert.deepEqual(reloaded.pendingRequests, [], 'nothing is kept in storage');
  reloaded.connect();
  await flush();
  const next = FakeWebSocket.last;
  assert.equal(next.url, 'ws://gw.test/ws?session=S1&last_seq=1');
  next.ready({ sessionId: 'S1', resumed: true, lastSeq: 1, pendingRequests: [{ request_id: 'r1', request: APPROVAL, seq: 1 }] });
  assert.deepEqual(reloaded.pendingRequests, [{ requestId: 'r1', request: APPROVAL, seq: 1, answer: null }]);
});

test('respond sends a respond frame; its request_resolved ends it; the gateway\'s refusals are error events', async () => {
  const c = client();
  const errors = record(c, 'error');
  const ws = await connected(c);
  request(ws, 1, 'r1');
  assert.equal(c.respond('r1', { decision: 'allow' }), 'sent');
  assert.deepEqual(ws.sentOf('respond'), [{ type: 'respond', request_id: 'r1', data: { decision: 'allow' } }]);
  assert.deepEqual(pendingOf(c), [['r1', 'sent']]);
  resolved(ws, 2, 'r1');
  assert.deepEqual(c.pendingRequests, []);

  c.respond('r1', { decision: 'deny' });
  ws.receive({ type: 'error', code: 'request_resolved', message: 'request r1 was already resolved', request_id: 'r1' });
  c.respond('nope', 'x');
  ws.receive({ type: 'error', code: 'request_not_found', message: 'this session has no request nope', request_id: 'nope' });
  assert.deepEqual(ws.sentOf('respond').map((f) => [f.request_id, f.data]),
    [['r1', { decision: 'allow' }], ['r1', { decision: 'deny' }], ['nope', 'x']], 'the gateway decides, not the client');
  assert.deepEqual(errors.map(([, d]) => [d.code, d.id, d.requestId]),
    [['request_resolved', null, 'r1'], ['request_not_found', null, 'nope']]);
  assert.deepEqual(c.pending, [], 'answers are not messages');
  assert.throws(() => c.respond('', {}), TypeError);
});

test('an answer refused as invalid_field can be given again: the request shows unanswered', async () => {
  const c = client();
  const ws = await connected(c);
  request(ws, 1, 'r1');
  c.respond('r1', { decision: 'maybe' });
  assert.deepEqual(pendingOf(c), [['r1', 'sent']]);
  ws.receive({ type: 'error', code: 'invalid_field', message: 'data: decision: expected "allow" or "deny"', request_id: 'r1' });
  assert.deepEqual(pendingOf(c), [['r1', null]], 'still waiting, and answerable');
  assert.equal(c.respond('r1', { decision: 'allow' }), 'sent');
});

test('respond while disconnected goes out once after session_ready, before queued messages', async () => {
  const c = client();
  const ws = await connected(c);
  request(ws, 1, 'r1');
  ws.serverClose(1006);
  assert.equal(c.respond('r1', { decision: 'allow' }), 'queued');
  assert.equal(c.respond('r1', { decision: 'deny' }), 'queued', 'changed before it went out: replaces the first');
  c.send('later', 'm1');
  assert.deepEqual(pendingOf(c), [['r1', 'queued']]);
  const again = await reconnect();
  again.open();
  assert.deepEqual(again.sent, [], 'nothing before session_ready');
  again.receive({
    type: 'session_ready', session_id: 'S1', resumed: true, last_seq: 1, token_expires_at: 2000000000, state: 'processing',
    pending_requests: [{ request_id: 'r1', request: APPROVAL, seq: 1 }],
  });
  assert.deepEqual(again.sent.map((f) => f.type), ['respond', 'message']);
  assert.deepEqual(again.sentOf('respond'), [{ type: 'respond', request_id: 'r1', data: { decision: 'deny' } }]);
  assert.deepEqual(pendingOf(c), [['r1', 'sent']]);

  // Dropped again before the gateway answered: the answer is not sent a second time. Still pending
  // after the resume (it was lost), the request is listed unanswered; answered, it is gone.
  again.serverClose(1006);
  const third = await reconnect();
  third.ready({ sessionId: 'S1', resumed: true, lastSeq: 1, pendingRequests: [{ request_id: 'r1', request: APPROVAL, seq: 1 }] });
  assert.deepEqual(third.sentOf('respond'), []);
  assert.deepEqual(pendingOf(c), [['r1', null]]);
  c.respond('r1', { decision: 'deny' });
  third.serverClose(1006);
  const fourth = await reconnect();
  fourth.ready({ sessionId: 'S1', resumed: true, lastSeq: 2 });
  assert.deepEqual(fourth.sentOf('respond'), []);
  assert.deepEqual(c.pendingRequests, []);
});

test('a viewer sees pending requests and refuses respond locally', async () => {
  const c = client({ view: 'S9' });
  const ws = await connected(c, { sessionId: 'S9', resumed: true, role: 'viewer' });
  request(ws, 1, 'r1');
  assert.deepEqual(pendingOf(c), [['r1', null]]);
  assert.throws(() => c.respond('r1', { decision: 'allow' }), { code: 'read_only' });
  ws.serverClose(1006);
  assert.throws(() => c.respond('r1', { decision: 'allow' }), { code: 'read_only' });
  assert.deepEqual(ws.sent, [], 'nothing went to the gateway');
});

test('requests and queued answers belong to their session: newSession and end drop them', async () => {
  const c = client();
  const ws = await connected(c);
  request(ws, 1, 'r1');
  ws.serverClose(1006);
  c.respond('r1', { decision: 'allow' });
  c.newSession();
  assert.deepEqual(c.pendingRequests, []);
  await flush();
  const fresh = FakeWebSocket.last;
  fresh.ready({ sessionId: 'S2' });
  assert.deepEqual(fresh.sentOf('respond'), [], 'an answer for the old session does not reach the new one');
  request(fresh, 1, 'q1');
  const ending = c.end();
  assert.throws(() => c.respond('q1', 'x'), { code: 'session_ended' });
  fresh.receive({ type: 'status', seq: 2, state: 'ended', reason: 'client_end' });
  await ending;
  assert.deepEqual(c.pendingRequests, []);
});

// --- batched delivery (protocol section 8.4) ---------------------------------------------------

test('options.batch asks for batched delivery on the first connect and on every resume', async () => {
  const c = client({ batch: 50 });
  const ws = await connected(c);
  assert.equal(ws.url, 'ws://gw.test/ws?batch=50');
  ws.event(1);
  ws.serverClose(1006);
  const again = await reconnect();
  assert.equal(again.url, 'ws://gw.test/ws?session=S1&last_seq=1&batch=50');
});

test('options.batch must be an integer from 1 to 1000', () => {
  for (const batch of [0, 1001, 2.5, -1, '50', NaN, null]) {
    assert.throws(() => client({ batch }), TypeError, String(batch));
  }
  assert.equal(client({ batch: 1 }).state, 'closed');
  assert.equal(client({ batch: 1000 }).state, 'closed');
});

/** What the gateway says in the test below, message by message. */
const SCRIPT = [
  { type: 'accepted', id: 'm-1', duplicate: false, queued: 0 },
  { type: 'status', seq: 1, state: 'processing' },
  { type: 'event', seq: 2, event: { type: 'delta', text: 'a' } },
  { type: 'event', seq: 2, event: { type: 'delta', text: 'a' } }, // a replayed duplicate
  { type: 'request', seq: 3, request_id: 'r-1', request: { kind: 'approval' } },
  { type: 'replay_gap', from: 4, to: 5 },
  { type: 'notice', seq: 6, code: 'output_truncated', message: 'cut' },
  { type: 'request_resolved', seq: 7, request_id: 'r-1', outcome: 'answered' },
  { type: 'event', seq: 9, event: { type: 'result', text: 'b' } }, // an unannounced jump
  { type: 'status', seq: 10, state: 'idle' },
];

/** A connected client fed SCRIPT in frames of `sizes` messages (1: one per frame); what it dispatched. */
async function fed(sizes, options = {}) {
  FakeWebSocket.reset();
  const c = client(options);
  const seen = record(c, 'event', 'status', 'notice', 'request', 'request_resolved', 'gap', 'accepted');
  const ws = await connected(c);
  c.send({ text: 'hi' }, 'm-1');
  let at = 0;
  for (const size of sizes) {
    const messages = SCRIPT.slice(at, at + size);
    at += size;
    ws.receive(size === 1 ? messages[0] : { type: 'batch', messages });
  }
  assert.equal(at, SCRIPT.length);
  return { seen, lastSeq: c.lastSeq, pending: c.pending, pendingRequests: c.pendingRequests };
}

test('a batch frame hands the application exactly the events of one message per frame', async () => {
  const single = await fed(SCRIPT.map(() => 1));
  assert.equal(single.seen.length, 10, JSON.stringify(single.seen));
  assert.deepEqual(await fed([SCRIPT.length], { batch: 20 }), single);
  assert.deepEqual(await fed([3, 1, 4, 2], { batch: 20 }), single);
});

test('a batch frame ignores what is not a message, and a batch inside a batch', async () => {
  const c = client({ batch: 5 });
  const seqs = [];
  c.addEventListener('event', (e) => seqs.push(e.detail.seq));
  const ws = await connected(c);
  ws.receive({ type: 'batch', messages: [null, 7, { type: 'batch', messages: [{ type: 'event', seq: 1, event: {} }] },
    { type: 'event', seq: 1, event: {} }] });
  ws.receive({ type: 'batch', messages: 'nonsense' });
  ws.receive({ type: 'batch' });
  assert.deepEqual(seqs, [1]);
});

// --- waiting for capacity (protocol section 8.1) -----------------------------------------------

test('wait: a new session asks wait=1, reports queued positions, then is ready; a resume does not wait', async () => {
  const c = client({ wait: true });
  const seen = record(c, 'queued', 'ready');
  c.connect();
  await flush();
  const ws = FakeWebSocket.last;
  assert.equal(ws.url, 'ws://gw.test/ws?wait=1');
  ws.open();
  ws.receive({ type: 'queued', position: 2, estimated_wait: null });
  ws.receive({ type: 'queued', position: 1, estimated_wait: 7 });
  ws.ready({ sessionId: 'S1' });
  assert.deepEqual(seen.slice(0, 2), [
    ['queued', { position: 2, estimatedWait: null }],
    ['queued', { position: 1, estimatedWait: 7 }],
  ]);
  assert.equal(seen[2][0], 'ready');
  ws.serverClose(1006);
  const again = await reconnect();
  assert.equal(again.url, 'ws://gw.test/ws?session=S1&last_seq=0');
});

test('wait: close 1013 after admission_timeout is not terminal: the client tries again later', async () => {
  const c = client({ wait: true });
  const seen = record(c, 'error', 'terminal');
  c.connect();
  await flush();
  const ws = FakeWebSocket.last;
  ws.open();
  ws.receive({ type: 'error', code: 'admission_timeout', message: 'later' });
  ws.serverClose(1013);
  assert.equal(seen.filter(([n]) => n === 'terminal').length, 0);
  const again = await reconnect();
  assert.equal(again.url, 'ws://gw.test/ws?wait=1');
});

// --- forks (protocol section 8.2) ------------------------------------------------------------

test('fork: a new client asks fork=<id>, learns forked_from and fork_seq, then resumes its own session', async () => {
  const parent = client();
  const parentWs = await connected(parent, { sessionId: 'S1' });
  const sentBefore = parentWs.sent.length;
  const forked = parent.fork();
  const seen = record(forked, 'ready');
  await flush();
  const ws = FakeWebSocket.last;
  assert.notEqual(ws, parentWs);
  assert.equal(ws.url, 'ws://gw.test/ws?fork=S1');
  ws.open();
  ws.receive({
    type: 'session_ready', session_id: 'F1', resumed: false, last_seq: 0, token_expires_at: 2000000000,
    state: 'idle', forked_from: 'S1', fork_seq: 17,
  });
  assert.equal(forked.sessionId, 'F1');
  assert.equal(forked.forkedFrom, 'S1');
  assert.equal(forked.forkSeq, 17);
  assert.equal(seen[0][1].forkedFrom, 'S1');
  assert.equal(seen[0][1].forkSeq, 17);
  assert.equal(parent.sessionId, 'S1', 'the parent keeps its session');
  assert.equal(parent.forkedFrom, null);
  assert.equal(parentWs.sent.length, sentBefore, 'the parent sent nothing for the fork');
  assert.equal(parent.state, 'open');
  ws.serverClose(1006);
  const again = await reconnect();
  assert.equal(again.url, 'ws://gw.test/ws?session=F1&last_seq=0', 'the fork is resumed, not forked again');
});

test('fork: null fork_seq when the parent had no checkpoint; its own storage key', async () => {
  const parent = client();
  await connected(parent, { sessionId: 'S1' });
  const forked = parent.fork();
  await flush();
  const ws = FakeWebSocket.last;
  ws.open();
  ws.receive({
    type: 'session_ready', session_id: 'F2', resumed: false, last_seq: 0, token_expires_at: 2000000000,
    state: 'idle', forked_from: 'S1', fork_seq: null,
  });
  assert.equal(forked.forkedFrom, 'S1');
  assert.equal(forked.forkSeq, null);
  assert.match(JSON.stringify(storage.getItem('tether.session')), /S1/, 'the parent stays stored');
});

test('fork: refused with 4004 the fork client is terminal and the parent goes on', async () => {
  const parent = client();
  const parentWs = await connected(parent, { sessionId: 'S1' });
  const forked = parent.fork();
  const seen = record(forked, 'terminal', 'error');
  await flush();
  const ws = FakeWebSocket.last;
  ws.open();
  ws.receive({ type: 'error', code: 'session_not_found', message: 'no such session' });
  ws.serverClose(4004);
  assert.equal(forked.state, 'closed');
  assert.deepEqual(seen.filter(([n]) => n === 'terminal').map(([, d]) => d.code), [4004]);
  forked.newSession();
  await flush();
  assert.equal(FakeWebSocket.last.url, 'ws://gw.test/ws', 'newSession() starts a plain session, no fork');
  assert.equal(parent.state, 'open');
  assert.equal(FakeWebSocket.all.filter((w) => w === parentWs).length, 1);
});

test('fork: not before the session is known, and never by a viewer', async () => {
  assert.throws(() => client().fork(), { code: 'no_session' });
  const viewer = client({ view: 'S9' });
  assert.throws(() => viewer.fork(), { code: 'read_only' });
});
