// store.js: the board's state: every session of the account the board shows, with
// its version and the moment its call state began. Live updates, snapshots and
// REST responses all land here; a change older than what is held is ignored.

/** How long an ended session stays on the board (struck through) before it leaves. */
export const LINGER_MS = 4000;

const CALL_MOVE = /callState (\w+) -> (\w+)/g;

/**
 * stateStart finds when the session's current call state began: the newest log
 * entry that moved callState to it, else when the session was created.
 */
export function stateStart(session) {
  const log = Array.isArray(session.log) ? session.log : [];
  for (let i = log.length - 1; i >= 0; i--) {
    const e = log[i];
    for (const m of String(e?.message ?? '').matchAll(CALL_MOVE)) {
      if (m[2] === session.callState) {
        const t = Date.parse(e.date);
        if (!Number.isNaN(t)) return t;
      }
    }
  }
  for (const d of [session.dateCreated, session.dateLastModified]) {
    const t = Date.parse(d);
    if (!Number.isNaN(t)) return t;
  }
  return Date.now();
}

export class SessionStore {
  constructor({ lingerMs = LINGER_MS } = {}) {
    this.lingerMs = lingerMs;
    this.items = new Map(); // id -> {id, session, version, since, ended, endedAt}
    this.listeners = new Set();
    this.timers = new Map(); // id -> removal timer of an ended session
    this.loaded = false; // a snapshot has arrived
  }

  /** subscribe calls fn({type, id}) after every change; it returns an unsubscribe function. */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(ev) {
    for (const fn of this.listeners) fn(ev);
  }

  get(id) {
    return this.items.get(id);
  }

  /** all returns every held session, ended ones still lingering included. */
  all() {
    return [...this.items.values()];
  }

  /** applySnapshot replaces the view with the snapshot's sessions (DESIGN §3). */
  applySnapshot(entries) {
    const next = new Map();
    for (const { version, session } of entries ?? []) {
      if (!session?.id) continue;
      const old = this.items.get(session.id);
      const keepSince = old && old.session.callState === session.callState && old.version <= version;
      next.set(session.id, {
        id: session.id,
        session,
        version: Number(version) || 0,
        since: keepSince ? old.since : stateStart(session),
        ended: Boolean(session.ended),
        endedAt: session.ended ? Date.now() : 0,
      });
    }
    // A session the snapshot no longer lists ended while we were not looking: let
    // it leave visibly rather than vanish.
    for (const [id, old] of this.items) {
      if (next.has(id)) continue;
      next.set(id, { ...old, ended: true, endedAt: old.endedAt || Date.now() });
    }
    this.items = next;
    this.loaded = true;
    for (const e of next.values()) if (e.ended) this.linger(e.id);
    this.emit({ type: 'snapshot' });
  }

  /** applyUpdate applies a live update; it returns false when the update is not newer. */
  applyUpdate({ version, changed, session }) {
    return this.put(session, Number(version), Array.isArray(changed) ? changed : null);
  }

  /** applyRest applies a session a REST call returned, with the version from its ETag. */
  applyRest(session, version) {
    if (version == null) return false;
    return this.put(session, Number(version), null);
  }

  put(session, version, changed) {
    if (!session?.id || !Number.isFinite(version)) return false;
    const old = this.items.get(session.id);
    if (old && version <= old.version) return false;
    // The board shows active sessions: an ended one it does not hold has already
    // left (a wrap-up note after the call, say) and must not come back.
    if (!old && session.ended) return false;
    let since;
    if (!old) {
      since = stateStart(session);
    } else if (session.ended) {
      since = old.since; // the row leaves showing how long its last state lasted
    } else if (old.session.callState !== session.callState || changed?.includes('callState')) {
      const t = Date.parse(session.dateLastModified);
      since = Number.isNaN(t) ? Date.now() : t;
    } else {
      since = old.since;
    }
    const ended = Boolean(session.ended);
    this.items.set(session.id, {
      id: session.id,
      session,
      version,
      since,
      ended,
      endedAt: ended ? (old?.endedAt || Date.now()) : 0,
    });
    if (ended) this.linger(session.id);
    this.emit({ type: 'update', id: session.id });
    return true;
  }

  /** linger removes an ended session after a few seconds on the board. */
  linger(id) {
    if (this.timers.has(id)) return;
    this.timers.set(id, setTimeout(() => {
      this.timers.delete(id);
      const e = this.items.get(id);
      if (!e?.ended) return;
      this.items.delete(id);
      this.emit({ type: 'remove', id });
    }, this.lingerMs));
  }

  /** clear stops every timer; the store is not used afterwards. */
  clear() {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.items.clear();
    this.listeners.clear();
  }
}
