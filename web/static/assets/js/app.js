// app.js: the console's entry point. It signs the tab in, picks the account,
// and wires the live connection, the store, the board, the chart and the detail
// panel together. State a person may bookmark lives in the URL:
// /?account=ACC1&session=<id>&q=…&call=…&queue=…&channel=…&sort=…

import { $, h, fill, icon, fmtIn, fmtDateTime, initials, hueClass, isTyping } from './dom.js';
import {
  takeTokenFromURL, tokenFromInput, loadToken, saveToken, clearToken, parseToken,
  allAccounts, canWrite, isExpired, displayName,
} from './auth.js';
import { Api } from './api.js';
import { LiveClient, LIVE, RECONNECTING } from './live.js';
import { SessionStore } from './store.js';
import { Board, DEFAULT_FILTERS, countStates } from './board.js';
import { StateChart } from './chart.js';
import { Detail } from './detail.js';
import { toast } from './ui.js';

const THEMES = ['system', 'dark', 'light'];
const RECENT_KEY = 'sessionhub.recentAccounts';
const FILTER_KEYS = ['q', 'call', 'queue', 'channel', 'sort'];

const els = {
  signin: $('#signin-view'),
  signinForm: $('#signin-form'),
  signinToken: $('#signin-token'),
  signinMessage: $('#signin-message'),
  picker: $('#picker-view'),
  pickerList: $('#picker-list'),
  pickerForm: $('#picker-form'),
  pickerInput: $('#picker-input'),
  pickerRecent: $('#picker-recent'),
  pickerMessage: $('#picker-message'),
  pickerError: $('#picker-error'),
  board: $('#board-view'),
  detail: $('#detail'),
  chart: $('#chart'),
  legend: $('#chart-legend'),
  chartWindow: $('#chart-window'),
  conn: $('#conn'),
  connState: $('#conn-state'),
  connDetail: $('#conn-detail'),
  user: $('#user'),
  userAvatar: $('#user-avatar'),
  userName: $('#user-name'),
  userMeta: $('#user-meta'),
  accountSwitch: $('#account-switch'),
  accountName: $('#account-name'),
  signOut: $('#sign-out'),
  themeToggle: $('#theme-toggle'),
  wallToggle: $('#wall-toggle'),
  banner: $('#banner'),
  search: $('#search'),
};

/** The signed-in tab: token, claims, API client; null when signed out. */
let auth = null;
/** The open board: account, store, live client, board, chart, detail; null when none. */
let view = null;
let expiryTimer = 0;

// ---- theme and wall mode -------------------------------------------------

function currentTheme() {
  return document.documentElement.dataset.theme ?? 'system';
}

function applyTheme(theme) {
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
  try {
    localStorage.setItem('sessionhub.theme', theme);
  } catch { /* not persisted */ }
  const next = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  els.themeToggle.replaceChildren(icon({ system: 'monitor', dark: 'moon', light: 'sun' }[theme]));
  els.themeToggle.setAttribute('aria-label', `Theme: ${theme}. Switch to ${next}.`);
  els.themeToggle.title = `Theme: ${theme} (T)`;
}

function cycleTheme() {
  applyTheme(THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length]);
}

function applyWall(on) {
  const root = document.documentElement;
  if (on) root.dataset.wall = '';
  else delete root.dataset.wall;
  try {
    localStorage.setItem('sessionhub.wall', on ? '1' : '0');
  } catch { /* not persisted */ }
  els.wallToggle.setAttribute('aria-pressed', String(on));
}

// ---- views ---------------------------------------------------------------

function showView(name) {
  els.signin.hidden = name !== 'signin';
  els.picker.hidden = name !== 'picker';
  els.board.hidden = name !== 'board';
  els.conn.hidden = name !== 'board';
  els.user.hidden = !auth;
  els.signOut.hidden = !auth;
  els.accountSwitch.hidden = !(name === 'board' && auth && (allAccounts(auth.claims) || auth.claims.accounts.length > 1));
  if (name !== 'board') hideBanner();
}

function showBanner(message, action) {
  fill(els.banner, h('span', {}, message), action);
  els.banner.hidden = false;
}

function hideBanner() {
  els.banner.hidden = true;
  els.banner.replaceChildren();
}

