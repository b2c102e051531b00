// The <dialog>s of index.html: #confirm (a yes/no question), #device-edit
// (name and room of a device, and removing a Zigbee device from its network)
// and #room-edit (a room's name). Their forms are handled here; nothing is
// submitted to the server by the browser.

import { patch, post } from '../api.js';
import { byId, fields, h, replace, toast } from '../dom.js';
import { providers, putDevice, rooms, setRooms } from '../state.js';

/**
 * Runs a dialog's form: resolves with the value of the button that closed it
 * ("cancel" for button[value=cancel], Escape, or a close from elsewhere) and
 * the form's fields. `check` may keep the dialog open by returning false
 * (e.g. a failed save: the error is shown, the input kept).
 * @param {HTMLDialogElement} dialog
 * @param {(value: string, data: Object<string,string>) => Promise<boolean>|boolean} [check]
 * @returns {Promise<{value: string, data: Object<string,string>}>}
 */
function run(dialog, check = () => true) {
  if (dialog.open) dialog.close('cancel');
  const form = dialog.querySelector('form');
  return new Promise((resolve) => {
    let data = {};
    const onSubmit = async (ev) => {
      ev.preventDefault();
      const value = ev.submitter?.value || 'ok';
      const d = fields(form);
      if (!(await check(value, d))) return;
      data = d;
      dialog.close(value);
    };
    const onClick = (ev) => {
      if (ev.target.closest('button[value=cancel]')) dialog.close('cancel');
    };
    dialog.addEventListener('close', () => {
      form.removeEventListener('submit', onSubmit);
      form.removeEventListener('click', onClick);
      resolve({ value: dialog.returnValue || 'cancel', data });
    }, { once: true });
    form.addEventListener('submit', onSubmit);
    form.addEventListener('click', onClick);
    dialog.returnValue = '';
    dialog.showModal();
  });
}

/**
 * Asks a yes/no question in #confirm.
 * @param {string} title
 * @param {string} text
 * @param {string} [okLabel] the label of button[value=ok]
 * @returns {Promise<boolean>} true when OK was pressed
 */
export async function confirmDialog(title, text, okLabel = 'OK') {
  const dialog = /** @type {HTMLDialogElement} */ (byId('confirm'));
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  dialog.querySelector('button[value=ok]').textContent = okLabel;
  const { value } = await run(dialog);
  return value === 'ok';
}

/**
 * Whether `name` is the provider of a Zigbee network: it holds the grant of
 * a stick the core knows as a Zigbee coordinator (GET /api/v1/providers,
 * `grants[].known.kind`, docs/sandbox.md).
 * @param {string} name
 * @returns {boolean}
 */
function runsZigbee(name) {
  const p = providers.get(name);
  return Boolean(p && (p.grants || []).some((g) => g.known && g.known.kind === 'zigbee'));
}

/**
 * Edits a device's name and room in #device-edit; saves with
 * PATCH /api/v1/devices/{id} {"name": string|null, "room": id|null}.
 * An empty name gives the device back the name its provider gave.
 * A device of a Zigbee provider also has "Remove from network": after a
 * confirmation, its provider's `zigbee.remove` command asks it to leave and
 * takes it out of the tree (docs/zigbee.md "Removing a device").
 * @param {import('../state.js').Device} d
 */
export async function editDevice(d) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('device-edit'));
  const form = dialog.querySelector('form');
  const providerName = d.provider_name ?? d.name;
  byId('device-edit-title').textContent = `Edit “${d.name}”`;
  byId('device-edit-hint').textContent = `Leave empty for the provider's name: ${providerName}`;
  form.elements.name.value = d.name === providerName ? '' : d.name;
  form.elements.name.placeholder = providerName;
  const select = form.elements.room;
  replace(select, h('option', { value: '', text: 'No room' }),
    rooms.map((r) => h('option', { value: String(r.id), text: r.name })));
  select.value = d.room == null ? '' : String(d.room);
  byId('device-edit-remove').hidden = !runsZigbee(d.provider);
  const { value } = await run(dialog, async (value, data) => {
    if (value !== 'save') return true;
    const name = data.name.trim();
    const body = {
      name: name === '' || name === providerName ? null : name,
      room: data.room === '' ? null : Number(data.room),
    };
    try {
      putDevice(await patch(`/api/v1/devices/${d.id}`, body));
      return true;
    } catch (e) {
      if (e.status !== 401) toast(e.message);
      return e.status === 401;
    }
  });
  if (value === 'remove') await removeZigbeeDevice(d);
}

/**
 * Asks, then removes a Zigbee device from its network with
 * POST /api/v1/providers/{provider}/command {"command": "zigbee.remove",
 * "body": {"device": id}}. The card goes when the tree's `removed` event comes.
 * @param {import('../state.js').Device} d
 */
async function removeZigbeeDevice(d) {
  const ok = await confirmDialog(`Remove “${d.name}” from the network?`,
    'It is asked to leave the Zigbee network and disappears from Igloo. Pair it again to bring it back.',
    'Remove');
  if (!ok) return;
  try {
    await post(`/api/v1/providers/${encodeURIComponent(d.provider)}/command`,
      { command: 'zigbee.remove', body: { device: d.id } });
    toast(`${d.name} was removed from the Zigbee network.`, 'info');
  } catch (e) {
    if (e.status !== 401) toast(`${d.name} cannot be removed: ${e.message}`);
  }
}

/**
 * Renames a room in #room-edit (PATCH /api/v1/rooms/{id} {"name"}).
 * @param {import('../state.js').Room} room
 */
export async function renameRoom(room) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('room-edit'));
  const form = dialog.querySelector('form');
  form.elements.name.value = room.name;
  await run(dialog, async (value, data) => {
    if (value !== 'save') return true;
    try {
      const r = await patch(`/api/v1/rooms/${room.id}`, { name: data.name.trim() });
      setRooms(rooms.map((x) => (x.id === r.id ? r : x)));
      return true;
    } catch (e) {
      if (e.status !== 401) toast(e.message);
      return e.status === 401;
    }
  });
}

/** Closes any open dialog (on logout). */
export function closeDialogs() {
  for (const d of document.querySelectorAll('dialog[open]')) d.close('cancel');
}
