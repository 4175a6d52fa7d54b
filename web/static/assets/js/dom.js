// dom.js: small helpers shared by the console's modules. The console builds its
// DOM with these, never by parsing HTML strings, so server data is always text.

/** The wire's enums, in order (DESIGN §1). */
export const CALL_STATES = ['Disconnected', 'Ringing', 'Connected', 'Hold', 'Passive'];
export const QUEUE_STATES = ['None', 'Queued', 'Ringing', 'Connected', 'Hold', 'Disconnected'];
export const CHANNELS = ['Voice', 'Chat', 'Fax'];
export const HOLD_REASONS = ['None', 'Transferring'];

/** h builds an element: h('div', {class: 'x', 'data-testid': 'y', onclick}, ...children). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  appendAll(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** s builds an SVG element. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props);
  appendAll(el, children);
  return el;
}

function setProps(el, props) {
  if (!props) return;
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

/** fill replaces el's children, skipping null, false and "" as h() does. */
export function fill(el, ...children) {
  el.replaceChildren();
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false || c === '') continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/** $ finds one element by selector, or throws: a missing element is a bug. */
export function $(sel, root = document) {
  const el = root.querySelector(sel);
  if (!el) throw new Error(`console: missing element ${sel}`);
  return el;
}

// Icons: 24×24 stroke paths in the style of Feather (MIT).
const ICONS = {
  phone: 'M22 16.92v3a2 2 0 0 1-2.18 2 19.79 19.79 0 0 1-8.63-3.07 19.5 19.5 0 0 1-6-6 19.79 19.79 0 0 1-3.07-8.67A2 2 0 0 1 4.11 2h3a2 2 0 0 1 2 1.72c.13.96.36 1.9.7 2.81a2 2 0 0 1-.45 2.11L8.09 9.91a16 16 0 0 0 6 6l1.27-1.27a2 2 0 0 1 2.11-.45c.91.34 1.85.57 2.81.7A2 2 0 0 1 22 16.92z',
  chat: 'M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z',
  fax: 'M6 9V2h12v7M6 18H4a2 2 0 0 1-2-2v-5a2 2 0 0 1 2-2h16a2 2 0 0 1 2 2v5a2 2 0 0 1-2 2h-2M6 14h12v8H6z',
  incoming: 'M17 7 7 17M17 17H7V7',
  outgoing: 'M7 17 17 7M7 7h10v10',
  sun: 'M12 7a5 5 0 1 0 0 10a5 5 0 1 0 0-10zM12 1v2M12 21v2M4.22 4.22l1.42 1.42M18.36 18.36l1.42 1.42M1 12h2M21 12h2M4.22 19.78l1.42-1.42M18.36 5.64l1.42-1.42',
  moon: 'M21 12.79A9 9 0 1 1 11.21 3 7 7 0 0 0 21 12.79z',
  monitor: 'M2 3h20v14H2zM8 21h8M12 17v4',
  wall: 'M8 3H5a2 2 0 0 0-2 2v3m18 0V5a2 2 0 0 0-2-2h-3m0 18h3a2 2 0 0 0 2-2v-3M3 16v3a2 2 0 0 0 2 2h3',
  close: 'M18 6 6 18M6 6l12 12',
  search: 'M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14zM21 21l-4.35-4.35',
  pause: 'M6 4h4v16H6zM14 4h4v16h-4z',
  play: 'M6 3l14 9-14 9V3z',
  end: 'M10.68 13.31a16 16 0 0 0 3.41 2.6l1.27-1.27a2 2 0 0 1 2.11-.45 12.84 12.84 0 0 0 2.81.7 2 2 0 0 1 1.72 2v3a2 2 0 0 1-2.18 2 19.79 19.79 0 0 1-8.63-3.07 19.42 19.42 0 0 1-3.33-2.67m-2.67-3.34a19.79 19.79 0 0 1-3.07-8.63A2 2 0 0 1 4.11 2h3a2 2 0 0 1 2 1.72 12.84 12.84 0 0 0 .7 2.81 2 2 0 0 1-.45 2.11L8.09 9.91M23 1 1 23',
  muted: 'M1 1l22 22M9 9v3a3 3 0 0 0 5.12 2.12M15 9.34V4a3 3 0 0 0-5.94-.6M17 16.95A7 7 0 0 1 5 12v-2m14 0v2a7 7 0 0 1-.11 1.23M12 19v4M8 23h8',
};

/** icon returns a decorative SVG icon (aria-hidden); label the control that holds it. */
export function icon(name, cls = 'icon') {
  return s('svg', { class: cls, viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
    s('path', { d: ICONS[name] ?? '' }));
}

/** fmtDuration renders elapsed milliseconds as 0:42, 12:05 or 1:02:03. */
export function fmtDuration(ms) {
  const t = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** fmtAgo renders how long ago a moment was: "just now", "42s ago", "3m ago", "2h ago". */
export function fmtAgo(ms) {
  const t = Math.max(0, Math.floor(ms / 1000));
  if (t < 5) return 'just now';
  if (t < 60) return `${t}s ago`;
  if (t < 3600) return `${Math.floor(t / 60)}m ago`;
  if (t < 86400) return `${Math.floor(t / 3600)}h ago`;
  return `${Math.floor(t / 86400)}d ago`;
}

/** fmtIn renders a future span: "in 7h 52m", "in 3m", "in 20s". */
export function fmtIn(ms) {
  const t = Math.max(0, Math.floor(ms / 1000));
  if (t < 60) return `in ${t}s`;
  if (t < 3600) return `in ${Math.floor(t / 60)}m`;
  return `in ${Math.floor(t / 3600)}h ${Math.floor((t % 3600) / 60)}m`;
}

/** fmtClock renders a wire date as local time (HH:MM:SS); "" for a bad date. */
export function fmtClock(date) {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** fmtDateTime renders a wire date as a local date and time. */
export function fmtDateTime(date) {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) return String(date ?? '');
  return d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'medium' });
}

/** initials takes up to two letters from a name ("Ada Lovelace" → "AL"). */
export function initials(name) {
  const words = String(name ?? '').replace(/[^\p{L}\p{N}\s]/gu, ' ').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  if (words.length === 1) return words[0].slice(0, 2).toUpperCase();
  return (words[0][0] + words[words.length - 1][0]).toUpperCase();
}

/** hueClass picks one of eight avatar colours from a string, stably. */
export function hueClass(key) {
  let n = 0;
  for (const ch of String(key ?? '')) n = (n * 31 + ch.codePointAt(0)) >>> 0;
  return `av-${n % 8}`;
}

/** badge renders a state as a coloured pill; kind is "call", "queue", "member" or "hold". */
export function badge(kind, state, extra = {}) {
  const testid = { call: 'call-state', queue: 'queue-state', member: 'member-state', hold: 'hold-reason' }[kind];
  return h('span', {
    class: `badge badge-${kind} st-${String(state).toLowerCase().replace(/\W+/g, '-')}`,
    'data-testid': testid,
    'data-state': state,
    ...extra,
  }, h('span', { class: 'dot', 'aria-hidden': 'true' }), state);
}

/** isTyping reports whether a key event belongs to a text field (so shortcuts stay out of the way). */
export function isTyping(ev) {
  const t = ev.target;
  if (!(t instanceof Element)) return false;
  return t.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]') !== null;
}
