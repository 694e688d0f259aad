// The demo page: a chat view of one session with the demo worker, driven by the client library.
// Page parameters: ?sub=NAME (the user; else kept in sessionStorage, or a random one from /dev/token),
// ?ttl=DURATION (token lifetime asked of /dev/token, e.g. 20s), ?ws=URL (another gateway's WebSocket),
// ?view=SESSION[&node=NODE] (watch that session read-only, as a viewer: what the "viewer link" opens),
// ?fork=SESSION (a new session continuing from that one's checkpoint: what the "fork" button opens).
import { TetherClient } from '/client/tether-client.js';

const SUB_KEY = 'tether.demo.sub';
const GONE = new Set([4004, 4009, 4011]); // the session is over: start a new one
/** What "ask for approval" adds to a message as `ask`: the demo worker asks this before it replies. */
const ASK_APPROVAL = Object.freeze({ kind: 'approval', tool: 'Bash', input: { command: 'rm -rf build' } });

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const demo = { client: null, events: [], states: [], notices: [], gaps: [], refreshes: 0, connections: 0, ended: null };
window.tetherDemo = demo;

let subject = params.get('sub') || sessionStorage.getItem(SUB_KEY) || null;
const ttl = params.get('ttl');
const viewing = params.get('view'); // a session to watch read-only, or null
const forking = viewing ? null : params.get('fork'); // a session this page forks (protocol section 8.2), or null
let pastedToken = null;
let devTokens = true;

if (params.get('sub')) {
  sessionStorage.setItem(SUB_KEY, subject);
}

/** A token from /dev/token, or, when that is off, the one the user pastes. */
async function getToken() {
  if (devTokens) {
    const query = new URLSearchParams();
    if (subject) query.set('sub', subject);
    if (ttl) query.set('ttl', ttl);
    if (viewing) query.set('view', viewing); // a dev token whose view claim lists the watched session
    const response = await fetch('/dev/token?' + query, { cache: 'no-store' });
    if (response.ok) {
      const body = await response.json();
      subject = body.sub;
      sessionStorage.setItem(SUB_KEY, subject);
      $('subject').textContent = subject;
      return body.token;
    }
    if (response.status !== 404) {
      const body = await response.json().catch(() => ({}));
      addNotice('token_error', `/dev/token answered ${response.status}: ${body.message ?? ''}`);
      throw new Error('dev token refused: ' + response.status);
    }
    devTokens = false;
  }
  return pastedToken ?? askForToken();
}

function askForToken() {
  $('token-panel').hidden = false;
  return new Promise((resolve) => {
    const use = () => {
      const token = $('token-input').value.trim();
      if (!token) return;
      pastedToken = token;
      $('subject').textContent = subjectOf(token) ?? '?';
      $('token-panel').hidden = true;
      $('token-use').removeEventListener('click', use);
      resolve(token);
    };
    $('token-use').addEventListener('click', use);
  });
}

/** The token's `sub` claim, for display only (the gateway verifies the token, not this page). */
function subjectOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '='))).sub ?? null;
  } catch {
    return null;
  }
}

function wsUrl() {
  if (params.get('ws')) return params.get('ws');
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
}

// --- rendering ---------------------------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function scrollDown() {
  const transcript = $('transcript');
  transcript.scrollTop = transcript.scrollHeight;
}

function turnFor(id, userText) {
  let turn = document.querySelector(`.turn[data-id="${CSS.escape(id)}"]`);
  if (!turn) {
    turn = el('article', 'turn');
    turn.dataset.id = id;
    turn.append(el('div', 'user', userText ?? '(sent before this page was loaded)'));
    const reply = el('div', 'reply');
    turn.append(reply);
    turn.append(el('ol', 'lines'));
    $('transcript').append(turn);
  }
  return turn;
}

function addLine(turn, seq, text) {
  const line = el('li', 'line');
  line.append(el('span', 'seq', '#' + seq), el('span', 'what', text));
  turn.querySelector('.lines').append(line);
}

/**
 * Shows the session's state on the worker badge: a sleeping session (protocol 8.9) is 'asleep', and
 * 'waking' while its next message brings a worker back; data-state keeps the state's wire name.
 */
