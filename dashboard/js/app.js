// Entry point: decides between onboarding, login and the shell; in the
// shell, keeps the event stream open and routes #/devices, #/providers,
// #/settings and #/system to their pages.

import { api, onUnauthorized } from './api.js';
import { byId, h, hideToast, toast } from './dom.js';
import { connect, disconnect } from './events.js';
import { apply, loadAll, reset } from './state.js';
import { closeDialogs } from './views/dialogs.js';
import { devicesPage } from './views/devices.js';
import { loginPage, onboardingPage } from './views/login.js';
import { providersPage } from './views/providers.js';
import { settingsPage } from './views/settings.js';
import { systemPage } from './views/system.js';

/**
 * Hash → [title, page]. A page draws into the view, gets {me, relogin(notice)}
 * and returns a function that stops its updates.
 */
const PAGES = {
  '#/devices': ['Devices', devicesPage],
  '#/providers': ['Providers', providersPage],
  '#/settings': ['Settings', settingsPage],
  '#/system': ['System', systemPage],
};
const DEFAULT = '#/devices';

const view = byId('view');
let inShell = false;
let stopPage = null;
/** The answer of GET /api/v1/auth/me: {kind, scope, username?} */
let me = null;

/**
 * Shows onboarding or login until a credential works, then the shell.
 * @param {string} [notice] shown above the login form
 */
async function authenticate(notice) {
  leaveShell();
  let mode = 'check';
  for (;;) {
    if (mode === 'check') {
      try {
        const onboarding = await api('GET', '/api/v1/auth/onboarding');
        if (onboarding && onboarding.needed) {
          mode = 'onboarding';
        } else if (!(await credentialed())) {
          mode = 'login';
        } else {
          me = await api('GET', '/api/v1/auth/me', undefined, { quiet401: true });
          enterShell();
          return;
        }
      } catch (e) {
        if (e.status === 401) mode = 'login';
        else { unreachable(e); return; }
      }
    }
    if (mode === 'onboarding') {
      const r = await onboardingPage(view);
      if (r === 'login') notice = 'This gateway has an owner already: log in.';
      mode = r === 'done' ? 'check' : 'login';
    } else if (mode === 'login') {
      const r = await loginPage(view, notice);
      notice = undefined;
      mode = r === 'done' ? 'check' : 'onboarding';
    }
  }
}

/**
 * Whether this browser has a working credential, asked without a 401 (which
 * the console would show as an error): the public health route tells more
 * (the version) only to a client with one.
 * @returns {Promise<boolean>}
 */
async function credentialed() {
  const health = await api('GET', '/api/v1/health', undefined, { quiet401: true });
  return Boolean(health && health.version);
}

function unreachable(e) {
  view.replaceChildren(h('div.panel.narrow', null,
    h('h1', { text: 'Cannot reach the gateway' }),
    h('p.error', { text: e.message }),
    h('button.primary', { type: 'button', text: 'Try again', onclick: () => authenticate() })));
}

function enterShell() {
  inShell = true;
  byId('top').hidden = false;
  byId('logout').hidden = !me || me.kind !== 'session';
  byId('logout').title = me && me.username ? `Logged in as ${me.username}` : '';
  connect({
    event: apply,
    resync: () => loadAll().then(markLive, (e) => { if (e.status !== 401) toast(e.message); }),
    probe: async () => {
      try {
        await api('GET', '/api/v1/auth/me');
        return true;
      } catch (e) {
        return e.status !== 401;
      }
    },
  });
  route();
}

/**
 * The User Timing mark `igloo-live`, once per page load: the data is loaded
 * and the event stream is open (tests/benches/dashboard.rs reads it).
 */
function markLive() {
  if (performance.getEntriesByName('igloo-live').length === 0) performance.mark('igloo-live');
}

function leaveShell() {
  inShell = false;
  disconnect();
  if (stopPage) stopPage();
  stopPage = null;
  closeDialogs();
  reset();
  byId('top').hidden = true;
  hideToast();
}

function route() {
  if (!inShell) return;
  let hash = location.hash;
  if (!PAGES[hash]) {
    hash = DEFAULT;
    history.replaceState(null, '', hash);
  }
  const [title, page] = PAGES[hash];
  if (stopPage) stopPage();
  view.replaceChildren();
  document.title = `${title} · Igloo`;
  for (const a of byId('nav').querySelectorAll('a')) {
    if (a.getAttribute('href') === hash) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  stopPage = page(view, { me, relogin: (notice) => authenticate(notice) }) || null;
}

async function logout() {
  try {
    await api('POST', '/api/v1/auth/logout', {}, { quiet401: true });
  } catch (e) {
    if (e.status !== 401) { toast(e.message); return; }
  }
  authenticate('You are logged out.');
}

onUnauthorized(() => {
  if (inShell) authenticate('Your session has ended: log in again.');
});
byId('logout').addEventListener('click', logout);
byId('toast').addEventListener('click', hideToast);
window.addEventListener('hashchange', route);
authenticate();
