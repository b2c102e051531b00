// The pages before the shell: onboarding (the owner's account, with the
// setup code the gateway printed) and login. Both show the server's
// "error" text, including a rate limit's.

import { api } from '../api.js';
import { fields, h } from '../dom.js';

/**
 * Error text for a failed login or onboarding: the server's text; for a 429
 * whose text does not say how long to wait, the Retry-After seconds.
 * @param {import('../api.js').ApiError} e
 * @returns {string}
 */
function errorText(e) {
  const retry = e.status === 429 && e.headers && Number(e.headers.get('Retry-After'));
  return retry && !/try again/i.test(e.message) ? `${e.message} (try again in ${retry} s)` : e.message;
}

/**
 * Shows form#login in `root`; resolves once logged in.
 * @param {HTMLElement} root
 * @param {string} [notice] why the login is shown (e.g. the session ended)
 * @returns {Promise<'done'|'onboarding'>} 'onboarding' when the gateway has no owner yet
 */
export function loginPage(root, notice) {
  return new Promise((resolve) => {
    const error = h('p#login-error.error', { role: 'alert' });
    const form = h('form#login.panel.narrow', null,
      h('h1', { text: 'Log in to Igloo' }),
      notice && h('p.muted', { text: notice }),
      h('label', null, 'User name',
        h('input', { name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' })),
      h('label', null, 'Password',
        h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
      error,
      h('button.primary', { type: 'submit', text: 'Log in' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const { username, password } = fields(form);
      error.textContent = '';
      form.dataset.pending = 'true';
      try {
        await api('POST', '/api/v1/auth/login', { username, password }, { quiet401: true });
        resolve('done');
      } catch (e) {
        if (e.status === 409) { resolve('onboarding'); return; }
        error.textContent = errorText(e);
        form.elements.password.select();
      } finally {
        delete form.dataset.pending;
      }
    });
    root.replaceChildren(form);
    form.elements.username.focus();
  });
}

/**
 * Shows form#onboarding in `root` (a new gateway has no owner yet);
 * resolves once the account is made (the answer carries a session cookie).
 * @param {HTMLElement} root
 * @returns {Promise<'done'|'login'>} 'login' when an owner exists already
 */
export function onboardingPage(root) {
  return new Promise((resolve) => {
    const error = h('p#onboarding-error.error', { role: 'alert' });
    const form = h('form#onboarding.panel.narrow', null,
      h('h1', { text: 'Welcome to Igloo' }),
      h('p.muted', { text: 'Make the owner’s account. The setup code is on the gateway’s screen or serial console (show-setup-code), or in its data directory (setup-code).' }),
      h('label', null, 'Setup code',
        h('input', { name: 'code', required: true, autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', placeholder: 'ABCD-EFGH-JKMN' })),
      h('label', null, 'User name',
        h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 64, autocapitalize: 'none', spellcheck: 'false' })),
      h('label', null, 'Password (at least 8 characters)',
        h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 1024 })),
      error,
      h('button.primary', { type: 'submit', text: 'Create account' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const { code, username, password } = fields(form);
      error.textContent = '';
      form.dataset.pending = 'true';
      try {
        await api('POST', '/api/v1/auth/onboarding', { setup_code: code, username, password }, { quiet401: true });
        resolve('done');
      } catch (e) {
        if (e.status === 409) { resolve('login'); return; }
        error.textContent = errorText(e);
      } finally {
        delete form.dataset.pending;
      }
    });
    root.replaceChildren(form);
    form.elements.code.focus();
  });
}
