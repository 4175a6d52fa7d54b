// board.js: the live board: summary tiles, the toolbar (search, filters, sort) and
// one row per active session. Rows are keyed by session id and rebuilt only when
// their version changes; a one-second tick moves the "time in state" clocks.

import {
  h, fill, icon, badge, fmtDuration, fmtAgo, fmtClock, initials, hueClass,
  CALL_STATES, QUEUE_STATES, CHANNELS,
} from './dom.js';

/** Tiles: counts of active sessions; each filters the board when pressed. */
const TILES = [
  { key: 'active', label: 'Active' },
  { key: 'Ringing', label: 'Ringing', call: 'Ringing', longest: true },
  { key: 'Connected', label: 'Connected', call: 'Connected', longest: true },
  { key: 'Hold', label: 'On hold', call: 'Hold', longest: true },
  { key: 'Passive', label: 'Passive', call: 'Passive' },
  { key: 'Queued', label: 'Queued', queue: 'Queued' },
];

/** Seconds in a state after which a row's clock turns amber, then red. */
const SLA = { Ringing: [20, 45], Hold: [60, 180] };

const SORTS = {
  state: (a, b) => a.since - b.since, // longest in state first
  created: (a, b) => cmpDate(b.session.dateCreated, a.session.dateCreated),
  'created-asc': (a, b) => cmpDate(a.session.dateCreated, b.session.dateCreated),
  modified: (a, b) => cmpDate(b.session.dateLastModified, a.session.dateLastModified),
};

function cmpDate(x, y) {
  return (Date.parse(x) || 0) - (Date.parse(y) || 0);
}

export const DEFAULT_FILTERS = { q: '', call: '', queue: '', channel: '', sort: 'state' };

export class Board {
  /**
   * @param {object} o
   * @param {HTMLElement} o.root      the board view (holds #summary, #session-list, …)
   * @param {import('./store.js').SessionStore} o.store
   * @param {string} o.account
   * @param {object} o.filters        initial filters (see DEFAULT_FILTERS)
   * @param {(id: string) => void} o.onOpen
   * @param {(filters: object) => void} o.onFilters  called when the person changes a filter
   * @param {(counts: object) => void} [o.onCounts]  called with the tiles' counts whenever they are drawn
   */
  constructor({ root, store, account, filters, onOpen, onFilters, onCounts }) {
    this.root = root;
    this.store = store;
    this.account = account;
    this.filters = { ...DEFAULT_FILTERS, ...filters };
    if (!SORTS[this.filters.sort]) this.filters.sort = 'state';
    this.onOpen = onOpen;
    this.onFilters = onFilters;
    this.onCounts = onCounts;
    this.rows = new Map(); // id -> {el, version, ended, since, timer, created}
    this.lastLive = new Map(); // id -> the session's last entry before it ended: where an ended row sorts
    this.focusId = null;
    this.selectedId = null;
    this.scheduled = false;
    this.cleanup = [];

    this.list = root.querySelector('#session-list');
    this.empty = root.querySelector('#empty');
    this.summary = root.querySelector('#summary');
    this.resultCount = root.querySelector('#result-count');
    this.search = root.querySelector('#search');
    this.selects = {
      call: root.querySelector('#filter-call'),
      queue: root.querySelector('#filter-queue'),
      channel: root.querySelector('#filter-channel'),
      sort: root.querySelector('#sort'),
    };
    this.list.replaceChildren();
    this.buildTiles();
    this.buildToolbar();
    this.listen(this.list, 'keydown', (ev) => this.onListKey(ev));
    this.listen(this.list, 'click', (ev) => {
      const row = ev.target.closest?.('[data-session-id]');
      if (row) this.open(row.dataset.sessionId);
    });
    this.listen(this.list, 'focusin', (ev) => {
      const row = ev.target.closest?.('[data-session-id]');
      if (row) this.setFocusId(row.dataset.sessionId);
    });
    this.cleanup.push(store.subscribe(() => this.schedule()));
    this.render();
  }

  listen(el, type, fn) {
    el.addEventListener(type, fn);
    this.cleanup.push(() => el.removeEventListener(type, fn));
  }

  destroy() {
    for (const fn of this.cleanup) fn();
    this.cleanup = [];
    this.list.replaceChildren();
    this.summary.replaceChildren();
  }

