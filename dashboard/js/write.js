// Change requests from the controls. A control never shows the requested
// value as confirmed: it is marked pending until the provider reports the
// component (a `state` event, or the confirmed answer), and an error or a
// refusal ends the wait with a toast.

import { api } from './api.js';
import { toast } from './dom.js';
import { COMMANDS } from './format.js';
import { applyState, clearPending, setPending } from './state.js';

/** How long the core may wait for a confirmation before answering 504. */
const WAIT_MS = 10000;

/** Requests in flight by "device/entity/components", with the value to send next. */
const inFlight = new Map();

/**
 * Sends `POST /api/v1/devices/{dev}/entities/{entity}` with `values`.
 * Value requests wait for the outcome (`?wait_ms`); commands that are never
 * reported back (CoverCommand, LockCommand, ButtonPress) do not.
 * @param {number} dev device id
 * @param {string} entity entity name
 * @param {Object<string, *>} values component name → requested value, e.g. {"Brightness": 40}
 * @returns {Promise<boolean>} whether the request was accepted
 */
export async function send(dev, entity, values) {
  const comps = Object.keys(values);
  const command = comps.some((c) => COMMANDS.has(c));
  setPending(dev, entity, comps);
  // One request at a time per control: a newer value (a slider moved again,
  // arrow keys) waits for the one in flight and replaces any older waiting one.
  const slot = `${dev}/${entity}/${comps.sort().join(',')}`;
  const running = inFlight.get(slot);
  if (running) {
    running.next = values;
    return true;
  }
  const mine = { next: null };
  inFlight.set(slot, mine);
  try {
    return await request(dev, entity, values, comps, command);
  } finally {
    inFlight.delete(slot);
    if (mine.next) send(dev, entity, mine.next);
  }
}

async function request(dev, entity, values, comps, command) {
  const path = `/api/v1/devices/${dev}/entities/${encodeURIComponent(entity)}`
    + (command ? '' : `?wait_ms=${WAIT_MS}`);
  try {
    const answer = await api('POST', path, values);
    if (answer && answer.status === 'confirmed' && answer.components) {
      applyState(dev, entity, answer.components);
    }
    // A button press has nothing to wait for once it is sent.
    if (comps.includes('ButtonPress')) clearPending(dev, entity, ['ButtonPress']);
    return true;
  } catch (e) {
    clearPending(dev, entity, comps);
    if (e.status !== 401) toast(e.message);
    return false;
  }
}
