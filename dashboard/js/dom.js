// Small DOM helpers. Everything the page shows is built with createElement
// and textContent: names and values come from devices on the LAN and are
// never parsed as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Builds an element.
 * @param {string} tag tag name, optionally with an id and classes: "form#login.panel"
 * @param {Object<string, *>} [attrs] attributes; `on<event>` keys add
 *   listeners, `text` sets textContent, boolean true sets an empty attribute,
 *   false/null/undefined leaves it out, `dataset` is an object of data-*.
 * @param {...(Node|string|null|undefined|false|Array)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const [head, ...classes] = tag.split('.');
  const [name, id] = head.split('#');
  const el = document.createElement(name);
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  append(el, children); // before the attributes, so that a select's value finds its option
  setAttrs(el, attrs);
  return el;
}

/**
 * Builds an SVG element (same rules as {@link h}).
 * @param {string} tag
 * @param {Object<string, *>} [attrs]
 * @param {...Node} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * Replaces every child of `el`.
 * @param {Element} el
 * @param {...(Node|string|null|undefined|false|Array)} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** @param {string} id @returns {HTMLElement} the element (throws if missing: a bug in index.html) */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}

let toastTimer = 0;

/**
 * Shows `text` in #toast (the last error wins). It fades after a while but
 * keeps its text until the next message.
 * @param {string} text
 * @param {'error'|'info'} [kind]
 */
export function toast(text, kind = 'error') {
  const t = byId('toast');
  t.textContent = text;
  t.dataset.kind = kind;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, kind === 'error' ? 10000 : 4000);
}

/** Hides #toast at once (its text stays). */
export function hideToast() {
  byId('toast').hidden = true;
}

/**
 * Reads a form's named fields as strings.
 * @param {HTMLFormElement} form
 * @returns {Object<string, string>}
 */
export function fields(form) {
  const out = {};
  for (const [k, v] of new FormData(form)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * Marks a button or form busy while `work` runs: disables its submit
 * buttons and sets data-pending="true".
 * @template T
 * @param {HTMLElement} el a form or a button
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function busy(el, work) {
  const buttons = el.matches('form') ? [...el.querySelectorAll('button')] : [el];
  el.dataset.pending = 'true';
  for (const b of buttons) b.disabled = true;
  try {
    return await work();
  } finally {
    delete el.dataset.pending;
    for (const b of buttons) b.disabled = false;
  }
}