  buildTiles() {
    this.tiles = new Map();
    this.summary.replaceChildren(...TILES.map((t) => {
      const count = h('span', { class: 'tile-count', 'data-testid': `count-${t.key}` }, '0');
      const sub = h('span', { class: 'tile-sub' });
      const el = h('button', {
        type: 'button',
        class: `tile tile-${t.key.toLowerCase()}`,
        'data-testid': `summary-${t.key}`,
        'aria-pressed': 'false',
        title: t.key === 'active' ? 'Show every session' : `Show only ${t.label.toLowerCase()} sessions`,
        onclick: () => this.toggleTile(t),
      }, h('span', { class: 'tile-label' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), t.label), count, sub);
      this.tiles.set(t.key, { def: t, el, count, sub });
      return el;
    }));
  }

  toggleTile(t) {
    const f = this.filters;
    if (t.key === 'active') {
      this.setFilters({ call: '', queue: '' });
    } else if (t.call) {
      this.setFilters({ call: f.call === t.call ? '' : t.call });
    } else if (t.queue) {
      this.setFilters({ queue: f.queue === t.queue ? '' : t.queue });
    }
  }

  buildToolbar() {
    const options = (sel, all, values) => {
      sel.replaceChildren(h('option', { value: '' }, all), ...values.map((v) => h('option', { value: v }, v)));
    };
    options(this.selects.call, 'All call states', CALL_STATES.filter((s) => s !== 'Disconnected'));
    options(this.selects.queue, 'All queue states', QUEUE_STATES);
    options(this.selects.channel, 'All channels', CHANNELS);
    this.syncToolbar();
    for (const [key, sel] of Object.entries(this.selects)) {
      this.listen(sel, 'change', () => this.setFilters({ [key]: sel.value }));
    }
    this.listen(this.search, 'input', () => this.setFilters({ q: this.search.value }));
    this.listen(this.search, 'keydown', (ev) => {
      if (ev.key === 'Escape' && this.search.value) {
        ev.stopPropagation();
        this.setFilters({ q: '' });
      } else if (ev.key === 'ArrowDown' || ev.key === 'Enter') {
        ev.preventDefault();
        this.focusRow(0);
      }
    });
  }

  syncToolbar() {
    if (this.search.value !== this.filters.q) this.search.value = this.filters.q;
    for (const [key, sel] of Object.entries(this.selects)) sel.value = this.filters[key];
    for (const { def, el } of this.tiles.values()) {
      const on = def.key === 'active'
        ? !this.filters.call && !this.filters.queue
        : (def.call && this.filters.call === def.call) || (def.queue && this.filters.queue === def.queue);
      el.setAttribute('aria-pressed', String(Boolean(on)));
    }
  }

  setFilters(patch) {
    this.filters = { ...this.filters, ...patch };
    this.syncToolbar();
    this.onFilters?.(this.filters);
    this.render();
  }

  clearFilters() {
    this.setFilters({ q: '', call: '', queue: '', channel: '' });
  }

