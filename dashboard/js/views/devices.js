// #/devices: one section per room (and "No room"), a card per device, the
// room forms. Cards are kept between redraws and rebuilt only when the
// device's shape changes (entities, attributes, availability, name), so a
// value update never interrupts a slider being dragged.

import { del, post } from '../api.js';
import { fields, h, toast } from '../dom.js';
import { icon } from '../icons.js';
import { confirmDialog, editDevice, renameRoom } from './dialogs.js';
import { entityKind, renderEntity } from './entity.js';
import { devices, loaded, rooms, setRooms, subscribe } from '../state.js';

/**
 * @typedef {Object} Card
 * @property {HTMLElement} el article.device
 * @property {string} sig the device's shape when built
 * @property {Map<string, () => void>} entities entity name → update()
 */

/**
 * Draws the devices page into `root` and keeps it current.
 * @param {HTMLElement} root
 * @returns {() => void} stops updating (when another page is shown)
 */
export function devicesPage(root) {
  /** @type {Map<number, Card>} */
  const cards = new Map();
  const sections = h('div.rooms');
  const empty = h('p.empty.muted', { hidden: true },
    'No devices yet. They appear here as soon as a provider reports them; ',
    h('a', { href: '#/providers', text: 'see the providers' }), '.');
  const addRoom = h('form#add-room.inline', { onsubmit: onAddRoom },
    h('input', { name: 'name', required: true, maxlength: 64, placeholder: 'New room', 'aria-label': 'Room name', autocomplete: 'off' }),
    h('button', { type: 'submit', text: 'Add room' }));
  root.append(h('div.page-head', null, h('h1', { text: 'Devices' }), addRoom), empty, sections);

  const card = (d) => {
    const sig = signature(d);
    let c = cards.get(d.id);
    if (!c || c.sig !== sig) {
      const fresh = buildCard(d, sig);
      if (c) c.el.replaceWith(fresh.el);
      c = fresh;
      cards.set(d.id, c);
    } else {
      for (const update of c.entities.values()) update(); // same shape, maybe new values
    }
    return c;
  };

  const layout = () => {
    for (const id of [...cards.keys()]) if (!devices.has(id)) { cards.get(id).el.remove(); cards.delete(id); }
    const byRoom = new Map([[null, []], ...rooms.map((r) => [r.id, []])]);
    const list = [...devices.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
    for (const d of list) {
      const room = byRoom.has(d.room ?? null) ? (d.room ?? null) : null;
      byRoom.get(room).push(d);
    }
    const wanted = rooms.map((r) => roomSection(r, byRoom.get(r.id)));
    if (byRoom.get(null).length) wanted.push(roomSection(null, byRoom.get(null)));
    sections.replaceChildren(...wanted);
    empty.hidden = devices.size > 0 || !loaded;
  };

  const roomSection = (room, list) => {
    const id = room ? String(room.id) : 'none';
    const grid = h('div.cards', null, list.map((d) => card(d).el));
    const actions = room && h('span.room-actions', null,
      h('button.quiet.small', { type: 'button', text: 'Rename', onclick: () => renameRoom(room) }),
      h('button.quiet.small', { type: 'button', text: 'Delete', onclick: () => deleteRoom(room) }));
    return h('section.room', { dataset: { room: id } },
      h('header.room-head', null, h('h2', { text: room ? room.name : 'No room' }), actions),
      list.length ? grid : h('p.muted.small', { text: 'No devices in this room. Move one here with its Edit button.' }));
  };

  const unsubscribe = subscribe((c) => {
    if (c.kind === 'all' || c.kind === 'rooms' || c.kind === 'removed') layout();
    else if (c.kind === 'device') {
      const d = devices.get(c.device);
      const old = cards.get(c.device);
      if (d && old && old.el.dataset.room === roomKey(d) && old.el.dataset.name === d.name) card(d);
      else layout();
    } else if (c.kind === 'state' || c.kind === 'pending') {
      cards.get(c.device)?.entities.get(c.entity)?.();
    }
  });
  layout();
  return unsubscribe;
}

const roomKey = (d) => (d.room == null ? 'none' : String(d.room));

async function onAddRoom(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const name = fields(form).name.trim();
  if (!name) return;
  try {
    const room = await post('/api/v1/rooms', { name });
    if (!rooms.some((r) => r.id === room.id)) setRooms([...rooms, room]);
    form.reset();
  } catch (e) {
    if (e.status !== 401) toast(e.message);
  }
}

async function deleteRoom(room) {
  const inRoom = [...devices.values()].filter((d) => d.room === room.id).length;
  const ok = await confirmDialog(`Delete the room “${room.name}”?`,
    inRoom ? `Its ${inRoom} device(s) stay and move to “No room”.` : 'It has no devices.', 'Delete');
  if (!ok) return;
  try {
    await del(`/api/v1/rooms/${room.id}`);
    for (const d of devices.values()) if (d.room === room.id) d.room = null;
    setRooms(rooms.filter((r) => r.id !== room.id));
  } catch (e) {
    if (e.status !== 401) toast(e.message);
  }
}

/** What, when it changes, needs the card rebuilt (values are updated in place). */
function signature(d) {
  const ents = Object.entries(d.entities).map(([n, e]) => [n, e.attributes, e.units, Object.keys(e.components).sort()]);
  return JSON.stringify([d.name, d.available, d.status, d.unsupported, d.attributes, d.provider, ents]);
}

const KIND_RANK = ['lock', 'light', 'cover', 'climate', 'fan', 'switch', 'button', 'sensor'];

/**
 * Builds the card of one device.
 * @param {import('../state.js').Device} d
 * @param {string} sig
 * @returns {Card}
 */
function buildCard(d, sig) {
  const names = Object.keys(d.entities).sort((a, b) => {
    const da = d.entities[a].attributes.category ? 1 : 0;
    const db = d.entities[b].attributes.category ? 1 : 0;
    return da - db || a.localeCompare(b);
  });
  const blocks = names.map((n) => [n, renderEntity(d, n)]);
  const kinds = names.filter((n) => !d.entities[n].attributes.category).map((n) => entityKind(d.entities[n]));
  const kind = KIND_RANK.find((k) => kinds.includes(k)) || 'device';
  const meta = [d.attributes.manufacturer, d.attributes.model].filter(Boolean).join(' ');
  const online = d.available && d.status !== 'offline';
  const el = h('article.device', {
    dataset: { device: String(d.id), available: String(online), kind, room: roomKey(d), name: d.name },
  },
  h('header.device-head', null,
    icon(kind),
    h('div.device-title', null,
      h('h3.device-name', { text: d.name }),
      h('p.device-meta', { text: [meta, d.provider].filter(Boolean).join(' · ') })),
    h('span.availability', {
      'data-available': String(online),
      text: !online ? 'Offline' : d.status === 'unsupported' ? 'Unsupported' : 'Online',
    }),
    h('button.edit-device.quiet.icon-button', {
      type: 'button', title: 'Rename or move', 'aria-label': `Edit ${d.name}`,
      onclick: () => editDevice(devices.get(d.id) || d),
    }, icon('edit'))),
  d.status === 'unsupported' && h('p.unsupported.muted.small', { text: d.unsupported || 'Igloo cannot show or control this device.' }),
  blocks.map(([n, b]) => {
    if (d.entities[n].attributes.category) b.el.classList.add('secondary');
    return b.el;
  }));
  if (!online) {
    for (const c of el.querySelectorAll('.entity button, .entity input, .entity select')) c.disabled = true;
  }
  return { el, sig, entities: new Map(blocks.map(([n, b]) => [n, b.update])) };
}
