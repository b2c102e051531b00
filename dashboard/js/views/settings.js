// #/settings: API tokens (list, create — shown once —, revoke), the broker
// account for a Zigbee2MQTT bridge, the owner's password and sessions.

import { api, del, get, post } from '../api.js';
import { busy, fields, h, replace, toast } from '../dom.js';
import { when } from '../format.js';
import { confirmDialog } from './dialogs.js';

const SCOPES = [
  ['read', 'read — see devices and providers'],
  ['control', 'control — read and change devices'],
  ['admin', 'admin — everything'],
];

/**
 * Draws the settings page into `root`.
 * @param {HTMLElement} root
 * @param {{me: ?Object, relogin: (notice: string) => void}} ctx
 */
export function settingsPage(root, ctx) {
  const who = ctx.me && ctx.me.username ? `Logged in as ${ctx.me.username}.` : '';
  root.append(
    h('div.page-head', null, h('h1', { text: 'Settings' }), h('p.muted', { text: who })),
    tokensSection(),
    brokerSection(),
    passwordSection(ctx),
    sessionsSection(ctx),
  );
}

function fail(e) {
  if (e.status !== 401) toast(e.message);
}

// ---- tokens ------------------------------------------------------------

function tokensSection() {
  const body = h('tbody');
  const table = h('table#tokens.responsive', null,
    h('thead', null, h('tr', null, ['Name', 'Scope', 'Created', 'Last used', ''].map((t) => h('th', { scope: 'col', text: t })))),
    body);
  const fresh = h('div#token-new', { hidden: true, role: 'status' });
  const form = h('form#token-create.inline', null,
    h('input', { name: 'name', required: true, maxlength: 64, placeholder: 'Name, e.g. wall display', 'aria-label': 'Token name', autocomplete: 'off' }),
    h('select', { name: 'scope', 'aria-label': 'Scope' }, SCOPES.map(([v, t]) => h('option', { value: v, text: t }))),
    h('button', { type: 'submit', text: 'Create token' }));

  const load = async () => {
    try {
      const tokens = await get('/api/v1/auth/tokens');
      replace(body, tokens.length ? tokens.map(tokenRow) : h('tr', null, h('td.muted', { colspan: 5, text: 'No tokens.' })));
    } catch (e) {
      replace(body, h('tr', null, h('td.muted', { colspan: 5, text: e.message })));
    }
  };
  const tokenRow = (t) => h('tr', { dataset: { token: t.id } },
    h('th', { scope: 'row', text: t.name }),
    h('td', { 'data-label': 'Scope', text: t.scope }),
    h('td', { 'data-label': 'Created', text: when(t.created) }),
    h('td', { 'data-label': 'Last used', text: t.last_used ? when(t.last_used) : 'not since the start' }),
    h('td.actions', null, h('button.quiet.small.danger', {
      type: 'button', text: 'Revoke', 'data-revoke': t.id,
      onclick: async () => {
        if (!(await confirmDialog(`Revoke “${t.name}”?`, 'Programs using it lose access at once.', 'Revoke'))) return;
        try { await del(`/api/v1/auth/tokens/${encodeURIComponent(t.id)}`); } catch (e) { fail(e); }
        load();
      },
    })));

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const { name, scope } = fields(form);
    busy(form, async () => {
      try {
        const t = await post('/api/v1/auth/tokens', { name: name.trim(), scope });
        const code = h('code.secret', { text: t.token });
        replace(fresh,
          h('p', null, h('strong', { text: `Token “${t.name}” (${t.scope}). ` }), 'Copy it now: it is not shown again.'),
          h('div.secret-row', null, code, copyButton(t.token)),
          h('button.quiet.small', { type: 'button', text: 'Done', onclick: () => { replace(fresh); fresh.hidden = true; } }));
        fresh.hidden = false;
        form.reset();
        load();
      } catch (e) { fail(e); }
    });
  });
  load();
  return h('section.panel', null, h('h2', { text: 'API tokens' }),
    h('p.muted.small', { text: 'For programs and the igloo command line. Each token has one scope and can be revoked.' }),
    h('div.table-wrap', null, table), fresh, form);
}

/**
 * A button that copies `text` (the clipboard needs a secure context: on
 * plain http over the LAN it selects the text for a manual copy instead).
 * @param {string} text
 * @returns {HTMLButtonElement}
 */
