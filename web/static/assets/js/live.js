// live.js: the live connection (DESIGN §3). One WebSocket, one channel
// ("account:<id>"). It remembers the last offset so that after any reconnect it
// resubscribes with `since` and the server either replays exactly the missed
// updates or sends a fresh snapshot: the board never silently misses a change.

/** The three states the connection indicator shows. */
export const LIVE = 'live';
export const RECONNECTING = 'reconnecting';
export const OFFLINE = 'offline';

/** Close codes with a meaning (DESIGN §3). */
const CLOSE_AUTH = 4001; // bad or expired token: sign in again
const CLOSE_SLOW = 4008; // slow consumer: resume with since, promptly
const CLOSE_AWAY = 1001; // server going away: reconnect (elsewhere) with since
const CLOSE_CLIENT = 4000; // ours: the connection stopped answering

export class LiveClient {
  /**
   * @param {object} o
   * @param {string} o.token
   * @param {string} o.channel        e.g. "account:ACC1"
   * @param {object} o.on             handlers: state(state, detail), welcome(msg), snapshot(msg),
   *                                  update(msg), authFailed(message), error(msg), probe()
   * @param {number} [o.minDelay]     first reconnect delay (ms)
   * @param {number} [o.maxDelay]     reconnect delay cap (ms)
   * @param {number} [o.idleMs]       send a ping after this much silence
   * @param {number} [o.pongTimeout]  give up on a connection that stays silent this long after a ping
   * @param {string} [o.url]          the WebSocket URL; default /ws on this host
   */
  constructor({ token, channel, on = {}, minDelay = 500, maxDelay = 15000, idleMs = 30000, pongTimeout = 10000, url }) {
    this.token = token;
    this.channel = channel;
    this.on = on;
    this.minDelay = minDelay;
    this.maxDelay = maxDelay;
    this.idleMs = idleMs;
    this.pongTimeout = pongTimeout;
    this.url = url ?? defaultURL();

    this.state = OFFLINE;
    this.offset = null; // the last offset seen on the channel: resume point
    this.attempt = 0; // failed attempts since the last time the board was live
    this.ws = null;
    this.stopped = true;
    this.seq = 0;
    this.subId = null;
    this.lastSeen = 0;
    this.pingSentAt = 0;
    this.retryTimer = 0;
    this.retryAt = 0;
    this.heartbeat = 0;

    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => {
      this.setState(OFFLINE, 'Your computer is offline. The board reconnects when the network is back.');
      this.drop();
    };
    this.onVisible = () => {
      if (document.visibilityState === 'visible' && this.state !== LIVE) this.reconnectNow();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.heartbeat = setInterval(() => this.checkHeartbeat(), 5000);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    this.drop(1000, 'client closed');
    this.setState(OFFLINE, 'Disconnected.');
  }

  /** reconnectNow skips the backoff wait (the network came back, the tab became visible). */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.stopped || this.ws) return;
    if (navigator.onLine === false) {
      this.setState(OFFLINE, 'Your computer is offline. The board reconnects when the network is back.');
      return;
    }
    this.setState(RECONNECTING, this.attempt === 0 ? 'Connecting…' : `Reconnecting (attempt ${this.attempt + 1})…`);
    const url = new URL(this.url);
    url.searchParams.set('access_token', this.token);
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    this.subId = null;
    this.lastSeen = Date.now();
    this.pingSentAt = 0;
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      this.lastSeen = Date.now();
      this.pingSentAt = 0;
      if (typeof ev.data !== 'string') return;
      // One frame may carry several messages, one per line.
      for (const line of ev.data.split('\n')) {
        if (!line.trim()) continue;
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          console.warn('live: ignoring a message that is not JSON', line.slice(0, 200));
          continue;
        }
        this.handle(msg);
        if (this.ws !== ws) return; // a handler stopped or replaced the connection
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.closed(ev.code, ev.reason);
    };
    ws.onerror = () => { /* a close event follows with the code */ };
  }

  handle(msg) {
    switch (msg.type) {
      case 'welcome':
        this.on.welcome?.(msg);
        this.subscribe();
        break;
      case 'subscribed':
        if (msg.channel !== this.channel) break;
        // recovered: the missed updates follow; otherwise a snapshot follows.
        if (msg.recovered) this.live();
        break;
      case 'snapshot':
        if (msg.channel !== this.channel) break;
        if (msg.offset != null) this.offset = String(msg.offset);
        this.on.snapshot?.(msg);
        this.live();
        break;
      case 'update':
        if (msg.channel !== this.channel) break;
        if (msg.offset != null) this.offset = String(msg.offset);
        this.on.update?.(msg);
        break;
      case 'error':
        if (msg.id != null && msg.id === this.subId) {
          this.subscribeFailed(msg);
        } else {
          this.on.error?.(msg);
        }
        break;
      case 'pong':
      case 'unsubscribed':
        break;
      default:
        // Newer servers may add message types; ignoring them is forward compatible.
        break;
    }
  }

  subscribe() {
    this.subId = String(++this.seq);
    const cmd = { type: 'subscribe', id: this.subId, channel: this.channel };
    if (this.offset !== null) cmd.since = this.offset;
    this.send(cmd);
  }

  subscribeFailed(msg) {
    // Forbidden or NotFound will not get better by retrying; anything else might.
    if (msg.code === 'Forbidden' || msg.code === 'NotFound' || msg.code === 'BadRequest') {
      this.on.error?.({ ...msg, fatal: true });
      this.stop();
      this.setState(OFFLINE, msg.message || 'The server refused this board.');
      return;
    }
    if (this.offset !== null && /offset|since/i.test(msg.message ?? '')) this.offset = null;
    this.on.error?.(msg);
    this.drop(CLOSE_CLIENT, 'subscribe failed');
    this.retry();
  }

  live() {
    this.attempt = 0;
    this.setState(LIVE, 'Receiving live updates.');
  }

  send(obj) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  closed(code, reason) {
    if (this.stopped) return;
    if (code === CLOSE_AUTH) {
      this.stop();
      this.on.authFailed?.(reason || 'Your sign-in has expired or is no longer valid. Sign in again.');
      return;
    }
    // Everything else reconnects and resumes with since. A board that was live has
    // attempt 0, so a routine close (1001 going away, 4008 slow consumer) comes back
    // within half a second; repeated failures back off up to maxDelay.
    if (code === CLOSE_AWAY || code === CLOSE_SLOW) this.on.closedRoutine?.(code);
    this.retry();
  }

  retry() {
    if (this.stopped) return;
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempt);
    const delay = Math.round(base / 2 + Math.random() * (base / 2)); // "equal jitter"
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.setState(RECONNECTING, `Connection lost. Retrying in ${Math.ceil(delay / 1000)}s (attempt ${this.attempt}).`);
    // A browser cannot see why an upgrade failed; every few failures, ask REST
    // whether the token still works (a 401 there leads back to sign-in).
    if (this.attempt === 2 || this.attempt % 5 === 0) this.on.probe?.();
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** drop closes the socket without waiting for the close handshake. */
  drop(code = CLOSE_CLIENT, reason = '') {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  /** checkHeartbeat pings a quiet connection and replaces one that stopped answering. */
  checkHeartbeat() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const now = Date.now();
    if (this.pingSentAt && now - this.pingSentAt > this.pongTimeout) {
      this.drop(CLOSE_CLIENT, 'no answer to ping');
      this.retry();
      return;
    }
    if (!this.pingSentAt && now - this.lastSeen > this.idleMs) {
      this.pingSentAt = now;
      this.send({ type: 'ping', id: String(++this.seq) });
    }
  }

  setState(state, detail) {
    const changed = state !== this.state;
    this.state = state;
    this.on.state?.(state, detail, changed);
  }
}

function defaultURL() {
  const u = new URL('/ws', window.location.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.hash = '';
  u.search = '';
  return u.toString();
}
