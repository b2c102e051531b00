// What the page knows: devices, rooms, providers, history and requests in
// flight. Filled by a full fetch (at start, on every (re)connect of the
// event stream and on `lagged`), then kept current by events. Views never
// fetch devices themselves: they subscribe here and draw what is confirmed.

import { get } from './api.js';

/**
 * @typedef {Object} Entity
 * @property {Object<string, string>} attributes e.g. {unit, writable, options, min, max}
 * @property {Object<string, *>} components name → value (marker → true, colour → "#rrggbb", enum → variant)
 * @property {Object<string, string>} units component name → unit ("%", "°C", "mired"…)
 *
 * @typedef {Object} Device
 * @property {number} id
 * @property {string} provider
 * @property {string} key
 * @property {string} name display name (the owner's rename, else provider_name)
 * @property {string} [provider_name] the name the provider gave
 * @property {?number} [room] room id or null
 * @property {boolean} available
 * @property {'online'|'offline'|'unsupported'} status
 * @property {?string} unsupported
 * @property {Object<string, string>} attributes
 * @property {Object<string, Entity>} entities
 *
 * @typedef {{id: number, name: string}} Room
 */

/** @type {Map<number, Device>} devices by id */
export const devices = new Map();
/** @type {Room[]} rooms ordered by name */
export let rooms = [];
/** @type {Map<string, Object>} providers by name (the API's Provider objects) */
export const providers = new Map();
/**
 * Recent numeric values: "device/entity/Component" → [[t_ms, value], …] (oldest first, ≤ 60).
 * @type {Map<string, Array<[number, number]>>}
 */
export const history = new Map();
/** @type {?Object} the last GET /api/v1/ota answer, updated by ota events */
export let ota = null;
/** Whether the first full fetch has arrived (before it, "no devices" means nothing). */
export let loaded = false;

const MAX_POINTS = 60;
const POINT_GAP_MS = 10000;

/** @param {number} dev @param {string} ent @param {string} comp @returns {string} */
export const key = (dev, ent, comp) => `${dev}/${ent}/${comp}`;

// ---- change notification -------------------------------------------------

/**
 * @typedef {Object} Change
 * @property {'all'|'device'|'state'|'removed'|'rooms'|'providers'|'ota'|'pending'} kind
 * @property {number} [device]
 * @property {string} [entity]
 */
const listeners = new Set();

/**
 * Calls `fn` with every change until the returned function is called.
 * @param {(c: Change) => void} fn
 * @returns {() => void} unsubscribe
 */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(change) {
  for (const fn of [...listeners]) {
    try { fn(change); } catch (e) { console.error(e); }
  }
}

// ---- requests in flight ------------------------------------------------

/** "device/entity/Component" → timer of the fallback that clears it */
const pending = new Map();
/** How long a control may wait for its confirmation before it is released. */
const PENDING_MAX_MS = 30000;

/**
 * Whether a change request for this component waits for its confirmation.
 * @param {number} dev @param {string} ent @param {string} comp
 * @returns {boolean}
 */
export const isPending = (dev, ent, comp) => pending.has(key(dev, ent, comp));

/**
 * Marks components of an entity as requested, until a `state` event for
 * them, a `refused` event, an error, or {@link PENDING_MAX_MS}.
 * @param {number} dev @param {string} ent @param {string[]} comps
 */
export function setPending(dev, ent, comps) {
  for (const c of comps) {
    const k = key(dev, ent, c);
    clearTimeout(pending.get(k));
    pending.set(k, setTimeout(() => clearPending(dev, ent, [c]), PENDING_MAX_MS));
  }
  emit({ kind: 'pending', device: dev, entity: ent });
}

/**
 * Ends the wait for components (all of the entity's when `comps` is omitted).
 * @param {number} dev @param {string} ent @param {string[]} [comps]
 */
export function clearPending(dev, ent, comps) {
  const prefix = `${dev}/${ent}/`;
  let any = false;
  for (const k of [...pending.keys()]) {
    if (!k.startsWith(prefix)) continue;
    if (comps && !comps.includes(k.slice(prefix.length))) continue;
    clearTimeout(pending.get(k));
    pending.delete(k);
    any = true;
  }
  if (any) emit({ kind: 'pending', device: dev, entity: ent });
}

// ---- loading -----------------------------------------------------------

/**
 * Fetches devices, rooms, providers and history and replaces what is held.
 * History is optional (a core without it still shows devices).
 * @returns {Promise<void>}
 */
export async function loadAll() {
  const [devs, rms, provs, hist] = await Promise.all([
    get('/api/v1/devices'),
    get('/api/v1/rooms').catch(() => []),
    get('/api/v1/providers'),
    get('/api/v1/history').catch(() => ({})),
  ]);
  devices.clear();
  for (const d of devs) devices.set(d.id, d);
  rooms = rms;
  providers.clear();
  for (const p of provs) providers.set(p.name, p);
  mergeHistory(hist);
  loaded = true;
  emit({ kind: 'all' });
}