  /** schedule renders once per frame however many updates arrive (or within 200 ms in a background tab). */
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      if (!this.scheduled) return;
      this.scheduled = false;
      this.render();
    };
    requestAnimationFrame(run);
    setTimeout(run, 200);
  }

  matches(e) {
    const s = e.session;
    const f = this.filters;
    if (!e.ended) {
      if (f.call && s.callState !== f.call) return false;
      if (f.queue && s.queueState !== f.queue) return false;
    } else if ((f.call || f.queue) && !this.rows.has(e.id)) {
      return false; // an ended row leaves where it was shown, but does not appear elsewhere
    }
    if (f.channel && s.channel !== f.channel) return false;
    if (f.q) {
      const hay = [
        s.fromName, s.fromAddress, s.toAddress, s.customerName, s.answeredByName, s.displayName,
        s.destination, s.endpointName, s.id, s.callSid, s.fromPhoneNumber,
        ...(s.members ?? []).flatMap((m) => [m.displayName, m.identity]),
      ].filter(Boolean).join('\n').toLowerCase();
      for (const word of f.q.toLowerCase().split(/\s+/).filter(Boolean)) {
        if (!hay.includes(word)) return false;
      }
    }
    return true;
  }

  render() {
    this.scheduled = false;
    const now = Date.now();
    const all = this.store.all();
    this.renderTiles(all, now);

    // A session that ends keeps the place it had: it is sorted as it was while
    // live (under "Recently changed" the end itself would otherwise lift it to
    // the top), stays there struck through, and fades out from there.
    for (const e of all) if (!e.ended) this.lastLive.set(e.id, e);
    for (const id of this.lastLive.keys()) if (!this.store.get(id)) this.lastLive.delete(id);
    const sortKey = (e) => (e.ended && this.lastLive.get(e.id)) || e;
    const cmp = SORTS[this.filters.sort];
    const visible = all.filter((e) => this.matches(e)).sort((a, b) => cmp(sortKey(a), sortKey(b)));
    const keep = new Set(visible.map((e) => e.id));
    const active = document.activeElement;
    const hadFocus = active instanceof HTMLElement && this.list.contains(active);

    // Leave: rows whose session is gone from the store slide out; filtered rows just go.
    for (const [id, row] of this.rows) {
      if (keep.has(id)) continue;
      this.rows.delete(id);
      if (this.store.get(id)) {
        row.el.remove();
      } else {
        row.el.classList.add('row-exit');
        row.el.removeAttribute('tabindex');
        setTimeout(() => row.el.remove(), 350);
      }
    }
    // Enter and update.
    for (const e of visible) {
      let row = this.rows.get(e.id);
      if (!row) {
        row = { el: h('div', { role: 'listitem', 'data-testid': 'session-row', 'data-session-id': e.id }) };
        row.el.classList.add('row', 'row-enter');
        setTimeout(() => row.el.classList.remove('row-enter'), 600);
        this.rows.set(e.id, row);
      }
      if (row.version !== e.version || row.ended !== e.ended || row.since !== e.since) {
        if (row.version !== undefined && row.version !== e.version) flash(row.el);
        this.fillRow(row, e, now);
      }
    }
    // Order: move only the rows that are out of place (exiting rows stay put).
    let ref = this.list.firstElementChild;
    for (const e of visible) {
      const el = this.rows.get(e.id).el;
      while (ref && ref !== el && ref.classList.contains('row-exit')) ref = ref.nextElementSibling;
      if (ref === el) {
        ref = ref.nextElementSibling;
      } else {
        this.list.insertBefore(el, ref);
      }
    }
    if (hadFocus && active.isConnected && document.activeElement !== active) active.focus({ preventScroll: true });

    // Roving tabindex: exactly one row is in the tab order.
    if (!this.focusId || !this.rows.has(this.focusId)) this.focusId = visible[0]?.id ?? null;
    for (const [id, row] of this.rows) {
      row.el.tabIndex = id === this.focusId ? 0 : -1;
      if (id === this.selectedId) row.el.setAttribute('aria-current', 'true');
      else row.el.removeAttribute('aria-current');
    }
    this.renderEmpty(all, visible);
  }

  fillRow(row, e, now) {
    const s = e.session;
    const from = s.fromName || s.fromAddress || s.displayName || 'Unknown caller';
    const to = s.toAddress || s.destination || s.endpointName || '';
    row.version = e.version;
    row.ended = e.ended;
    row.since = e.since;
    const el = row.el;
    el.dataset.callState = s.callState;
    el.dataset.version = String(e.version);
    el.classList.toggle('row-ended', e.ended);
    if (e.ended) el.dataset.ended = 'true';
    else delete el.dataset.ended;
    el.setAttribute('aria-label',
      `${s.direction === 'Outgoing' ? 'Outgoing' : 'Incoming'} ${s.channel} ${e.ended ? 'ended' : s.callState}: ${from}${to ? ` to ${to}` : ''}`);

    row.timer = h('span', { class: 'timer', 'data-testid': 'time-in-state' });
    row.created = h('span', { class: 'muted', title: s.dateCreated ? `Started ${fmtClock(s.dateCreated)}` : '' });
    const chanIcon = { Voice: 'phone', Chat: 'chat', Fax: 'fax' }[s.channel] ?? 'phone';
    fill(el,
      h('div', { class: 'c-kind', title: `${s.direction} ${s.channel}` },
        h('span', { class: `kind kind-${String(s.channel).toLowerCase()}` }, icon(chanIcon)),
        h('span', { class: `dir dir-${String(s.direction).toLowerCase()}` }, icon(s.direction === 'Outgoing' ? 'outgoing' : 'incoming')),
        h('span', { class: 'sr-only' }, `${s.direction} ${s.channel}`)),
      h('div', { class: 'c-parties' },
        h('div', { class: 'from', 'data-testid': 'row-from' }, from),
        h('div', { class: 'addr muted' },
          s.fromName && s.fromAddress ? h('span', { class: 'mono' }, s.fromAddress) : null,
          to ? h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→') : null,
          to ? h('span', { class: 'mono' }, to) : null),
        s.customerName ? h('div', { class: 'customer' }, s.customerName) : null),
      h('div', { class: 'c-state' },
        e.ended ? badge('call', 'Disconnected') : badge('call', s.callState),
        s.queueState && s.queueState !== 'None' ? badge('queue', s.queueState) : null,
        s.callState === 'Hold' && s.holdReason === 'Transferring' ? badge('hold', 'Transferring') : null),
      h('div', { class: 'c-time' }, row.timer),
      h('div', { class: 'c-agent' }, s.answeredByName
        ? h('span', { class: 'agent' }, h('span', { class: `avatar avatar-xs ${hueClass(s.answeredByName)}`, 'aria-hidden': 'true' }, initials(s.answeredByName)), s.answeredByName)
        : h('span', { class: 'muted' }, '—')),
      h('div', { class: 'c-members' }, memberStack(s.members ?? [])),
      h('div', { class: 'c-created' }, row.created),
    );
    this.tickRow(row, e, now);
  }

  /** tick moves every clock on the board; the app calls it once a second. */
  tick() {
    const now = Date.now();
    for (const [id, row] of this.rows) {
      const e = this.store.get(id);
      if (e) this.tickRow(row, e, now);
    }
    this.renderTiles(this.store.all(), now);
  }

  tickRow(row, e, now) {
    const s = e.session;
    if (e.ended) {
      row.timer.textContent = 'ended';
      row.timer.className = 'timer timer-ended';
    } else {
      const secs = (now - e.since) / 1000;
      row.timer.textContent = fmtDuration(now - e.since);
      const [warn, crit] = SLA[s.callState] ?? [Infinity, Infinity];
      row.timer.className = `timer${secs >= crit ? ' timer-crit' : secs >= warn ? ' timer-warn' : ''}`;
      row.timer.title = `${s.callState} since ${fmtClock(new Date(e.since))}`;
    }
    const created = Date.parse(s.dateCreated);
    row.created.textContent = Number.isNaN(created) ? '—' : fmtAgo(now - created);
  }

  renderTiles(all, now) {
    const counts = countStates(all);
    const oldest = {};
    for (const e of all) {
      const cs = e.session.callState;
      if (!e.ended && (!(cs in oldest) || e.since < oldest[cs])) oldest[cs] = e.since;
    }
    for (const { def, count, sub } of this.tiles.values()) {
      const n = String(counts[def.key] ?? 0);
      if (count.textContent !== n) count.textContent = n;
      if (def.longest) sub.textContent = def.call in oldest ? `longest ${fmtDuration(now - oldest[def.call])}` : '\u00a0';
    }
    if (this.store.loaded) this.onCounts?.(counts);
  }

  renderEmpty(all, visible) {
    const total = all.filter((e) => !e.ended).length;
    const filtered = this.filters.q || this.filters.call || this.filters.queue || this.filters.channel;
    this.resultCount.textContent = filtered
      ? `${visible.length} of ${total} shown`
      : `${total} active session${total === 1 ? '' : 's'}`;
    if (visible.length > 0) {
      this.empty.hidden = true;
      return;
    }
    this.empty.hidden = false;
    if (!this.store.loaded) {
      this.empty.replaceChildren(h('div', { class: 'spinner', 'aria-hidden': 'true' }), h('p', {}, 'Loading sessions…'));
    } else if (total === 0) {
      this.empty.replaceChildren(
        h('p', { class: 'empty-title' }, `No active sessions on ${this.account} right now.`),
        h('p', { class: 'muted' }, 'New calls and chats appear here the moment they start.'));
    } else {
      this.empty.replaceChildren(
        h('p', { class: 'empty-title' }, 'No session matches these filters.'),
        h('button', { type: 'button', class: 'btn', 'data-testid': 'clear-filters', onclick: () => this.clearFilters() }, 'Clear filters'));
    }
  }

  open(id) {
    this.setFocusId(id);
    this.onOpen?.(id);
  }

  setSelected(id) {
    this.selectedId = id;
    for (const [rid, row] of this.rows) {
      if (rid === id) row.el.setAttribute('aria-current', 'true');
      else row.el.removeAttribute('aria-current');
    }
  }

  setFocusId(id) {
    if (this.focusId === id) return;
    this.focusId = id;
    for (const [rid, row] of this.rows) row.el.tabIndex = rid === id ? 0 : -1;
  }

  /** rowEls lists the focusable rows in screen order. */
  rowEls() {
    return [...this.list.querySelectorAll('[data-session-id]:not(.row-exit)')];
  }

  focusRow(i) {
    const rows = this.rowEls();
    if (rows.length === 0) return false;
    const el = rows[Math.max(0, Math.min(rows.length - 1, i))];
    this.setFocusId(el.dataset.sessionId);
    el.focus();
    return true;
  }

  /** focusCurrent puts focus on the roving row (or the selected one). */
  focusCurrent() {
    const el = this.rows.get(this.selectedId ?? this.focusId)?.el ?? this.rowEls()[0];
    if (!el) return false;
    this.setFocusId(el.dataset.sessionId);
    el.focus();
    return true;
  }

  onListKey(ev) {
    const row = ev.target.closest?.('[data-session-id]');
    if (!row || ev.target !== row) return;
    const rows = this.rowEls();
    const i = rows.indexOf(row);
    switch (ev.key) {
      case 'ArrowDown':
      case 'j':
        this.focusRow(i + 1);
        break;
      case 'ArrowUp':
      case 'k':
        if (i === 0) this.search.focus();
        else this.focusRow(i - 1);
        break;
      case 'Home':
        this.focusRow(0);
        break;
      case 'End':
        this.focusRow(rows.length - 1);
        break;
      case 'Enter':
      case ' ':
        this.open(row.dataset.sessionId);
        break;
      default:
        return;
    }
    ev.preventDefault();
  }
}