function copyButton(text) {
  const b = h('button.small', { type: 'button', text: 'Copy' });
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch {
      const code = b.parentElement.querySelector('code');
      code.dataset.concealed = 'false';
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      b.textContent = 'Selected: press Ctrl+C';
    }
  });
  return b;
}

// ---- broker --------------------------------------------------------------

function brokerSection() {
  const box = h('div#mqtt-credentials', null, h('p.muted', { text: 'Loading…' }));
  get('/api/v1/mqtt/credentials').then((c) => {
    const host = location.hostname;
    const secret = h('code.secret', { text: c.password, 'data-concealed': 'true' });
    const reveal = h('button.small', {
      type: 'button', text: 'Show',
      onclick: () => {
        const hide = secret.dataset.concealed !== 'true';
        secret.dataset.concealed = String(hide);
        reveal.textContent = hide ? 'Show' : 'Hide';
      },
    });
    replace(box,
      h('dl.facts', null,
        h('dt', { text: 'Server' }), h('dd', { text: `mqtt://${host}:${c.port}` }),
        h('dt', { text: 'User' }), h('dd', null, h('code', { text: c.username })),
        h('dt', { text: 'Password' }), h('dd', null, h('div.secret-row', null, secret, reveal, copyButton(c.password))),
        h('dt', { text: 'Base topic' }), h('dd', { text: c.base_topic })),
      h('details', null, h('summary.small', { text: 'As Zigbee2MQTT configuration.yaml' }),
        h('pre.small', { text: `mqtt:\n  server: mqtt://${host}:${c.port}\n  user: ${c.username}\n  password: ${c.password}\n  base_topic: ${c.base_topic}` })));
  }).catch((e) => {
    replace(box, h('p.muted', { text: e.status === 404 ? 'This gateway has no broker account (it is made on the appliance’s first boot).' : e.message }));
  });
  return h('section.panel', null, h('h2', { text: 'MQTT broker' }),
    h('p.muted.small', { text: 'The account a Zigbee2MQTT bridge uses to reach the gateway’s broker.' }),
    box);
}

// ---- password and sessions ----------------------------------------------

function passwordSection(ctx) {
  const error = h('p.error', { role: 'alert' });
  const form = h('form#password.grid-form', null,
    h('input', { type: 'text', name: 'username', autocomplete: 'username', hidden: true, value: ctx.me?.username || '' }),
    h('label', null, 'Current password', h('input', { name: 'current', type: 'password', required: true, autocomplete: 'current-password' })),
    h('label', null, 'New password (at least 8 characters)', h('input', { name: 'password', type: 'password', required: true, minlength: 8, maxlength: 1024, autocomplete: 'new-password' })),
    h('label', null, 'New password again', h('input', { name: 'again', type: 'password', required: true, autocomplete: 'new-password' })),
    error,
    h('button', { type: 'submit', text: 'Change password' }));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = fields(form);
    error.textContent = '';
    if (f.password !== f.again) { error.textContent = 'The new passwords differ.'; return; }
    busy(form, async () => {
      try {
        // A wrong current password is a 401 too: shown here, not as a lost session.
        await api('POST', '/api/v1/auth/password', { current: f.current, password: f.password }, { quiet401: true });
        ctx.relogin('Your password is changed and every session ended: log in with the new one.');
      } catch (e) {
        error.textContent = e.message;
        if (e.status === 401) form.elements.current.select();
      }
    });
  });
  return h('section.panel', null, h('h2', { text: 'Password' }),
    h('p.muted.small', { text: 'Changing it logs out every browser, this one too.' }), form);
}

function sessionsSection(ctx) {
  const info = h('p.muted.small', { text: 'Loading…' });
  get('/api/v1/auth/sessions')
    .then((list) => { info.textContent = `${list.length} browser session(s) are logged in.`; })
    .catch((e) => { info.textContent = e.message; });
  const end = h('button#end-sessions.danger', {
    type: 'button', text: 'Log out everywhere',
    onclick: async () => {
      if (!(await confirmDialog('Log out every browser?', 'Every session ends, this one too. Tokens stay valid.', 'Log out all'))) return;
      try {
        await del('/api/v1/auth/sessions');
        ctx.relogin('Every session ended.');
      } catch (e) { fail(e); }
    },
  });
  return h('section.panel', null, h('h2', { text: 'Sessions' }), info, end);
}