// ---- sign-in -------------------------------------------------------------

function showSignIn(message = '', kind = 'info') {
  teardownBoard();
  clearTimeout(expiryTimer);
  auth = null;
  showView('signin');
  els.signinMessage.hidden = !message;
  els.signinMessage.textContent = message;
  els.signinMessage.className = `notice notice-${kind === 'error' ? 'error' : kind === 'warning' ? 'warn' : 'muted'}`;
  els.signinToken.value = '';
  document.title = 'Sign in · sessionhub';
  els.signinToken.focus();
}

/** expire leaves the board for the sign-in screen, saying why. */
function expire(message) {
  if (!auth) return;
  clearToken();
  showSignIn(message || 'Your sign-in has expired. Paste a new token or open a fresh dashboard link.', 'warning');
}

function signIn(token) {
  let claims;
  try {
    claims = parseToken(token);
  } catch (err) {
    clearToken();
    showSignIn(err.message, 'error');
    return false;
  }
  if (isExpired(claims)) {
    clearToken();
    showSignIn(`This token expired ${fmtDateTime(claims.exp)}. Paste a new one or open a fresh dashboard link.`, 'warning');
    return false;
  }
  saveToken(token);
  auth = {
    token,
    claims,
    api: new Api({ token, onUnauthorized: (msg) => expire(`The server no longer accepts your sign-in: ${msg}`) }),
  };
  renderUser();
  clearTimeout(expiryTimer);
  if (claims.exp) {
    const ms = Math.min(claims.exp.getTime() - Date.now(), 2 ** 31 - 1);
    expiryTimer = setTimeout(() => expire(`Your sign-in expired at ${fmtDateTime(claims.exp)}. Paste a new token or open a fresh dashboard link.`), ms);
  }
  return true;
}

function renderUser() {
  const c = auth.claims;
  const name = displayName(c);
  els.userName.textContent = name;
  els.userAvatar.textContent = initials(name);
  els.userAvatar.className = `avatar avatar-sm ${hueClass(c.sub)}`;
  els.user.title = `${name} (${c.sub}) · ${c.role} · accounts: ${c.accounts.join(', ')}${c.exp ? ` · expires ${fmtDateTime(c.exp)}` : ''}`;
  renderUserMeta();
}

function renderUserMeta() {
  if (!auth) return;
  const c = auth.claims;
  const accounts = allAccounts(c) ? 'all accounts' : c.accounts.length === 1 ? c.accounts[0] : `${c.accounts.length} accounts`;
  const exp = c.exp ? ` · expires ${fmtIn(c.exp.getTime() - Date.now())}` : '';
  els.userMeta.replaceChildren(h('span', { class: `role role-${c.role}`, 'data-testid': 'user-role' }, c.role || 'no role'), ` · ${accounts}${exp}`);
}

// ---- routing -------------------------------------------------------------

function params() {
  return new URL(window.location.href).searchParams;
}

function setURL(mutate, { push = false } = {}) {
  const url = new URL(window.location.href);
  mutate(url.searchParams);
  const next = url.pathname + (url.searchParams.toString() ? `?${url.searchParams}` : '') + url.hash;
  if (next === window.location.pathname + window.location.search + window.location.hash) return;
  if (push) history.pushState(null, '', next);
  else history.replaceState(history.state, '', next);
}

/** route shows what the URL asks for: the board of ?account=, or the picker. */
function route() {
  if (!auth) return;
  const c = auth.claims;
  const account = params().get('account')?.trim() ?? '';
  if (!account) {
    const own = c.accounts.filter((a) => a !== '*');
    if (!allAccounts(c) && own.length === 1) {
      setURL((p) => p.set('account', own[0]));
      openBoard(own[0]);
      return;
    }
    showPicker();
    return;
  }
  if (!c.accounts.includes(account) && !allAccounts(c)) {
    showPicker(`Your token does not cover account “${account}”. Choose one of yours.`);
    return;
  }
  if (view?.account === account) {
    syncSessionFromURL();
    return;
  }
  openBoard(account);
}

