// detail.js: the session panel. It shows every field of one session, its members
// and its log (updating live), and carries the agent's actions: hold, resume,
// end, and the console-data editor. Every write is a PATCH with If-Match; a 412
// means someone else changed the session first, and the agent chooses whose
// change wins instead of losing either silently.

import { h, fill, icon, badge, fmtClock, fmtDateTime, fmtDuration, HOLD_REASONS } from './dom.js';
import { memberAvatar } from './board.js';
import { stateStart } from './store.js';
import { toast, modal } from './ui.js';

/** Every SessionInfo field, in the seed's order, with a label. */
const FIELDS = [
  ['id', 'Session id'], ['dialState', 'Dial state'], ['callState', 'Call state'], ['queueState', 'Queue state'],
  ['accountId', 'Account id'], ['accountName', 'Account name'], ['customerId', 'Customer id'],
  ['customerBreadcrumb', 'Customer breadcrumb'], ['customerName', 'Customer name'], ['endpointId', 'Endpoint id'],
  ['endpointName', 'Endpoint name'], ['dateCompleted', 'Completed'], ['destination', 'Destination'],
  ['toAddress', 'To address'], ['fromAddress', 'From address'], ['fromName', 'From name'],
  ['answeredByName', 'Answered by'], ['queueMemberId', 'Queue member id'], ['channel', 'Channel'], ['ended', 'Ended'],
  ['outcome', 'Outcome'], ['callSid', 'Call SID'], ['consoleData', 'Console data'], ['holdQueueName', 'Hold queue'],
  ['heldByUserId', 'Held by user'], ['holdReason', 'Hold reason'], ['conferenceSid', 'Conference SID'],
  ['displayName', 'Display name'], ['log', 'Log'], ['members', 'Members'], ['callbackNumber', 'Callback number'],
  ['answeredById', 'Answered by id'], ['direction', 'Direction'], ['fromPhoneNumber', 'From phone number'],
  ['mostRecentParticipantCallSid', 'Latest participant SID'], ['wasMissed', 'Was missed'], ['ringQueueId', 'Ring queue id'],
  ['dateCreated', 'Created'], ['dateLastModified', 'Last modified'], ['createdBy', 'Created by'], ['lastModifiedBy', 'Last modified by'],
];

const DATE_FIELDS = new Set(['dateCreated', 'dateLastModified', 'dateCompleted']);
const MAX_CONSOLE_BYTES = 64 << 10;
const enc = new TextEncoder();

export class Detail {
  /**
   * @param {object} o
   * @param {HTMLElement} o.root
   * @param {import('./store.js').SessionStore} o.store
   * @param {import('./api.js').Api} o.api
   * @param {boolean} o.canWrite
   * @param {string} o.role
   * @param {() => void} o.onClose
   */
  constructor({ root, store, api, canWrite, role, onClose }) {
    this.root = root;
    this.store = store;
    this.api = api;
    this.canWrite = canWrite;
    this.role = role;
    this.onClose = onClose;
    this.id = null;
    this.session = null;
    this.version = 0;
    this.busy = false;
    this.unsub = store.subscribe((ev) => {
      if (!this.id || (ev.id && ev.id !== this.id)) return;
      const e = store.get(this.id);
      if (e && e.version > this.version) this.show(e.session, e.version);
    });
  }

  get isOpen() {
    return this.id !== null;
  }

  destroy() {
    this.unsub();
    this.close({ quiet: true });
  }

  /** open shows a session: at once from the board's copy, then fresh from REST. */
  async open(id) {
    if (this.id !== id) {
      this.id = id;
      this.session = null;
      this.version = 0;
      this.build();
    }
    this.root.hidden = false;
    this.root.closest('.board-view')?.classList.add('has-detail');
    this.titleEl.focus({ preventScroll: true });
    const e = this.store.get(id);
    if (e) this.show(e.session, e.version);
    try {
      const { session, version } = await this.api.getSession(id);
      if (this.id !== id) return;
      this.store.applyRest(session, version);
      if ((version ?? 0) > this.version || !this.session) this.show(session, version ?? this.version);
    } catch (err) {
      if (this.id !== id) return;
      if (!this.session) this.showMissing(err);
      else if (err.status !== 401) toast('error', err.message, { title: 'Could not refresh this session' });
    }
  }

