// #/providers: the providers with their state and each sandbox layer, the
// host's sandbox facts, the serial ports and who holds them, and adding an
// ESPHome device to the igloo-esphome provider.

import { get, post } from '../api.js';
import { busy, fields, h, replace, toast } from '../dom.js';
import { confirmDialog } from './dialogs.js';
import { loadProviders, providers, subscribe } from '../state.js';

/** The sandbox layers of a provider's `sandbox` object (docs/api.md, docs/sandbox.md), in order. */
const LAYERS = [
  ['uid', 'UID'], ['landlock', 'Landlock'], ['seccomp', 'seccomp'],
  ['network', 'Network'], ['cgroup', 'cgroup'], ['rlimits', 'rlimits'],
];

/**
 * Draws the providers page into `root`.
 * @param {HTMLElement} root
 * @returns {() => void} stops updating
 */
export function providersPage(root) {
  const expanded = new Set();
  let host = null; // GET /api/v1/sandbox
  const body = h('tbody');
  const table = h('table#providers.responsive', null,
    h('thead', null, h('tr', null,
      ['Provider', 'State', 'Restarts', 'Version', 'Protocol', 'Devices', ...LAYERS.map(([, l]) => l), '']
        .map((t) => h('th', { scope: 'col', text: t })))),
    body);
  const hostBox = h('div.host.muted.small');
  const grantsBox = h('div#grants-box', null, h('p.muted', { text: 'Loading serial ports…' }));
  const esphome = esphomeSection();
  root.append(
    h('div.page-head', null, h('h1', { text: 'Providers' })),
    h('div.table-wrap', null, table),
    hostBox,
    h('section.panel', null, h('h2', { text: 'Serial ports and dongles' }), grantsBox),
    esphome.el,
  );

  const draw = () => {
    const rows = [];
    for (const p of [...providers.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      rows.push(providerRow(p, host, expanded, draw));
      if (expanded.has(p.name)) rows.push(detailRow(p));
    }
    if (!rows.length) rows.push(h('tr', null, h('td', { colspan: 13, class: 'muted', text: 'No providers are configured.' })));
    body.replaceChildren(...rows);
    esphome.update();
  };

  get('/api/v1/sandbox').then((s) => { host = s; drawHost(hostBox, s); draw(); }).catch(() => {});
  loadProviders().catch((e) => { if (e.status !== 401) toast(e.message); });
  loadGrants(grantsBox);
  draw();
  return subscribe((c) => { if (c.kind === 'providers' || c.kind === 'all') draw(); });
}

/**
 * The state of one layer for td.layer[data-state]: "on", "off", "partial"
 * (Landlock below the host's ABI) or "unknown" (not started yet).
 * @param {?Object} sb the provider's `sandbox`
 * @param {string} layer
 * @param {?Object} host GET /api/v1/sandbox
 * @returns {{state: string, text: string, detail: string}}
 */
export function layerState(sb, layer, host) {
  if (!sb) return { state: 'unknown', text: '–', detail: 'not started yet' };
  const l = sb[layer];
  if (!l) return { state: 'unknown', text: '–', detail: 'not reported' };
  if (!sb.enabled || !l.enforced) return { state: 'off', text: 'off', detail: l.detail || 'not enforced' };
  if (layer === 'landlock') {
    const want = host && host.landlock ? host.landlock.used_abi : 0;
    const partial = sb.landlock_abi && want && sb.landlock_abi < want;
    return { state: partial ? 'partial' : 'on', text: sb.landlock_abi ? `ABI ${sb.landlock_abi}` : 'on', detail: l.detail };
  }
  if (layer === 'network') return { state: 'on', text: sb.network_policy || 'on', detail: l.detail };
  return { state: 'on', text: 'on', detail: l.detail };
}

function providerRow(p, host, expanded, redraw) {
  const cell = (cls, text, label) => h(`td.${cls}`, { text: text ?? '–', 'data-label': label });
  const exec = (p.exec || '').split('/').pop();
  const open = expanded.has(p.name);
  return h('tr', { dataset: { provider: p.name } },
    h('th.name', { scope: 'row' }, p.name, exec && exec !== p.name && h('span.muted.small', { text: exec })),
    h('td.state', { 'data-state': p.state, 'data-label': 'State', text: p.state.replaceAll('_', ' ') }),
    cell('restarts', String(p.restarts ?? 0), 'Restarts'),
    cell('version', p.version, 'Version'),
    cell('protocol', p.protocol, 'Protocol'),
    cell('devices', p.devices === undefined ? null : String(p.devices), 'Devices'),
    LAYERS.map(([layer, name]) => {
      const s = layerState(p.sandbox, layer, host);
      return h('td.layer', { dataset: { layer, state: s.state, label: name }, title: s.detail, text: s.text });
    }),
    h('td.actions', null,
      h('button.quiet.small', {
        type: 'button', 'aria-expanded': String(open), text: open ? 'Less' : 'Details',
        onclick: () => { if (open) expanded.delete(p.name); else expanded.add(p.name); redraw(); },
      }),
      h('button.quiet.small', { type: 'button', text: 'Restart', onclick: () => restart(p.name) })));
}

function detailRow(p) {
  const items = [];
  const add = (k, v) => { if (v !== null && v !== undefined && v !== '') items.push(h('dt', { text: k }), h('dd', { text: String(v) })); };
  add('Executable', p.exec);
  add('Process', p.pid);
  add('Runs as uid', p.uid);
  add('Installed version', p.installed_version);
  if (p.update) add('Last update', `${p.update.state}: ${p.update.from} → ${p.update.to}${p.update.reason ? ` (${p.update.reason})` : ''}`);
  add('Last exit', p.last_exit);
  if (p.config_error) add('Config error', `${p.config_error.message}${p.config_error.file ? ` (${p.config_error.file}:${p.config_error.line})` : ''}`);
  for (const w of p.warnings || []) add('Warning', w);
  if (!p.sandbox) add('Sandbox', 'not started yet');
  else if (!p.sandbox.enabled) add('Sandbox', 'turned off ([provider.sandbox] enabled = false)');
  else for (const [layer, name] of LAYERS) add(name, p.sandbox[layer]?.detail);
  for (const g of p.grants || []) add('Granted port', portText(g));
  if (p.dropped_components) add('Values withheld (older provider)', p.dropped_components);
  return h('tr.details', { dataset: { details: p.name } },
    h('td', { colspan: 13 }, h('dl.facts', null, items)));
}

async function restart(name) {
  if (!(await confirmDialog(`Restart ${name}?`, 'Its devices are unavailable until it is back.', 'Restart'))) return;
  try {
    await post(`/api/v1/providers/${encodeURIComponent(name)}/restart`);
  } catch (e) {
    if (e.status !== 401) toast(e.message);
  }
}

function drawHost(box, s) {
  const yes = (b) => (b ? 'yes' : 'no');
  replace(box, h('p', null,
    `Host: kernel ${s.kernel}, core ${s.root ? 'runs' : 'does not run'} as root, `,
    `Landlock ABI ${s.landlock ? s.landlock.used_abi : 0}, `,
    `seccomp ${yes(s.seccomp && s.seccomp.available)}, `,
    `cgroups ${yes(s.cgroups && s.cgroups.available)}, `,
    `firewall ${yes(s.firewall && s.firewall.installed)}.`));
  box.title = [s.cgroups?.detail, s.nftables?.detail, s.firewall?.detail].filter(Boolean).join('\n');
}

/** @param {Object} port a Port of GET /api/v1/grants @returns {string} */
function portText(port) {
  const usb = port.usb;
  const what = port.known ? port.known.name : usb ? [usb.manufacturer, usb.product].filter(Boolean).join(' ') || `${usb.vid}:${usb.pid}` : 'on-board UART';
  return `${port.devnode || port.device} (${what})`;
}

async function loadGrants(box) {
  let g;
  try {
    g = await get('/api/v1/grants');
  } catch (e) {
    replace(box, h('p.muted', { text: e.status === 403 ? 'Only the owner can see the serial ports.' : e.message }));
    return;
  }
  const rows = (g.ports || []).map((p) => h('tr', { dataset: { port: p.device } },
    h('th', { scope: 'row', text: p.devnode || p.device }),
    h('td', { 'data-label': 'Device', text: portText(p).replace(/^[^(]*\(|\)$/g, '') }),
    h('td', { 'data-label': 'USB id', text: p.usb ? `${p.usb.vid}:${p.usb.pid}` : '–' }),
    h('td.granted', { 'data-label': 'Granted to' },
      p.provider ? `${p.provider} (grant ${p.grant})` : '–',
      p.provider && p.known && p.known.kind === 'zigbee' ? permitJoinButton(p.provider) : null),
    h('td', { 'data-label': 'Error', text: p.error || '' })));
  const unmatched = Object.entries(g.unmatched || {}).flatMap(([prov, list]) => list.map((t) => `${prov}: ${t}`));
  replace(box,
    rows.length
      ? h('div.table-wrap', null, h('table#grants.responsive', null,
        h('thead', null, h('tr', null, ['Port', 'Device', 'USB id', 'Granted to', 'Error'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, rows)))
      : h('p.muted', { text: 'No serial ports are plugged in.' }),
    h('p.muted.small', { text: `Hot-plug: ${g.hotplug}` }),
    unmatched.map((t) => h('p.warning.small', { text: t })));
}

/** How long the dashboard opens a Zigbee network for joining, in seconds. */
const PERMIT_JOIN_S = 120;

/**
 * The button that opens the Zigbee network of the provider holding a
 * coordinator stick for new devices (its `zigbee.permit_join` command,
 * docs/zigbee.md "Pairing").
 * @param {string} provider its name
 * @returns {HTMLElement}
 */
function permitJoinButton(provider) {
  const button = h('button.permit-join', { type: 'button', text: `Pair devices (${PERMIT_JOIN_S / 60} min)` });
  button.addEventListener('click', () => busy(button, async () => {
    try {
      await post(`/api/v1/providers/${encodeURIComponent(provider)}/command`,
        { command: 'zigbee.permit_join', body: { seconds: PERMIT_JOIN_S } });
      toast(`Zigbee devices can join through ${provider} for ${PERMIT_JOIN_S / 60} minutes: put them in pairing mode now.`, 'info');
    } catch (e) {
      toast(`${provider} cannot open joining: ${e.message}`);
    }
  }));
  return button;
}

// ---- ESPHome -------------------------------------------------------------

/** The provider running igloo-esphome, if any. */
function esphomeProvider() {
  return [...providers.values()].find((p) => (p.exec || '').split('/').pop() === 'igloo-esphome'
    || (p.exec || '').endsWith('igloo-esphome'));
}

function esphomeSection() {
  const result = h('div#esphome-result', { role: 'status' });
  const list = h('div.esphome-list');
  const note = h('p.muted.small');
  const form = h('form#esphome-add.grid-form', null,
    h('label', null, 'Host or IP address', h('input', { name: 'host', required: true, autocomplete: 'off', spellcheck: 'false', placeholder: 'kitchen-sensor.local' })),
    h('label', null, 'Port', h('input', { name: 'port', type: 'number', min: 1, max: 65535, placeholder: '6053' })),
    h('label.wide', null, 'API encryption key (from the device’s YAML; leave empty if it has none)',
      h('input', { name: 'key', autocomplete: 'off', spellcheck: 'false', placeholder: 'base64, 44 characters' })),
    h('button.primary', { type: 'submit', text: 'Add device' }));
  let last = null;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = esphomeProvider();
    if (!p) return;
    const f = fields(form);
    const body = { host: f.host.trim() };
    if (f.port) body.port = Number(f.port);
    if (f.key.trim()) body.key = f.key.trim();
    busy(form, async () => {
      replace(result);
      try {
        const r = await post(`/api/v1/providers/${encodeURIComponent(p.name)}/command`, { command: 'esphome.add', body });
        result.dataset.ok = 'true';
        replace(result, h('p', { text: `Added ${body.host}. It shows under Devices once it answers.` }), summary(r && r.body));
        form.reset();
        refresh(p);
        // The first connection attempt takes a moment: show its outcome.
        setTimeout(() => { if (list.isConnected) refresh(p); }, 3000);
      } catch (e) {
        result.dataset.ok = 'false';
        replace(result, h('p.error', { text: e.message }));
      }
    });
  });
  const refresh = async (p) => {
    try {
      const r = await post(`/api/v1/providers/${encodeURIComponent(p.name)}/command`, { command: 'esphome.status' });
      const devs = (r && r.body && r.body.devices) || [];
      replace(list, devs.length ? h('div.table-wrap', null, h('table#esphome-devices.responsive', null,
        h('thead', null, h('tr', null, ['Device', 'Address', 'State', 'Encrypted', 'Problem'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, devs.map((d) => h('tr', null,
          h('th', { scope: 'row', text: d.name || d.mac || d.address }),
          h('td', { 'data-label': 'Address', text: d.address }),
          h('td', { 'data-label': 'State', text: d.state }),
          h('td', { 'data-label': 'Encrypted', text: d.encrypted ? 'yes' : 'no' }),
          h('td', { 'data-label': 'Problem', text: d.error || (d.last_error ? `last: ${d.last_error}` : '') }))))))
        : h('p.muted.small', { text: 'No ESPHome devices added yet.' }));
    } catch (e) {
      replace(list, h('p.muted.small', { text: `Cannot list ESPHome devices: ${e.message}` }));
    }
  };
  const update = () => {
    const p = esphomeProvider();
    for (const c of form.elements) c.disabled = !p || p.state !== 'running';
    note.textContent = !p
      ? 'No ESPHome provider is configured (a [[provider]] whose exec is igloo-esphome).'
      : p.state !== 'running' ? `The ESPHome provider “${p.name}” is ${p.state.replaceAll('_', ' ')}.` : '';
    if (p && p.state === 'running' && last !== p.name) { last = p.name; refresh(p); }
  };
  const el = h('section#esphome.panel', null, h('h2', { text: 'Add an ESPHome device' }), note, form, result, list);
  return { el, update };
}

/**
 * One line for an ESPHome device's status (esphome.add's reply).
 * @param {*} d {address, state, encrypted, error, …} or anything else the provider said
 * @returns {?HTMLElement}
 */
function summary(d) {
  if (!d || typeof d !== 'object') return d ? h('p.small', { text: String(d) }) : null;
  const text = [`${d.address || ''}: ${d.state || 'added'}`, d.encrypted ? 'encrypted' : 'no encryption', d.error]
    .filter(Boolean).join(' · ');
  return h('p.small', { text });
}
