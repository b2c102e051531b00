// The Wi-Fi panel of #/system (admin only): the network the gateway joins as
// GET /api/v1/wifi tells it (the file the image's wpa_supplicant reads, and
// the interface's link), a form that sets it (PUT) and a button that forgets
// it (DELETE), docs/api.md. The password goes from its field into the PUT
// body and nowhere else: the field is emptied as soon as it is read; it is
// never in a URL, an attribute, storage or a log line.

import { del, get, put } from '../api.js';
import { busy, fields, h, replace } from '../dom.js';
import { confirmDialog } from './dialogs.js';

const PATH = '/api/v1/wifi';
/** The fields a 422 names first ("<field>: <what is wrong>"). */
const FIELDS = ['ssid', 'password', 'country'];
const SECURITY = { 'wpa-psk': 'password (WPA-PSK)', open: 'open (no password)' };

/**
 * The Wi-Fi section. A credential that is not admin sees only why it sees
 * nothing (the routes are admin only).
 * @param {?{scope?: string}} me the answer of GET /api/v1/auth/me
 * @returns {HTMLElement}
 */
export function wifiSection(me) {
  const body = h('div#wifi-body', null, h('p.muted', { text: 'Loading…' }));
  const section = h('section#wifi.panel', null, h('h2', { text: 'Wi-Fi' }),
    h('p.muted.small', { text: 'The wireless network the gateway joins. A wired network needs nothing here.' }),
    body);
  if (me && me.scope !== 'admin') {
    replace(body, notAllowed());
  } else {
    get(PATH).then((s) => panel(body, s), (e) => {
      if (e.status === 404) replace(body, h('p#wifi-unmanaged', { text: 'Wi-Fi is not managed by this gateway: its igloo.toml has no [wifi] section, so its network is set up outside Igloo (docs/configuration.md).' }));
      else if (e.status === 403) replace(body, notAllowed());
      else if (e.status !== 401) replace(body, h('p.error', { text: e.message }));
    });
  }
  return section;
}

function notAllowed() {
  return h('p#wifi-not-allowed.muted', { text: 'Only the owner can see and change the Wi-Fi network (it needs an admin credential).' });
}

/**
 * Draws the status, the form and the forget button into `body`.
 * @param {HTMLElement} body
 * @param {Object} first the first GET answer
 */
function panel(body, first) {
  const status = h('div#wifi-status', { 'aria-live': 'polite' });
  const result = h('p#wifi-result.small', { role: 'status' });
  const forget = h('button#wifi-forget.danger', { type: 'button', text: 'Forget network' });
  const form = networkForm(first);
  let current = first;
  const show = (s) => {
    current = s;
    drawStatus(status, s);
    forget.hidden = s.file === 'absent';
    form.elements.force.closest('label').hidden = s.file !== 'other';
    form.elements.force.checked = false;
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = fields(form);
    form.elements.password.value = '';
    submit(form, f, result).then((s) => {
      if (!s) return;
      show(s);
      form.elements.country.value = s.country || f.country;
    });
  });
  forget.addEventListener('click', async () => {
    const name = current.ssid ? `“${current.ssid}”` : 'the network';
    const other = current.file === 'other';
    const text = `The gateway leaves ${name} at once and stays off Wi-Fi until a network is set again; if Wi-Fi is its only connection, this page loses it too.${other ? ' The file was not written by Igloo: it is removed all the same.' : ''}`;
    if (!(await confirmDialog('Forget the Wi-Fi network?', text, 'Forget'))) return;
    await busy(forget, async () => {
      result.textContent = '';
      try {
        const r = await del(other ? `${PATH}?force=true` : PATH);
        result.textContent = !r.removed ? 'There was no network to forget.'
          : r.reloaded ? 'Forgotten: the gateway has left the network.'
            : `Forgotten (${r.reload_detail}).`;
        show(r);
      } catch (e) {
        if (e.status !== 401) result.textContent = e.message;
      }
    });
  });
  show(first);
  replace(body, status, h('h3', { text: 'Set the network' }), form, result, forget);
}

/**
 * Draws one GET answer: the network, the country, the security and the link.
 * @param {HTMLElement} box
 * @param {Object} s
 */