function showPicker(message = '') {
  teardownBoard();
  showView('picker');
  document.title = 'Choose an account · sessionhub';
  const c = auth.claims;
  els.pickerMessage.textContent = message || 'Pick the account whose live board you want to watch.';
  els.pickerMessage.className = message ? 'notice notice-warn' : 'muted';
  const own = c.accounts.filter((a) => a !== '*');
  els.pickerList.replaceChildren(...own.map((a) => h('li', {},
    h('button', { type: 'button', class: 'picker-item', 'data-testid': 'account-option', 'data-account': a, onclick: () => pickAccount(a) },
      h('span', { class: `avatar avatar-sm ${hueClass(a)}`, 'aria-hidden': 'true' }, initials(a)),
      h('span', { class: 'mono' }, a),
      h('span', { class: 'chev-right', 'aria-hidden': 'true' }, '›')))));
  els.pickerList.hidden = own.length === 0;
  els.pickerForm.hidden = !allAccounts(c);
  els.pickerError.textContent = '';
  els.pickerRecent.replaceChildren(...recentAccounts().map((a) => h('option', { value: a })));
  (allAccounts(c) ? els.pickerInput : els.pickerList.querySelector('button'))?.focus();
}

function pickAccount(account) {
  setURL((p) => {
    for (const k of [...p.keys()]) p.delete(k);
    p.set('account', account);
  }, { push: true });
  route();
}

function recentAccounts() {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((a) => typeof a === 'string').slice(0, 8) : [];
  } catch {
    return [];
  }
}

function rememberAccount(account) {
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify([account, ...recentAccounts().filter((a) => a !== account)].slice(0, 8)));
  } catch { /* not persisted */ }
}

// ---- the board -----------------------------------------------------------

function openBoard(account) {
  teardownBoard();
  showView('board');
  els.accountName.textContent = account;
  document.title = `${account} · sessionhub`;
  rememberAccount(account);

  const p = params();
  const filters = { ...DEFAULT_FILTERS };
  for (const k of FILTER_KEYS) if (p.get(k)) filters[k] = p.get(k);

  const store = new SessionStore();
  const v = { account, store };
  view = v;
  v.board = new Board({
    root: els.board,
    store,
    account,
    filters,
    onOpen: (id) => openDetail(id),
    // The chart's legend shows the tiles' own numbers, never an older sample.
    onCounts: (c) => v.chart?.setCurrent(c),
    onFilters: (f) => setURL((q) => {
      for (const k of FILTER_KEYS) {
        if (f[k] && f[k] !== DEFAULT_FILTERS[k]) q.set(k, f[k]);
        else q.delete(k);
      }
    }),
  });
  v.chart = new StateChart(els.chart, els.legend, { windowEl: els.chartWindow });
  const counts = () => (store.loaded ? countStates(store.all()) : null);
  v.chart.start(counts);
  v.detail = new Detail({
    root: els.detail,
    store,
    api: auth.api,
    canWrite: canWrite(auth.claims),
    role: auth.claims.role,
    onClose: () => {
      v.board.setSelected(null);
      setURL((q) => q.delete('session'));
      v.board.focusCurrent();
    },
  });
  v.live = new LiveClient({
    token: auth.token,
    channel: `account:${account}`,
    on: {
      state: (state, detail, changed) => renderConn(state, detail, changed),
      snapshot: (msg) => {
        const first = !store.loaded;
        store.applySnapshot(msg.sessions);
        if (first) v.chart.sample(counts());
      },
      update: (msg) => store.applyUpdate(msg),
      authFailed: (reason) => expire(reason
        ? `The server no longer accepts your sign-in (${reason}). Paste a new token or open a fresh dashboard link.`
        : ''),
      probe: () => auth?.api.listSessions({ accountIds: account, countPerPage: 1 }).catch(() => {}),
      error: (msg) => {
        if (msg.fatal) {
          showBanner(`This board cannot follow account “${account}”: ${msg.message || msg.code}`,
            h('button', { type: 'button', class: 'btn btn-sm', onclick: () => showPicker() }, 'Choose another account'));
        } else {
          toast('error', msg.message || msg.code || 'The live connection reported an error.', { title: 'Live updates' });
        }
      },
    },
  });
  v.ticker = setInterval(() => {
    v.board.tick();
    v.detail.tick();
    renderConnDetail();
  }, 1000);
  v.live.start();
  syncSessionFromURL();
}

