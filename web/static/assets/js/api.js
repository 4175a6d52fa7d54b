// api.js: the REST client (DESIGN §2). Every session response carries its version
// in the ETag header; writes send it back as If-Match so a stale view is refused
// (412) instead of silently overwriting someone else's change.

/** ApiError is a failed request; message is the server's responseStatus.message. */
export class ApiError extends Error {
  constructor(status, message, { code = '', fields = [], retryAfter = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when the server could not be reached
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }
}

/** parseETag reads a strong or weak ETag ("3", W/"3") as a version number, or null. */
export function parseETag(value) {
  const m = /^(?:W\/)?"(\d+)"$/.exec(String(value ?? '').trim());
  return m ? Number(m[1]) : null;
}

export class Api {
  /**
   * @param {{token: string, onUnauthorized?: (message: string) => void, timeoutMs?: number, base?: string}} opts
   */
  constructor({ token, onUnauthorized, timeoutMs = 15000, base = '' }) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
    this.timeoutMs = timeoutMs;
    this.base = base;
  }

  /** getSession returns {session, version}. */
  async getSession(id) {
    const { data, version } = await this.request('GET', `/sessions/${encodeURIComponent(id)}`);
    return { session: data, version };
  }

  /**
   * patchSession sends the seed's PATCH with If-Match when version is known and
   * returns the whole updated session and its new version.
   */
  async patchSession(id, fields, version) {
    const { data, version: v } = await this.request('PATCH', `/sessions/${encodeURIComponent(id)}`, { body: fields, version });
    return { session: data, version: v };
  }

  /** listSessions returns one page of an account's sessions. */
  async listSessions(params = {}) {
    const q = new URLSearchParams(params);
    const { data } = await this.request('GET', `/sessions?${q}`);
    return data;
  }

  async request(method, path, { body, version } = {}) {
    const headers = { Accept: 'application/json', Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (version != null) headers['If-Match'] = `"${version}"`;
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), this.timeoutMs);
    let res;
    let text;
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      text = await res.text();
    } catch {
      throw new ApiError(0, ctrl.signal.aborted
        ? 'The server did not answer in time. Check the connection and try again.'
        : 'Cannot reach the server. Check the connection and try again.');
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const rs = data && typeof data === 'object' ? data.responseStatus : null;
      const fields = Array.isArray(rs?.errors) ? rs.errors : [];
      const message = rs?.message || fields.map((f) => f.message).filter(Boolean).join(' ')
        || `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`;
      const err = new ApiError(res.status, message, {
        code: rs?.errorCode ?? '',
        fields,
        retryAfter: res.headers.get('Retry-After'),
      });
      if (res.status === 401) this.onUnauthorized?.(message);
      throw err;
    }
    return { data, version: parseETag(res.headers.get('ETag')) };
  }
}