/** countStates counts active (not ended) sessions: all, by call state, and queued. */
export function countStates(entries) {
  const counts = { active: 0, Ringing: 0, Connected: 0, Hold: 0, Passive: 0, Queued: 0 };
  for (const e of entries) {
    if (e.ended) continue;
    counts.active++;
    if (e.session.callState in counts) counts[e.session.callState]++;
    if (e.session.queueState === 'Queued') counts.Queued++;
  }
  return counts;
}

/**
 * memberStack renders up to three member avatars side by side, or two and "+N"
 * when there are more. They do not overlap: two-letter initials stay readable.
 */
export function memberStack(members) {
  const shown = members.length > 3 ? members.slice(0, 2) : members;
  const wrap = h('div', { class: 'stack', 'aria-label': members.length ? `${members.length} member${members.length === 1 ? '' : 's'}` : 'No members' });
  for (const m of shown) wrap.append(memberAvatar(m));
  if (members.length > shown.length) wrap.append(h('span', { class: 'avatar avatar-sm more' }, `+${members.length - shown.length}`));
  if (members.length === 0) wrap.append(h('span', { class: 'muted' }, '—'));
  return wrap;
}

/** memberAvatar renders one member: picture or initials, ringed by its call state. */
export function memberAvatar(m, size = 'sm') {
  const name = m.displayName || m.identity || 'Member';
  const label = `${name} · ${m.role ?? 'None'} · ${m.callState ?? 'None'}${m.muted ? ' · muted' : ''}`;
  const el = h('span', {
    class: `avatar avatar-${size} ${hueClass(m.identity || name)} ms-${String(m.callState ?? 'None').toLowerCase()}`,
    title: label,
    role: 'img',
    'aria-label': label,
  }, initials(name));
  if (m.avatarUrl && /^(https:\/\/|\/)/.test(m.avatarUrl)) {
    const img = h('img', { src: m.avatarUrl, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer' });
    img.addEventListener('error', () => img.remove(), { once: true });
    el.append(img);
  }
  if (m.role === 'Agent' || m.role === 'Transfer') el.append(h('span', { class: `role-pip role-${m.role.toLowerCase()}`, 'aria-hidden': 'true' }));
  return el;
}

function flash(el) {
  el.classList.remove('row-flash');
  void el.offsetWidth; // restart the animation
  el.classList.add('row-flash');
}
