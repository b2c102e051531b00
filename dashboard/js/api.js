// The one way the page talks to the core: same-origin fetch with the session
// cookie. Every answer that is not 2xx becomes an ApiError carrying the
// server's {"error"} text; a 401 also tells the app to show the login page.

/** An API call that did not answer 2xx. */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 when the network failed)
   * @param {string} message the server's "error" text, or what went wrong
   * @param {*} [body] the parsed answer, if any
   * @param {Headers} [headers]
   */
  constructor(status, message, body, headers) {
    super(message);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

let unauthorized = () => {};

/**
 * Sets what happens when any call answers 401 (the session ended or never was).
 * @param {(err: ApiError) => void} fn
 */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

/**
 * Calls the API.
 * @param {'GET'|'POST'|'PUT'|'PATCH'|'DELETE'} method
 * @param {string} path e.g. "/api/v1/devices"
 * @param {*} [body] sent as JSON; a Blob/File is sent as application/octet-stream
 * @param {{quiet401?: boolean}} [opts] quiet401: a 401 is thrown but does not
 *   switch to the login page (used by the login form itself)
 * @returns {Promise<*>} the parsed JSON answer (null when empty)
 * @throws {ApiError}
 */
export async function api(method, path, body, opts = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body instanceof Blob) {
    init.headers['Content-Type'] = 'application/octet-stream';
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `cannot reach the gateway (${e.message})`);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (res.ok) return data;
  const message = (data && typeof data === 'object' && data.error)
    || (typeof data === 'string' && data)
    || `${res.status} ${res.statusText}`;
  const err = new ApiError(res.status, message, data, res.headers);
  if (res.status === 401 && !opts.quiet401) unauthorized(err);
  throw err;
}

/** @param {string} path @returns {Promise<*>} */
export const get = (path) => api('GET', path);
/** @param {string} path @param {*} [body] @returns {Promise<*>} */
export const post = (path, body) => api('POST', path, body ?? {});
/** @param {string} path @param {*} body @returns {Promise<*>} */
export const put = (path, body) => api('PUT', path, body);
/** @param {string} path @param {*} body @returns {Promise<*>} */
export const patch = (path, body) => api('PATCH', path, body);
/** @param {string} path @returns {Promise<*>} */
export const del = (path) => api('DELETE', path);
