// auth.js: the tab's sign-in. The token arrives in the URL the server prints
// (#token=… or ?token=…) or is pasted; it is kept in sessionStorage (this tab only)
// and removed from the address bar so it is not bookmarked, shared or logged.

const KEY = 'sessionhub.token';

/**
 * takeTokenFromURL removes a token from the address bar (fragment first, then the
 * query string) and returns it, or null when there is none.
 */
export function takeTokenFromURL() {
  const url = new URL(window.location.href);
  let token = null;
  const frag = new URLSearchParams(url.hash.replace(/^#/, ''));
  if (frag.has('token')) {
    token = frag.get('token');
    frag.delete('token');
    const rest = frag.toString();
    url.hash = rest ? `#${rest}` : '';
  }
  if (url.searchParams.has('token')) {
    token ??= url.searchParams.get('token');
    url.searchParams.delete('token');
  }
  if (token === null) return null;
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  return token.trim() || null;
}

/**
 * tokenFromInput accepts what a person pastes: a bare token, "Bearer <token>", or a
 * whole dashboard link carrying #token= or ?token=.
 */
export function tokenFromInput(text) {
  let t = String(text ?? '').trim();
  if (/^https?:\/\//i.test(t)) {
    try {
      const u = new URL(t);
      t = new URLSearchParams(u.hash.replace(/^#/, '')).get('token') ?? u.searchParams.get('token') ?? '';
    } catch {
      return '';
    }
  }
  return t.replace(/^bearer\s+/i, '').replace(/\s+/g, '');
}

export function loadToken() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token) {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage disabled: the token lives only in memory for this page.
  }
}

export function clearToken() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}

/**
 * parseToken decodes a JWT's payload (the server verifies the signature; the
 * console only needs to know whom to show). It throws an Error whose message
 * tells the person what is wrong with what they pasted.
 */
export function parseToken(token) {
  if (!token) throw new Error('Paste an access token to sign in.');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
    throw new Error('That is not an access token: a token is three dot-separated parts (header.payload.signature).');
  }
  let p;
  try {
    const b64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '='));
    p = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    throw new Error('That token cannot be read: its payload is not valid JSON. Copy it again, whole.');
  }
  if (p === null || typeof p !== 'object') throw new Error('That token has no claims. Create one with `sessionhub token`.');
  let accounts = [];
  if (Array.isArray(p.accounts)) accounts = p.accounts.map(String).filter(Boolean);
  else if (typeof p.accounts === 'string') accounts = p.accounts.split(',').map((a) => a.trim()).filter(Boolean);
  const claims = {
    sub: String(p.sub ?? ''),
    name: p.name ? String(p.name) : '',
    accounts,
    role: String(p.role ?? '').toLowerCase(),
    exp: typeof p.exp === 'number' ? new Date(p.exp * 1000) : null,
  };
  if (!claims.sub) throw new Error('That token names no user (no sub claim). Create one with `sessionhub token --user …`.');
  if (accounts.length === 0) throw new Error('That token covers no account. Create one with `sessionhub token --accounts …`.');
  return claims;
}

/** allAccounts reports whether the claims cover every account ("*"). */
export const allAccounts = (claims) => claims.accounts.includes('*');

/** canWrite reports whether the role may hold, resume, end and edit console data. */
export const canWrite = (claims) => claims.role === 'agent' || claims.role === 'service';

/** isExpired reports whether the token's exp has passed. */
export const isExpired = (claims, now = Date.now()) => claims.exp !== null && claims.exp.getTime() <= now;

/** displayName is how the console names the signed-in user. */
export const displayName = (claims) => claims.name || claims.sub;
