// #/system: the gateway's version, system updates (RAUC slots, this boot's
// health check, a running install live from `ota` events, the history),
// installing an update from a URL or an uploaded bundle, and the Wi-Fi
// network (views/wifi.js).

import { api, get } from '../api.js';
import { busy, fields, h, replace, toast } from '../dom.js';
import { when } from '../format.js';
import { confirmDialog } from './dialogs.js';
import { loadOta, ota, subscribe } from '../state.js';
import { wifiSection } from './wifi.js';

/**
 * Draws the system page into `root`.
 * @param {HTMLElement} root
 * @param {{me: ?Object}} ctx
 * @returns {() => void} stops updating
 */
export function systemPage(root, ctx) {
  const about = h('p.muted');
  const box = h('div#ota', { 'aria-live': 'polite' }, h('p.muted', { text: 'Loading…' }));
  root.append(
    h('div.page-head', null, h('h1', { text: 'System' }), about),
    h('section.panel', null, h('h2', { text: 'System update' }), box),
    h('section.panel', null, h('h2', { text: 'Install an update' }),
      h('p.muted.small', { text: 'A RAUC bundle goes into the other slot and runs after the next reboot; the gateway goes back if it is not healthy.' }),
      urlForm(), uploadForm()),
    wifiSection(ctx.me),
  );
  get('/api/v1/health').then((s) => {
    about.textContent = `Igloo ${s.version || ''} · ${s.devices ?? 0} devices · ${s.providers ? `${s.providers.running}/${s.providers.total}` : '?'} providers running`;
  }).catch(() => {});
  loadOta().catch((e) => replace(box, h('p.error', { text: e.message })));
  let lastFinished = null;
  return subscribe((c) => {
    if (c.kind !== 'ota' || !ota) return;
    drawOta(box, ota);
    const hist = ota.history || [];
    const last = hist[hist.length - 1];
    const id = last ? `${last.kind}/${last.id}/${last.at_ms}` : '';
    if (last && lastFinished !== null && id !== lastFinished && last.kind === 'install') {
      if (last.result === 'installed') toast(`Update ${last.version || ''} installed: it runs after the next reboot.`, 'info');
      else toast(last.summary || last.reason || 'The update failed.');
    }
    lastFinished = id;
  });
}

/**
 * Draws GET /api/v1/ota's answer.
 * @param {HTMLElement} box
 * @param {Object} o
 */
function drawOta(box, o) {
  const parts = [];
  if (!o.available) {
    parts.push(h('p', { 'data-available': 'false', text: `Updates are not available here: ${o.unavailable_reason || 'unknown reason'}.` }));
  } else {
    parts.push(h('p', { 'data-available': 'true' },
      `Running slot ${o.booted || '?'}`,
      o.boot_order ? `; next boot tries ${o.boot_order.join(', ')}` : '',
      o.pending_mark_good ? '; this boot still waits to be marked good.' : '.'));
    parts.push(h('div.table-wrap', null, h('table.responsive', null,
      h('thead', null, h('tr', null, ['Slot', 'State', 'Version', 'Installed', 'Boot', 'Tries left'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, (o.slots || []).map((s) => h('tr', { dataset: { slot: s.bootname } },
        h('th', { scope: 'row', text: `${s.bootname}${s.primary ? ' (next)' : ''}` }),
        h('td', { 'data-label': 'State', text: s.state }),
        h('td', { 'data-label': 'Version', text: s.version || '–' }),
        h('td', { 'data-label': 'Installed', text: s.installed || '–' }),
        h('td', { 'data-label': 'Boot', text: s.boot_status || '–' }),
        h('td', { 'data-label': 'Tries left', text: s.tries_left ?? '–' })))))));
  }
  if (o.health) {
    parts.push(h('p.small', { 'data-health': o.health.state },
      `Health check: ${o.health.state.replaceAll('_', ' ')}`,
      o.health.detail ? ` — ${o.health.detail}` : '',
      o.health_check_ms ? ` (${(o.health_check_ms / 1000).toFixed(1)} s)` : ''));
  }
  if (o.install) {
    const i = o.install;
    parts.push(h('div.install', { 'data-phase': i.phase },
      h('p', { text: `Install ${i.id} of ${i.source}: ${i.phase}${i.step ? ` — ${i.step}` : ''}` }),
      h('progress', { max: 100, value: i.percent ?? 0, 'aria-label': 'Install progress' })));
  }
  const hist = [...(o.history || [])].reverse();
  if (hist.length) {
    parts.push(h('h3', { text: 'History' }), h('ul.history', null, hist.map((r) => h('li', { dataset: { result: r.result || '' } },
      r.summary || `${r.kind} ${r.result || ''} ${r.at || when(r.at_ms, 'ms')}`))));
  }
  for (const e of o.errors || []) parts.push(h('p.warning.small', { text: e }));
  replace(box, parts);
}

async function start(form, what, body) {
  if (!(await confirmDialog('Install this update?', `${what} is installed into the other slot; the gateway keeps running and uses it after the next reboot.`, 'Install'))) return;
  await busy(form, async () => {
    try {
      const r = await api('POST', '/api/v1/ota/install', body);
      toast(`Install ${r && r.id !== undefined ? r.id : ''} started.`, 'info');
      form.reset();
      loadOta().catch(() => {});
    } catch (e) {
      if (e.status !== 401) toast(e.message);
    }
  });
}

function urlForm() {
  const form = h('form#ota-install.inline', null,
    h('input', { name: 'url', type: 'url', required: true, pattern: 'http://.*', placeholder: 'http://server/bundle.raucb', 'aria-label': 'Bundle URL', spellcheck: 'false' }),
    h('button', { type: 'submit', text: 'Install from URL' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const { url } = fields(form);
    start(form, url.trim(), { url: url.trim() });
  });
  return form;
}

function uploadForm() {
  const form = h('form#ota-upload.inline', null,
    h('input', { name: 'bundle', type: 'file', required: true, accept: '.raucb', 'aria-label': 'Bundle file' }),
    h('button', { type: 'submit', text: 'Upload and install' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const file = form.elements.bundle.files[0];
    if (!file) return;
    start(form, file.name, file);
  });
  return form;
}