  close({ quiet = false } = {}) {
    if (!this.id) return;
    this.id = null;
    this.session = null;
    this.root.hidden = true;
    this.root.replaceChildren();
    this.root.closest('.board-view')?.classList.remove('has-detail');
    if (!quiet) this.onClose?.();
  }

  build() {
    this.titleEl = h('h2', { id: 'detail-title', class: 'detail-title', tabindex: '-1' }, 'Loading…');
    this.metaEl = h('div', { class: 'detail-meta' });
    this.subEl = h('div', { class: 'detail-sub mono muted', 'data-testid': 'detail-id', title: 'Session id' }, this.id);
    this.versionEl = h('span', { class: 'version-pill', 'data-testid': 'detail-version', title: 'Version (sent as If-Match)' });
    this.badgesEl = h('div', { class: 'detail-badges' });
    this.stateClock = h('span', { class: 'detail-clock', 'data-testid': 'detail-time-in-state' });
    this.endedEl = h('div', { class: 'notice notice-muted', hidden: true, 'data-testid': 'detail-ended' },
      'This session has ended. Its call can no longer change; console data stays editable for wrap-up notes.');

    const viewerId = 'detail-viewer-note';
    const describe = this.canWrite ? null : viewerId;
    this.reasonSel = h('select', { class: 'input select select-sm', 'aria-label': 'Hold reason', 'data-testid': 'hold-reason-select', 'aria-describedby': describe },
      HOLD_REASONS.map((r) => h('option', { value: r }, r === 'None' ? 'No reason' : r)));
    this.holdBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'hold-button', 'aria-describedby': describe,
      onclick: () => this.act('Hold', { callState: 'Hold', holdReason: this.reasonSel.value }) }, icon('pause'), 'Hold');
    this.resumeBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'resume-button', 'aria-describedby': describe,
      onclick: () => this.act('Resume', { callState: 'Connected' }) }, icon('play'), 'Resume');
    this.endBtn = h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'end-button', 'aria-describedby': describe,
      onclick: () => this.confirmEnd() }, icon('end'), 'End');
    this.viewerNote = h('p', { id: viewerId, class: 'notice notice-muted', hidden: this.canWrite, 'data-testid': 'viewer-note' },
      `You are signed in as ${this.role || 'a viewer'}: you can watch sessions but not change them. Ask for an agent token to hold, resume or end calls and to edit console data.`);

    this.consoleEl = h('textarea', {
      class: 'input mono console-input', rows: '6', spellcheck: 'true', 'aria-label': 'Console data',
      'data-testid': 'console-data', readonly: !this.canWrite, 'aria-describedby': 'console-status',
      placeholder: this.canWrite ? 'Notes and data for this session…' : 'No console data',
    });
    this.consoleEl.addEventListener('input', () => this.syncConsole());
    this.consoleEl.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        this.saveConsole();
      }
    });
    this.consoleStatus = h('span', { id: 'console-status', class: 'console-status muted small', 'aria-live': 'polite', 'data-testid': 'console-status' });
    this.consoleCount = h('span', { class: 'muted small mono' });
    this.remoteNote = h('div', { class: 'notice notice-warn', hidden: true, 'data-testid': 'console-remote-change' },
      'Someone else changed the console data while you were editing. ',
      h('button', { type: 'button', class: 'link-btn', onclick: () => this.loadTheirs() }, 'Load theirs'),
      ' or keep typing; saving will ask which to keep.');
    this.discardBtn = h('button', { type: 'button', class: 'btn btn-ghost', hidden: true, 'data-testid': 'console-discard', onclick: () => this.loadTheirs() }, 'Discard');
    this.saveBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'console-save', 'aria-describedby': describe,
      onclick: () => this.saveConsole() }, 'Save');

    this.membersEl = h('ul', { class: 'members', 'data-testid': 'detail-members' });
    this.logEl = h('ol', { class: 'log', 'data-testid': 'detail-log', reversed: true });
    this.fieldsEl = h('dl', { class: 'fields', 'data-testid': 'detail-fields' });
    this.membersCount = h('span', { class: 'count-pill' });
    this.logCount = h('span', { class: 'count-pill' });

    this.root.replaceChildren(
      h('div', { class: 'detail-head' },
        h('div', { class: 'detail-head-text' }, this.titleEl, this.metaEl, this.subEl),
        this.versionEl,
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close details (Esc)', title: 'Close (Esc)', 'data-testid': 'detail-close', onclick: () => this.close() }, icon('close'))),
      h('div', { class: 'detail-scroll' },
        h('div', { class: 'detail-state' }, this.badgesEl, this.stateClock),
        this.endedEl,
        this.actionsEl = h('section', { class: 'detail-section', 'aria-label': 'Call actions' },
          h('div', { class: 'actions', role: 'group', 'aria-label': 'Call actions' },
            h('div', { class: 'hold-group' }, this.reasonSel, this.holdBtn), this.resumeBtn, this.endBtn),
          this.viewerNote),
        h('section', { class: 'detail-section', 'aria-labelledby': 'console-h' },
          h('h3', { id: 'console-h' }, 'Console data'),
          this.remoteNote,
          this.consoleEl,
          h('div', { class: 'console-foot' }, this.consoleStatus, h('span', { class: 'grow' }), this.consoleCount, this.discardBtn, this.saveBtn)),
        h('section', { class: 'detail-section', 'aria-labelledby': 'members-h' },
          h('h3', { id: 'members-h' }, 'Members ', this.membersCount), this.membersEl),
        h('section', { class: 'detail-section', 'aria-labelledby': 'log-h' },
          h('h3', { id: 'log-h' }, 'Log ', this.logCount), this.logEl),
        h('details', { class: 'detail-section fields-wrap' },
          h('summary', {}, 'All fields'), this.fieldsEl)),
    );
    this.consoleBase = '';
    this.consoleBaseVersion = 0;
    this.syncActions();
  }

  /** show renders a session version; the console editor keeps unsaved typing. */
  show(session, version) {
    const first = !this.session;
    const prevLog = this.session?.log?.length ?? 0;
    this.session = session;
    this.version = version;
    const s = session;
    this.titleEl.textContent = s.fromName || s.fromAddress || s.displayName || 'Session';
    this.versionEl.textContent = `v${version}`;
    this.versionEl.dataset.version = String(version);
    // The state line: what the call is doing now. How it came in (channel,
    // direction, numbers, customer) goes under the title.
    fill(this.badgesEl,
      badge('call', s.callState),
      s.queueState !== 'None' ? badge('queue', s.queueState) : null,
      s.callState === 'Hold' && s.holdReason === 'Transferring' ? badge('hold', 'Transferring') : null,
    );
    const from = s.fromName && s.fromAddress ? s.fromAddress : '';
    const to = s.toAddress || s.destination || s.endpointName || '';
    fill(this.metaEl,
      h('span', { class: 'meta-item', title: `${s.direction} ${s.channel}` },
        icon({ Voice: 'phone', Chat: 'chat', Fax: 'fax' }[s.channel] ?? 'phone', 'icon icon-sm'),
        icon(s.direction === 'Outgoing' ? 'outgoing' : 'incoming', 'icon icon-sm'),
        `${s.direction} ${String(s.channel).toLowerCase()}`),
      from || to ? h('span', { class: 'meta-item mono' }, from, from && to ? ' → ' : '', to) : null,
      s.customerName ? h('span', { class: 'meta-item meta-customer' }, s.customerName) : null,
    );
    this.endedEl.hidden = !s.ended;
    // An ended call has nothing left to hold, resume or end: the notice says so.
    this.actionsEl.hidden = Boolean(s.ended);

    // Console data: follow the server while the agent has not typed; otherwise
    // keep their text and say that the server's changed underneath.
    const server = s.consoleData ?? '';
    const dirty = this.consoleEl.value !== this.consoleBase;
    if (first || !dirty) {
      this.consoleEl.value = server;
      this.consoleBase = server;
      this.consoleBaseVersion = version;
      this.remoteNote.hidden = true;
    } else if (server === this.consoleBase) {
      this.consoleBaseVersion = version; // another field changed: no conflict for ours
    } else {
      this.remoteNote.hidden = false;
    }
    this.syncConsole();

    this.membersCount.textContent = String(s.members?.length ?? 0);
    this.membersEl.replaceChildren(...(s.members?.length ? s.members.map((m) => h('li', { class: 'member' },
      memberAvatar(m, 'md'),
      h('div', { class: 'member-text' },
        h('div', { class: 'member-name' }, m.displayName || m.identity || 'Member',
          m.isOriginalMember ? h('span', { class: 'tag tag-sm', title: 'Original member' }, 'original') : null,
          m.muted ? h('span', { class: 'tag tag-sm', title: 'Muted' }, icon('muted', 'icon icon-sm'), 'muted') : null),
        h('div', { class: 'muted small mono' }, m.identity || m.endpointId || '')),
      h('span', { class: 'tag' }, m.role ?? 'None'),
      badge('member', m.callState ?? 'None'))) : [h('li', { class: 'muted empty-item' }, 'No members yet.')]));

    const log = s.log ?? [];
    this.logCount.textContent = String(log.length);
    this.logEl.replaceChildren(...(log.length ? log.map((e, i) => h('li', { class: `log-entry${!first && i >= prevLog ? ' log-new' : ''}` },
      h('time', { datetime: e.date ?? '', class: 'mono muted', title: fmtDateTime(e.date) }, fmtClock(e.date)),
      logMessage(e.message ?? ''))).reverse() : [h('li', { class: 'muted empty-item' }, 'No log entries yet.')]));

    this.fieldsEl.replaceChildren(...FIELDS.flatMap(([key, label]) => [
      h('dt', {}, label),
      h('dd', { 'data-field': key }, fieldValue(key, s[key])),
    ]), h('dt', {}, 'Version'), h('dd', { 'data-field': 'version' }, String(version)));

    this.syncActions();
    this.tick();
  }

  showMissing(err) {
    this.titleEl.textContent = err.status === 404 ? 'Session not found' : 'Could not load this session';
    this.root.querySelector('.detail-scroll')?.replaceChildren(h('div', { class: 'notice notice-warn', role: 'alert' },
      err.status === 404
        ? 'This session does not exist, has expired, or belongs to an account you cannot see.'
        : err.message));
  }

  tick() {
    if (!this.session || !this.stateClock) return;
    const s = this.session;
    if (s.ended) {
      this.stateClock.textContent = s.dateCompleted ? `Ended ${fmtClock(s.dateCompleted)}` : 'Ended';
      return;
    }
    const e = this.store.get(this.id);
    const since = e && e.version === this.version ? e.since : stateStart(s);
    const by = s.callState === 'Hold' && s.heldByUserId ? ` · held by ${s.heldByUserId}` : '';
    this.stateClock.textContent = `${s.callState} for ${fmtDuration(Date.now() - since)}${by}`;
  }

  syncActions() {
    const s = this.session;
    const set = (btn, enabled, why) => {
      btn.disabled = !enabled;
      btn.title = enabled ? '' : why;
    };
    if (!this.canWrite) {
      const why = 'Viewers cannot change sessions';
      for (const b of [this.holdBtn, this.resumeBtn, this.endBtn, this.saveBtn, this.discardBtn]) set(b, false, why);
      this.reasonSel.disabled = true;
      return;
    }
    const ready = Boolean(s) && !this.busy;
    const ended = Boolean(s?.ended);
    set(this.holdBtn, ready && !ended && s.callState !== 'Hold', ended ? 'The session has ended' : s?.callState === 'Hold' ? 'Already on hold' : 'Working…');
    this.reasonSel.disabled = !ready || ended || s.callState === 'Hold';
    if (s?.callState === 'Hold') this.reasonSel.value = s.holdReason === 'Transferring' ? 'Transferring' : 'None';
    set(this.resumeBtn, ready && !ended && s.callState === 'Hold', ended ? 'The session has ended' : 'Only a held call can resume');
    set(this.endBtn, ready && !ended, ended ? 'The session has already ended' : 'Working…');
    this.syncConsole();
  }

  syncConsole() {
    const dirty = this.consoleEl.value !== this.consoleBase;
    const bytes = enc.encode(this.consoleEl.value).length;
    const over = bytes > MAX_CONSOLE_BYTES;
    this.consoleCount.textContent = bytes > 1024 ? `${(bytes / 1024).toFixed(1)} / 64 KiB` : `${bytes} B`;
    this.consoleCount.classList.toggle('text-danger', over);
    if (over) this.consoleStatus.textContent = 'Too long: console data is limited to 64 KiB.';
    else if (dirty) this.consoleStatus.textContent = 'Unsaved changes · Ctrl+Enter to save';
    else if (this.consoleStatus.dataset.saved !== '1') this.consoleStatus.textContent = '';
    if (dirty) delete this.consoleStatus.dataset.saved;
    if (!this.canWrite) return;
    this.saveBtn.disabled = !dirty || over || this.busy || !this.session;
    this.discardBtn.hidden = !dirty;
    if (!dirty) this.remoteNote.hidden = true;
  }

  loadTheirs() {
    const server = this.session?.consoleData ?? '';
    this.consoleEl.value = server;
    this.consoleBase = server;
    this.consoleBaseVersion = this.version;
    this.remoteNote.hidden = true;
    this.syncConsole();
  }

  async confirmEnd() {
    const choice = await modal({
      title: 'End this session?',
      body: h('p', {}, 'This disconnects the call for everyone on it (call state → Disconnected). It cannot be undone.'),
      testid: 'end-dialog',
      buttons: [
        { label: 'Cancel', value: 'cancel', testid: 'end-cancel', autofocus: true },
        { label: 'End session', value: 'end', kind: 'danger', testid: 'end-confirm' },
      ],
    });
    if (choice === 'end') await this.act('End', { callState: 'Disconnected' });
  }

  async saveConsole() {
    if (!this.canWrite || this.saveBtn.disabled) return;
    const ok = await this.act('Save console data', { consoleData: this.consoleEl.value }, this.consoleBaseVersion);
    if (ok) {
      this.consoleBase = this.session?.consoleData ?? this.consoleEl.value;
      this.consoleBaseVersion = this.version;
      this.consoleStatus.dataset.saved = '1';
      this.consoleStatus.textContent = `Saved ${fmtClock(new Date())}`;
      this.syncConsole();
    }
  }

  /**
   * act PATCHes fields with If-Match; it returns true when the change was stored.
   * A 412 on console data asks the agent whose text wins (conflict). A call
   * action (hold, resume, end) is an intent, not an edit of someone's text: on a
   * 412 the panel reloads and the action is sent once more against the newer
   * version, so the server's rules decide (a session that ended meanwhile answers
   * 409, and its message is shown). Any refusal leaves the panel showing the
   * session as the server has it.
   */
  async act(label, fields, version = this.version, { retried = false } = {}) {
    if (!this.canWrite || !this.session || this.busy) return false;
    const id = this.id;
    this.busy = true;
    this.root.setAttribute('aria-busy', 'true');
    this.syncActions();
    try {
      const { session, version: v } = await this.api.patchSession(id, fields, version || null);
      if (v != null) this.store.applyRest(session, v);
      if (this.id === id && (v ?? 0) >= this.version) this.show(session, v ?? this.version);
      return true;
    } catch (err) {
      if (this.id !== id) return false;
      if (err.status === 412 && 'consoleData' in fields) return await this.conflict(label, fields);
      if (err.status === 412 && !retried) {
        const latest = await this.reload(id);
        if (latest && this.id === id) {
          this.busy = false;
          return await this.act(label, fields, latest.version, { retried: true });
        }
      } else if (err.status === 409 || err.status === 404 || err.status === 412) {
        await this.reload(id);
      }
      if (err.status !== 401 && this.id === id) toast('error', err.message, { title: `${label} failed` });
      return false;
    } finally {
      this.busy = false;
      this.root.removeAttribute('aria-busy');
      if (this.id === id) this.syncActions();
    }
  }

  /** reload fetches the session, puts it on the board and in the panel, and returns it (null on failure). */
  async reload(id) {
    try {
      const latest = await this.api.getSession(id);
      this.store.applyRest(latest.session, latest.version);
      if (this.id === id && (latest.version ?? 0) > this.version) this.show(latest.session, latest.version);
      return latest;
    } catch {
      return null; // the refusal being reported says enough
    }
  }

  /** conflict shows the newer state next to the agent's change and lets them choose. */
  async conflict(label, fields) {
    const id = this.id;
    let latest;
    try {
      latest = await this.api.getSession(id);
    } catch (err) {
      toast('error', err.message, { title: `${label} failed: the session changed, and reloading it failed` });
      return false;
    }
    this.store.applyRest(latest.session, latest.version);
    if (this.id !== id) return false;
    if (latest.version > this.version) this.show(latest.session, latest.version);
    const rows = Object.entries(fields).map(([k, mine]) => h('tr', {},
      h('th', { scope: 'row' }, k),
      h('td', {}, conflictValue(latest.session[k])),
      h('td', {}, conflictValue(mine))));
    const choice = await modal({
      title: 'This session changed before your change was saved',
      testid: 'conflict-dialog',
      cancelValue: 'theirs',
      body: [
        h('p', {}, `Someone else saved version ${latest.version ?? '?'} while you were working, so “${label}” was not applied.`),
        h('table', { class: 'conflict-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'Field'), h('th', {}, 'Now on the server'), h('th', {}, 'Yours'))),
          h('tbody', {}, rows)),
        h('p', { class: 'muted small' }, 'Keep mine applies your change on top of the newer version. Use theirs discards your change.'),
      ],
      buttons: [
        { label: 'Use theirs', value: 'theirs', testid: 'conflict-take-theirs' },
        { label: 'Keep mine', value: 'mine', kind: 'primary', testid: 'conflict-keep-mine', autofocus: true },
      ],
    });
    if (this.id !== id) return false;
    if (choice === 'mine') {
      if ('consoleData' in fields) {
        this.consoleBase = latest.session.consoleData ?? '';
        this.consoleBaseVersion = latest.version;
      }
      this.busy = false;
      return this.act(label, fields, latest.version);
    }
    if ('consoleData' in fields) this.loadTheirs();
    return false;
  }
}