function drawStatus(box, s) {
  const network = s.configured
    ? (s.ssid ?? `not UTF-8 (hex ${s.ssid_hex})`)
    : 'Not configured: the gateway joins no Wi-Fi network.';
  const link = s.link || {};
  const addresses = (link.addresses || []).join(', ');
  const linkText = !link.present ? `${s.interface} is not present (no Wi-Fi adapter seen)`
    : `${s.interface}: ${link.operstate || 'unknown'}${addresses ? `, ${addresses}` : ', no address'}`;
  const fact = (dt, field, text) => [h('dt', { text: dt }), h('dd', { dataset: { field }, text })];
  replace(box,
    h('dl#wifi-facts.facts', { dataset: { file: s.file, configured: String(s.configured) } },
      fact('Network', 'ssid', network),
      s.configured && fact('Security', 'security', SECURITY[s.security] || s.security || 'unknown'),
      s.configured && fact('Country', 'country', s.country || 'not set'),
      fact('Interface', 'link', linkText)),
    s.file === 'other' && h('p#wifi-file-problem.warning.small', {
      text: `The file was not written by Igloo (${s.file_problem}). It is left alone unless you tick “Replace that file” below, or forget the network.`,
    }));
}

/**
 * The form that sets the network; the SSID, country and security are taken
 * from `s`. Each field has its error line under it (`#wifi-<field>-error`).
 * @param {Object} s a GET answer
 * @returns {HTMLFormElement}
 */
function networkForm(s) {
  const error = (name) => h(`p#wifi-${name}-error.error.small`, { 'aria-live': 'polite' });
  const field = (label, name, attrs) => h('div.field', null,
    h('label', null, label, h('input', { name, 'aria-describedby': `wifi-${name}-error`, ...attrs })),
    error(name));
  const open = h('input', { type: 'checkbox', name: 'open', checked: s.security === 'open' });
  const form = h('form#wifi-set.grid-form', { autocomplete: 'off' },
    field('Network name (SSID)', 'ssid', { required: true, maxlength: 32, spellcheck: 'false', value: s.ssid || '' }),
    field('Password (8–63 characters)', 'password', { type: 'password', autocomplete: 'new-password', maxlength: 64, disabled: open.checked }),
    field('Country (two letters, e.g. NL)', 'country', {
      required: true, maxlength: 2, pattern: '[A-Za-z]{2}|00', spellcheck: 'false', value: s.country || '',
      title: 'ISO 3166-1 alpha-2 (NL, DE, US …), or 00 for world-wide rules',
    }),
    h('label.check', null, open, 'Open network (no password)'),
    h('label.check.wide', { hidden: true }, h('input', { type: 'checkbox', name: 'force' }), 'Replace that file (it was not written by Igloo)'),
    h('p#wifi-error.error.small.wide', { 'aria-live': 'polite' }),
    h('button.primary', { type: 'submit', text: 'Save network' }));
  open.addEventListener('change', () => {
    const pw = form.elements.password;
    pw.disabled = open.checked;
    if (open.checked) pw.value = '';
  });
  return form;
}

/**
 * Sends the form's network; shows a 422 at the field it names, any other
 * refusal under the form, and the outcome in `result`.
 * @param {HTMLFormElement} form
 * @param {Object<string,string>} f the fields, read before the password was cleared
 * @param {HTMLElement} result
 * @returns {Promise<?Object>} the PUT answer, null when refused
 */
async function submit(form, f, result) {
  for (const name of [...FIELDS, 'other']) {
    const p = form.querySelector(name === 'other' ? '#wifi-error' : `#wifi-${name}-error`);
    p.textContent = '';
    if (name !== 'other') form.elements[name].removeAttribute('aria-invalid');
  }
  result.textContent = '';
  const open = f.open === 'on';
  if (!open && !f.password) {
    fieldError(form, 'password', 'Type the network’s password, or tick “Open network”.');
    return null;
  }
  const body = { ssid: f.ssid, password: open ? null : f.password, country: f.country.trim() };
  if (f.force === 'on') body.force = true;
  return busy(form, async () => {
    try {
      const r = await put(PATH, body);
      result.textContent = r.reloaded
        ? `Saved: the gateway is joining “${r.ssid ?? f.ssid}” now.`
        : `Saved “${r.ssid ?? f.ssid}”: ${r.reload_detail}.`;
      return r;
    } catch (e) {
      if (e.status === 401) return null;
      const m = /^(\w+): (.*)$/s.exec(e.message);
      if (e.status === 422 && m && FIELDS.includes(m[1])) fieldError(form, m[1], m[2]);
      else form.querySelector('#wifi-error').textContent = e.message;
      return null;
    }
  });
}

/**
 * Shows `text` under field `name` and marks it invalid.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @param {string} text
 */
function fieldError(form, name, text) {
  form.querySelector(`#wifi-${name}-error`).textContent = text;
  const input = form.elements[name];
  input.setAttribute('aria-invalid', 'true');
  input.focus();
}