function teardownBoard() {
  if (!view) return;
  const v = view;
  view = null;
  clearInterval(v.ticker);
  v.live.stop();
  v.chart.stop();
  v.detail.destroy();
  v.board.destroy();
  v.store.clear();
  els.detail.hidden = true;
}

function openDetail(id) {
  if (!view) return;
  view.board.setSelected(id);
  setURL((q) => q.set('session', id));
  view.detail.open(id);
}

function syncSessionFromURL() {
  const id = params().get('session');
  if (id && view?.detail.id !== id) openDetail(id);
  else if (!id && view?.detail.isOpen) view.detail.close({ quiet: true });
}

function renderConn(state, detail, changed) {
  els.connState.textContent = state;
  els.connState.dataset.state = state;
  els.conn.dataset.state = state;
  els.conn.title = detail ?? '';
  els.board.dataset.conn = state;
  renderConnDetail();
  if (changed && state === LIVE) hideBanner();
}

/** renderConnDetail counts down to the next reconnect attempt. */
function renderConnDetail() {
  const live = view?.live;
  let text = '';
  if (live?.state === RECONNECTING) {
    const ms = live.retryAt - Date.now();
    text = ms > 0 ? `retry in ${Math.ceil(ms / 1000)}s` : 'connecting…';
  }
  if (els.connDetail.textContent !== text) els.connDetail.textContent = text;
}

// ---- keyboard ------------------------------------------------------------

function onKey(ev) {
  if (ev.defaultPrevented || document.querySelector('dialog[open]')) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === 'Escape' && view?.detail.isOpen && !(ev.target instanceof HTMLTextAreaElement)) {
    ev.preventDefault();
    view.detail.close();
    return;
  }
  if (isTyping(ev)) return;
  switch (ev.key) {
    case '/':
      if (!view) return;
      els.search.focus();
      els.search.select();
      break;
    case 't':
    case 'T':
      cycleTheme();
      break;
    case 'w':
    case 'W':
      applyWall(!('wall' in document.documentElement.dataset));
      break;
    case 'ArrowDown':
    case 'j':
      if (!view || ev.target.closest?.('#session-list')) return;
      if (!view.board.focusCurrent()) return;
      break;
    default:
      return;
  }
  ev.preventDefault();
}

// ---- start ---------------------------------------------------------------

function boot() {
  applyTheme(currentTheme());
  applyWall('wall' in document.documentElement.dataset);
  els.themeToggle.addEventListener('click', cycleTheme);
  els.wallToggle.replaceChildren(icon('wall'));
  els.wallToggle.addEventListener('click', () => applyWall(!('wall' in document.documentElement.dataset)));
  els.signOut.addEventListener('click', () => {
    clearToken();
    showSignIn('You have signed out.');
  });
  els.accountSwitch.addEventListener('click', () => {
    setURL((p) => {
      for (const k of [...p.keys()]) p.delete(k);
    }, { push: true });
    showPicker();
  });
  els.signinForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = tokenFromInput(els.signinToken.value);
    if (!token) {
      showSignIn('Paste an access token (or the dashboard link the server printed).', 'error');
      return;
    }
    if (signIn(token)) route();
  });
  els.signinToken.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey) {
      ev.preventDefault();
      els.signinForm.requestSubmit();
    }
  });
  els.pickerForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const a = els.pickerInput.value.trim();
    if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(a)) {
      els.pickerError.textContent = 'Enter an account id: up to 128 letters, digits and . _ : @ -';
      els.pickerInput.focus();
      return;
    }
    pickAccount(a);
  });
  document.addEventListener('keydown', onKey);
  window.addEventListener('popstate', () => {
    if (auth) route();
  });
  // Opening a fresh dashboard link in this tab may change only the fragment
  // (#token=…), which does not reload the page: sign in with its token.
  window.addEventListener('hashchange', () => {
    const token = takeTokenFromURL();
    if (token && signIn(token)) route();
  });
  setInterval(renderUserMeta, 30_000);

  const fromURL = takeTokenFromURL();
  const token = fromURL ?? loadToken();
  if (!token) {
    showSignIn();
    return;
  }
  if (signIn(token)) route();
}

boot();