/** @returns {Promise<void>} fetches the providers again (grants are only in this answer) */
export async function loadProviders() {
  const provs = await get('/api/v1/providers');
  providers.clear();
  for (const p of provs) providers.set(p.name, p);
  emit({ kind: 'providers' });
}

/** @returns {Promise<void>} fetches GET /api/v1/ota */
export async function loadOta() {
  ota = await get('/api/v1/ota');
  emit({ kind: 'ota' });
}

function mergeHistory(hist) {
  history.clear();
  for (const [dev, ents] of Object.entries(hist || {})) {
    for (const [ent, comps] of Object.entries(ents)) {
      for (const [comp, points] of Object.entries(comps)) {
        if (Array.isArray(points)) history.set(key(Number(dev), ent, comp), points.slice(-MAX_POINTS));
      }
    }
  }
}

function record(dev, ent, comps) {
  const now = Date.now();
  for (const [c, v] of Object.entries(comps)) {
    if (typeof v !== 'number') continue;
    const k = key(dev, ent, c);
    const pts = history.get(k) || [];
    const last = pts[pts.length - 1];
    // The browser's clock may differ from the gateway's: never go back in time.
    const t = last ? Math.max(now, last[0] + 1) : now;
    // Like the core: at least 10 s between points; a newer value within
    // that time replaces the last point.
    if (last && t - last[0] < POINT_GAP_MS && pts.length > 1) pts[pts.length - 1] = [t, v];
    else pts.push([t, v]);
    if (pts.length > MAX_POINTS) pts.splice(0, pts.length - MAX_POINTS);
    history.set(k, pts);
  }
}

/** Drops everything (after logout). */
export function reset() {
  devices.clear();
  rooms = [];
  providers.clear();
  history.clear();
  ota = null;
  loaded = false;
  for (const t of pending.values()) clearTimeout(t);
  pending.clear();
}

// ---- applying ----------------------------------------------------------

/**
 * Applies confirmed component values (from a `state` event or a confirmed
 * change request) and ends the wait for them.
 * @param {number} dev @param {string} ent @param {Object<string, *>} comps
 */
export function applyState(dev, ent, comps) {
  const d = devices.get(dev);
  const e = d && d.entities[ent];
  const names = Object.keys(comps);
  const added = e && names.some((c) => !(c in e.components));
  if (e) Object.assign(e.components, comps);
  record(dev, ent, comps);
  // A command component (CoverCommand, LockCommand) is never reported: any
  // report for the entity answers it.
  clearPending(dev, ent, [...names, 'CoverCommand', 'LockCommand']);
  // A first value of a component changes the card's shape, not just a value.
  if (e) emit({ kind: added ? 'device' : 'state', device: dev, entity: ent });
}

/**
 * Applies one event from the stream (its parsed JSON data).
 * @param {{type: string}} ev
 */
export function apply(ev) {
  switch (ev.type) {
    case 'state':
      applyState(ev.device, ev.entity, ev.components || {});
      break;
    case 'availability': {
      const d = devices.get(ev.device);
      if (!d) break;
      d.available = ev.available;
      if (!ev.available) d.status = 'offline';
      else if (d.status === 'offline') d.status = d.unsupported ? 'unsupported' : 'online';
      if (!ev.available) for (const ent of Object.keys(d.entities)) clearPending(d.id, ent);
      emit({ kind: 'device', device: d.id });
      break;
    }
    case 'device':
      devices.set(ev.device.id, ev.device);
      emit({ kind: 'device', device: ev.device.id });
      break;
    case 'entity': {
      const d = devices.get(ev.device);
      if (!d) break;
      d.entities[ev.entity] = ev.value;
      emit({ kind: 'device', device: d.id });
      break;
    }
    case 'removed':
      devices.delete(ev.device);
      emit({ kind: 'removed', device: ev.device });
      break;
    case 'refused':
      clearPending(ev.device, ev.entity);
      break;
    case 'provider': {
      const old = providers.get(ev.provider.name) || {};
      // The event has no grants and devices = 0: keep what the list said.
      providers.set(ev.provider.name, { ...old, ...ev.provider, grants: old.grants || [], devices: old.devices });
      emit({ kind: 'providers' });
      break;
    }
    case 'rooms':
      rooms = ev.rooms || [];
      emit({ kind: 'rooms' });
      break;
    case 'ota':
      if (ota) {
        if ('install' in ev) ota.install = ev.install;
        if (ev.finished) {
          ota.install = null;
          ota.history = [...(ota.history || []), ev.finished].slice(-10);
        }
      }
      emit({ kind: 'ota' });
      break;
    default:
      break;
  }
}

/**
 * Sets or replaces one device (the answer of PATCH /devices/{id}).
 * @param {Device} d
 */
export function putDevice(d) {
  devices.set(d.id, d);
  emit({ kind: 'device', device: d.id });
}

/**
 * Replaces the rooms (after a change made here, before its event arrives).
 * @param {Room[]} list
 */
export function setRooms(list) {
  rooms = [...list].sort((a, b) => a.name.localeCompare(b.name));
  emit({ kind: 'rooms' });
}
