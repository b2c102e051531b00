// The event stream (GET /api/v1/events, server-sent events named by their
// "type"). On every (re)connect and on `lagged` the app fetches everything
// again; events that arrive during that fetch are held and applied after
// it, in order, so none is lost or overwritten by an older snapshot.
// #live shows the connection: data-state="open" | "connecting" | "closed".

import { byId } from './dom.js';

const TYPES = ['state', 'availability', 'device', 'entity', 'removed', 'refused',
  'provider', 'ota', 'rooms', 'lagged'];
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;

let source = null;
let retryTimer = 0;
let retryMs = RETRY_MIN_MS;
let held = null; // events waiting for a resync to finish, or null
let again = false; // another resync was asked for while one ran
let handlers = null;

/**
 * @typedef {Object} StreamHandlers
 * @property {(ev: Object) => void} event applies one event ({type, …})
 * @property {() => Promise<void>} resync fetches everything again; events are held meanwhile
 * @property {() => Promise<boolean>} probe after the stream failed: false when
 *   the page should stop retrying (e.g. the session ended and login is shown)
 */

/**
 * Opens the stream (closing an earlier one) and keeps it open.
 * @param {StreamHandlers} h
 */
export function connect(h) {
  handlers = h;
  open();
}

/** Closes the stream and stops retrying (logout, 401). */
export function disconnect() {
  handlers = null;
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  held = null;
  setLive('closed');
}

function setLive(state) {
  const live = byId('live');
  live.dataset.state = state;
  live.textContent = { open: 'live', connecting: 'connecting…', closed: 'offline' }[state];
  live.title = {
    open: 'Live updates are on',
    connecting: 'Connecting to the gateway…',
    closed: 'No live updates',
  }[state];
}

function open() {
  clearTimeout(retryTimer);
  if (source) source.close();
  setLive('connecting');
  const es = new EventSource('/api/v1/events');
  source = es;
  es.addEventListener('open', () => {
    if (source !== es) return;
    retryMs = RETRY_MIN_MS;
    setLive('open');
    resync();
  });
  es.addEventListener('error', () => {
    if (source !== es) return;
    if (es.readyState === EventSource.CLOSED) {
      // An HTTP error (401, 429 too many streams…): the browser gives up; so
      // do we, for a while. The page still gets the data, without live updates.
      setLive('closed');
      resync();
      scheduleRetry();
    } else {
      setLive('connecting'); // the browser reconnects by itself; `open` resyncs
    }
  });
  for (const type of TYPES) {
    es.addEventListener(type, (msg) => {
      if (source !== es) return;
      let data;
      try { data = JSON.parse(msg.data); } catch { return; }
      if (type === 'lagged') { resync(); return; }
      if (held) held.push(data);
      else deliver(data);
    });
  }
}

function deliver(data) {
  if (!handlers) return;
  try { handlers.event(data); } catch (e) { console.error('event', data, e); }
}

async function resync() {
  if (!handlers) return;
  if (held) { again = true; return; } // after the running one, once more
  held = [];
  do {
    again = false;
    try {
      await handlers.resync();
    } catch (e) {
      console.warn('resync failed', e);
    }
  } while (again && handlers);
  const queue = held || [];
  held = null;
  for (const ev of queue) deliver(ev);
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  const wait = retryMs;
  retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  retryTimer = setTimeout(async () => {
    if (!handlers) return;
    let go = true;
    try { go = await handlers.probe(); } catch { go = true; }
    if (go && handlers) open();
    else if (handlers) scheduleRetry();
  }, wait);
}