function fieldValue(key, v) {
  if (v === undefined || v === null || v === '') return h('span', { class: 'muted' }, '—');
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (DATE_FIELDS.has(key)) return h('time', { datetime: v, title: v }, fmtDateTime(v));
  if (key === 'customerBreadcrumb') return v.map((c) => c.name || c.id).join(' › ');
  if (key === 'log') return `${v.length} entr${v.length === 1 ? 'y' : 'ies'} (see Log)`;
  if (key === 'members') return `${v.length} (see Members)`;
  if (key === 'consoleData') return `${v.length} characters (see Console data)`;
  if (typeof v === 'object') return JSON.stringify(v);
  return h('span', { class: /Id$|Sid$|^id$/.test(key) ? 'mono' : '' }, String(v));
}

/**
 * logMessage renders a log entry's text: the server writes state changes as
 * "callState Ringing -> Connected, queueState Queued -> Connected (by alice)";
 * the arrows read better as arrows and the author goes aside, muted.
 */
function logMessage(text) {
  const m = /^(.*?)\s*\(by ([^()]+)\)$/s.exec(text);
  const body = (m ? m[1] : text).replaceAll(' -> ', ' → ');
  return h('span', { class: 'log-msg' }, body, m ? h('span', { class: 'log-by' }, ` by ${m[2]}`) : null);
}

function conflictValue(v) {
  if (v === undefined || v === null || v === '') return h('span', { class: 'muted' }, '(empty)');
  const text = String(v);
  return text.length > 60 || text.includes('\n') ? h('pre', { class: 'conflict-text' }, text) : text;
}