function showWorkerState(state, reason) {
  const badge = $('worker-state');
  badge.textContent = state === 'hibernated' ? 'asleep' : state === 'preparing' && reason === 'wake' ? 'waking' : state;
  badge.dataset.state = state;
  badge.className = 'badge worker worker-' + state;
  badge.title = state === 'hibernated' ? 'no worker while idle: your next message wakes the session' : '';
}

function addInfo(text) {
  $('transcript').append(el('div', 'info', text));
  scrollDown();
}

function addNotice(code, text, seq) {
  const latest = $('notices').firstElementChild;
  if (seq === undefined && latest && latest.dataset.code === String(code)
      && latest.querySelector('.text').textContent === text) {
    // The same thing again (a failing fetch while the gateway restarts): count it, do not repeat it.
    const times = Number(latest.dataset.times ?? '1') + 1;
    latest.dataset.times = String(times);
    latest.querySelector('.times').textContent = '\u00d7' + times;
    return;
  }
  const notice = el('div', 'notice');
  notice.dataset.code = String(code);
  if (seq !== undefined) notice.append(el('span', 'seq', '#' + seq));
  notice.append(el('span', 'code', String(code)), el('span', 'times'), el('span', 'time', new Date().toLocaleTimeString()),
    el('span', 'text', text));
  $('notices').prepend(notice);
}

function showState(state) {
  const badge = $('conn-state');
  badge.textContent = state;
  badge.className = 'badge state-' + state;
  document.body.dataset.state = state;
}

function short(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

// --- requests to the user (protocol section 7.3) ------------------------------------------------------

/** The card of a pending request: its JSON, and (for the owner) the controls that answer it. */
function requestCard({ requestId, request }) {
  const card = el('div', 'request');
  card.dataset.requestId = requestId;
  const head = el('div', 'request-head');
  head.append(el('span', 'request-id', requestId), el('span', 'request-state'));
  card.append(head, el('pre', 'request-json', JSON.stringify(request, null, 2)));
  if (viewing) {
    return card; // a viewer sees what is asked; only the owner answers
  }
  const actions = el('div', 'request-actions');
  if (request && request.kind === 'approval') {
    const approve = el('button', 'approve', 'Approve');
    const deny = el('button', 'deny', 'Deny');
    approve.type = deny.type = 'button';
    approve.addEventListener('click', () => answer(requestId, { decision: 'allow' }));
    deny.addEventListener('click', () => answer(requestId, { decision: 'deny' }));
    actions.append(approve, deny);
  } else {
    const text = el('input', 'answer-text');
    text.type = 'text';
    text.placeholder = 'your answer';
    const reply = el('button', 'answer-send', 'Answer');
    reply.type = 'button';
    const submit = () => answer(requestId, { text: text.value });
    reply.addEventListener('click', submit);
    text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        submit();
      }
    });
    actions.append(text, reply);
  }
  card.append(actions);
  return card;
}

function answer(requestId, data) {
  const how = client.respond(requestId, data);
  addInfo(`Answered request ${requestId} with ${JSON.stringify(data)}` + (how === 'queued' ? ': it goes out once reconnected.' : '.'));
  renderRequests();
}

/** Shows client.pendingRequests: a card per request, kept (with what is typed in it) while it waits. */
function renderRequests() {
  const pending = client.pendingRequests;
  const list = $('requests');
  const ids = new Set(pending.map((r) => r.requestId));
  for (const card of [...list.children]) {
    if (!ids.has(card.dataset.requestId)) card.remove();
  }
  for (const request of pending) {
    let card = list.querySelector(`.request[data-request-id="${CSS.escape(request.requestId)}"]`);
    if (!card) {
      card = requestCard(request);
      list.append(card);
    }
    card.dataset.answer = request.answer ?? '';
    for (const control of card.querySelectorAll('button, input')) control.disabled = request.answer !== null;
    card.querySelector('.request-state').textContent = request.answer === 'queued' ? 'answer queued: it goes out once reconnected'
      : request.answer === 'sent' ? 'answer sent' : viewing ? "waiting for the owner's answer" : '';
  }
  $('requests-title').textContent = viewing ? 'The worker asks the owner' : 'The worker asks';
  $('requests-panel').hidden = pending.length === 0;
}

// --- the client ----------------------------------------------------------------------------------

const client = new TetherClient({
  url: wsUrl(), getToken, ...(viewing ? { view: viewing, node: params.get('node') ?? undefined } : { wait: true }),
  // A fork keeps its session under a key of its own: a reload of this page resumes the fork, and the
  // tab it was opened from (whose storage a new tab may start with a copy of) keeps its own session.
  ...(forking ? { fork: forking, storageKey: 'tether.session.fork.' + forking } : {}),
});
if (viewing) {
  // Read only: nothing on this page can write to the session.
  document.body.dataset.role = 'viewer';
  for (const id of ['composer', 'end-session', 'new-session', 'drop', 'fork']) $(id).hidden = true;
}
demo.client = client;
$('subject').textContent = subject ?? '-';

client.addEventListener('state', (e) => {
  demo.states.push(e.detail.state);
  showState(e.detail.state);
  renderRequests(); // a forgotten session (new, ended, gone) takes its requests with it
  if (e.detail.state === 'reconnecting') {
    $('conn-state').title = `attempt ${e.detail.attempt}, in ${e.detail.delayMs} ms`;
    if (e.detail.attempt === 1) addInfo('Connection lost: reconnecting...');
  }
});

client.addEventListener('connected', () => {
  demo.connections++;
});

/** A URL that opens this page on a fork of the current session (protocol section 8.2). */
function forkLink(sessionId) {
  const link = new URL(location.pathname, location.href);
  link.searchParams.set('fork', sessionId);
  if (subject) link.searchParams.set('sub', subject); // only the owner may fork: the same user there
  if (params.get('ws')) link.searchParams.set('ws', params.get('ws'));
  return link.href;
}

/** A URL that opens this page as a viewer of the current session (protocol section 7.4). */
function viewerLink(sessionId) {
  const link = new URL(location.pathname, location.href);
  link.searchParams.set('view', sessionId);
  if (client.node) link.searchParams.set('node', client.node);
  if (params.get('ws')) link.searchParams.set('ws', params.get('ws'));
  return link.href;
}

client.addEventListener('ready', (e) => {
  $('queue-fact').hidden = true; // out of the line, if it waited in one
  const { sessionId, resumed, lastSeq, state, role } = e.detail;
  $('session-id').textContent = sessionId;
  $('role').textContent = role;
  if (role === 'owner') {
    $('viewer-link').href = viewerLink(sessionId);
    $('viewer-link').hidden = false;
  }
  showWorkerState(state, null);
  $('last-seq').textContent = String(client.lastSeq);
  if (resumed && $('transcript').childElementCount === 0 && client.lastSeq > 0) {
    addInfo(`Resumed session ${sessionId} after seq ${client.lastSeq}: what came before is not replayed ` +
      '(it was processed and acknowledged already, and this page keeps no transcript of its own).');
  } else if (resumed) {
    addInfo(`Resumed session ${sessionId} after seq ${client.lastSeq}.`);
  } else if (e.detail.forkedFrom) {
    const at = e.detail.forkSeq === null ? 'it had no checkpoint, so this one starts fresh'
      : `its worker continues from the checkpoint taken at seq ${e.detail.forkSeq}`;
    addInfo(`New session ${sessionId}, forked from session ${e.detail.forkedFrom}: ${at}.`);
    $('fork-origin').textContent = e.detail.forkedFrom;
    $('fork-fact').hidden = false;
  } else {
    addInfo(`New session ${sessionId}.`);
  }
  renderRequests(); // rebuilt from session_ready: still pending, evicted from the replay or not
  queueMicrotask(renderRequests); // answers given while away go out right after this listener
});

client.addEventListener('request', (e) => {
  const { seq, requestId, request, pending } = e.detail;
  demo.events.push({ seq, type: 'request', event: { request_id: requestId, request } });
  $('last-seq').textContent = String(seq);
  addInfo(`#${seq} the worker asks (request ${requestId})${pending ? '' : ', since resolved'}`);
  renderRequests();
});

client.addEventListener('request_resolved', (e) => {
  const { seq, requestId, outcome } = e.detail;
  demo.events.push({ seq, type: 'request_resolved', event: { request_id: requestId, outcome } });
  $('last-seq').textContent = String(seq);
  addInfo(`#${seq} request ${requestId} ${outcome}`);
  renderRequests();
});

/**
 * The turn an event without a message id belongs to: the oldest one not yet done. Agent CLIs
 * (claude-stream-json, codex-app-server) do not echo the message id; one turn runs at a time.
 */
function openTurn() {
  const turn = document.querySelector('#transcript .turn:not([data-done="true"])');
  return turn ? turn.dataset.id : null;
}

/** Assistant text an agent CLI's event carries (a Claude assistant message's text blocks). */
function assistantText(event) {
  const content = event.type === 'assistant' && event.message && event.message.content;
  return Array.isArray(content) ? content.filter((b) => b && b.type === 'text').map((b) => b.text).join('') : '';
}

client.addEventListener('event', (e) => {
  const { seq, event } = e.detail;
  demo.events.push({ seq, type: 'event', event });
  $('last-seq').textContent = String(seq);
  const id = event && typeof event.id === 'string' ? event.id : openTurn();
  if (!id) {
    addInfo(`#${seq} ${short(event)}`);
    return;
  }
  const turn = turnFor(id);
  const reply = turn.querySelector('.reply');
  const done = event.type === 'result' || event.method === 'turn/completed'; // the demo worker and Claude; Codex
  if (event.type === 'delta') {
    reply.textContent += event.text ?? '';
    addLine(turn, seq, 'delta ' + short(event.text ?? ''));
  } else if (done) {
    if (typeof event.text === 'string') reply.textContent = event.text;
    else if (typeof event.result === 'string') reply.textContent = event.result;
    if (event.interrupted) turn.dataset.interrupted = 'true';
    turn.dataset.done = 'true';
    addLine(turn, seq, 'result' + (event.interrupted ? ' (interrupted)' : ''));
  } else {
    reply.textContent += assistantText(event);
    addLine(turn, seq, short(event));
  }
  scrollDown();
});

client.addEventListener('status', (e) => {
  const { seq, state, reason } = e.detail;
  demo.events.push({ seq, type: 'status', event: { state, reason } });
  $('last-seq').textContent = String(seq);
  showWorkerState(state, reason);
  if (state === 'ended' || state === 'restarting') {
    addInfo(`#${seq} session ${state}${reason ? ' (' + reason + ')' : ''}`);
  } else if (state === 'hibernated') {
    addInfo(`#${seq} session asleep: its worker was stopped while idle; your next message wakes it`);
  } else if (state === 'preparing' && reason === 'wake') {
    addInfo(`#${seq} session waking: a worker resumes it from its checkpoint`);
  }
});

client.addEventListener('notice', (e) => {
  const { seq, code, message, details } = e.detail;
  demo.events.push({ seq, type: 'notice', event: { code, message, details } });
  demo.notices.push(e.detail);
  $('last-seq').textContent = String(seq);
  addNotice(code, message, seq);
  if (code === 'duration_warning' && client.role === 'owner') offerMoreTime($('notices').firstElementChild);
  const turnId = details && details.turn_id;
  if (turnId) {
    const turn = turnFor(turnId);
    turn.dataset.lost = 'true';
    addLine(turn, seq, 'notice ' + code);
  }
});

/** The session nears its end (notice duration_warning): a "more time" button asks for an extension. */
function offerMoreTime(notice) {
  const more = el('button', 'more-time', 'more time');
  more.type = 'button';
  more.title = 'Ask the gateway to extend the session (it answers duration_extended, or extension_refused)';
  more.addEventListener('click', () => {
    if (client.extend()) more.disabled = true;
  });
  notice.append(more);
}

client.addEventListener('gap', (e) => {
  demo.gaps.push(e.detail);
  addNotice('replay_gap', `seqs ${e.detail.from} to ${e.detail.to} were evicted before this page could resume: they are lost`);
});

client.addEventListener('accepted', (e) => {
  const turn = document.querySelector(`.turn[data-id="${CSS.escape(e.detail.id)}"]`);
  if (turn) {
    turn.dataset.accepted = 'true';
    if (e.detail.queued > 0) turn.dataset.queued = String(e.detail.queued);
  }
});

client.addEventListener('error', (e) => {
  const { code, message, id, requestId } = e.detail;
  addNotice(code, message + (id ? ` (message ${id})` : ''));
  if (requestId) renderRequests(); // a refused answer: its card can be answered again
  if (id && e.detail.willRetry === false) {
    const turn = document.querySelector(`.turn[data-id="${CSS.escape(id)}"]`);
    if (turn) turn.dataset.failed = code;
  }
});

client.addEventListener('refreshing', () => {
  demo.refreshes++;
});

client.addEventListener('refreshed', (e) => {
  $('conn-state').title = 'token valid until ' + new Date(e.detail.expiresAt * 1000).toLocaleTimeString();
});

client.addEventListener('queued', (e) => {
  // The gateway is full: this page waits in line (wait=1) until a session frees up.
  const { position, estimatedWait } = e.detail;
  demo.queued = e.detail;
  $('queue-fact').hidden = false;
  $('queue-position').textContent = String(position)
    + (estimatedWait === null ? '' : ` (about ${estimatedWait} s)`);
});

client.addEventListener('shutting_down', (e) => {
  addNotice('shutting_down', `the gateway is restarting; reconnecting in about ${e.detail.retryAfter ?? '?'} s`);
});

client.addEventListener('ended', (e) => {
  demo.ended = e.detail;
  showEnded(e.detail);
});

client.addEventListener('terminal', (e) => {
  const { code, reason } = e.detail;
  if (viewing) {
    addNotice(code, `${reason}: no longer watching`);
  } else if (GONE.has(code)) {
    addNotice(code, `${reason}: starting a new session`);
    $('transcript').replaceChildren();
    client.newSession();
  } else if (code === 4001) {
    addNotice(code, `${reason}. Reload the page to take it back, or start a new session.`);
  } else {
    addNotice(code, `${reason}: not reconnecting`);
  }
});

// --- controls --------------------------------------------------------------------------------------

/** Controls that act on the session: off from "end session" until a new session starts. */
const SESSION_CONTROLS = ['prompt', 'ask-approval', 'send', 'interrupt', 'drop', 'end-session', 'fork'];

function setSessionControls(enabled) {
  for (const id of SESSION_CONTROLS) $(id).disabled = !enabled;
}

function showEnded({ sessionId, reason, dropped }) {
  setSessionControls(false);
  document.body.dataset.session = 'ended';
  $('worker-state').textContent = 'ended';
  $('worker-state').className = 'badge worker worker-ended';
  for (const turn of document.querySelectorAll('#transcript .turn:not([data-done="true"])')) {
    turn.dataset.ended = 'true'; // its reply will not come
  }
  const panel = $('ended-panel');
  panel.dataset.reason = reason ?? '';
  const unsent = dropped.length > 0 ? ` ${dropped.length} unanswered message(s) were dropped.` : '';
  $('ended-text').textContent = sessionId
    ? `Session ${sessionId} ended (${reason ?? 'reason unknown'}): the gateway stops its worker now, and this tab `
      + `no longer stores it, so a reload starts a new session.${unsent}`
    : 'There was no session to end.';
  panel.hidden = false;
}

function startNewSession() {
  $('ended-panel').hidden = true;
  delete document.body.dataset.session;
  setSessionControls(true);
  $('transcript').replaceChildren();
  client.newSession();
}

function endSession() {
  setSessionControls(false);
  addInfo('Ending the session...');
  client.end().catch((error) => {
    // The session may still be running (another tab took it, or it was closed first).
    addNotice(error.closeCode ?? error.code, error.message);
    setSessionControls(true);
  });
}

/**
 * A JSON object is sent as is (demo-worker commands); anything else as {"text": ...}. With "ask for
 * approval" ticked, an `ask` (unless the object has one) makes the demo worker ask before it replies.
 */
function messageData(prompt) {
  let data = { text: prompt };
  try {
    const parsed = JSON.parse(prompt);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed;
  } catch {
    // plain text
  }
  if ($('ask-approval').checked && !Object.hasOwn(data, 'ask')) data.ask = ASK_APPROVAL;
  return data;
}

function send() {
  const prompt = $('prompt').value;
  if (prompt.trim() === '') return;
  const id = client.send(messageData(prompt));
  turnFor(id, prompt);
  $('prompt').value = '';
  scrollDown();
}

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  send();
});
$('prompt').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});
$('interrupt').addEventListener('click', () => client.interrupt());
$('drop').addEventListener('click', () => client.dropConnection());
$('reload').addEventListener('click', () => location.reload());
$('new-session').addEventListener('click', startNewSession);
// A fork opens in a tab of its own: both sessions go on, each in its page.
$('fork').addEventListener('click', () => window.open(forkLink(client.sessionId), '_blank'));
$('start-new').addEventListener('click', startNewSession);
$('end-session').addEventListener('click', endSession);

client.connect();
