// One entity of a device card: a control or a value per component. The
// control is chosen by the components present and the entity's attributes
// (`writable`, `options`, `modes`, `effects`, `min`/`max`/`step`,
// `min_mireds`/`max_mireds`). Every control shows the confirmed value from
// state.js and carries data-pending="true" while a request waits.

import { h } from '../dom.js';
import {
  ALERTS, MARKERS, READINGS, VARIANTS, formatValue, label, list, numAttr, variantLabel,
} from '../format.js';
import { confirmDialog } from './dialogs.js';
import { devices, isPending } from '../state.js';
import { send } from '../write.js';
import { sparkline } from './sparkline.js';

/**
 * Order in which components are laid out; others follow alphabetically.
 * Related components stay together (a light's controls, a cover's, a thermostat's).
 */
const ORDER = ['Lock', 'Switch', 'Brightness', 'ColorTemperature', 'Color', 'Effect',
  'CoverState', 'CoverPosition', 'CoverTilt', 'CoverCommand',
  'Temperature', 'TargetTemperature', 'TargetTemperatureLow', 'TargetTemperatureHigh',
  'ClimateMode', 'ClimateAction', 'Humidity',
  'ClimateFanMode', 'ClimateSwingMode', 'ClimatePreset',
  'FanSpeed', 'FanOscillating', 'FanDirection', 'FanPreset', 'Select', 'Number', 'Text', 'ButtonPress'];

/** Slider ranges by component: [min, max, step]; attributes may override. */
const RANGES = {
  Brightness: [0, 100, 1],
  ColorTemperature: [153, 500, 1],
  CoverPosition: [0, 100, 1],
  CoverTilt: [0, 100, 1],
  FanSpeed: [0, 100, 1],
  TargetTemperature: [5, 35, 0.5],
  TargetTemperatureLow: [5, 35, 0.5],
  TargetTemperatureHigh: [5, 35, 0.5],
};

/**
 * What an entity is, from its marker components (or its only value).
 * @param {import('../state.js').Entity} e
 * @returns {'light'|'cover'|'climate'|'fan'|'lock'|'button'|'switch'|'sensor'}
 */
export function entityKind(e) {
  const c = e.components;
  if ('Light' in c) return 'light';
  if ('Cover' in c) return 'cover';
  if ('Climate' in c) return 'climate';
  if ('Fan' in c) return 'fan';
  if ('Lock' in c) return 'lock';
  if ('ButtonPress' in c) return 'button';
  if ('Switch' in c) return 'switch';
  return 'sensor';
}

/**
 * Whether the user may change `comp` on entity `e`: its `writable` attribute
 * lists it (empty = read-only). Without the attribute (older providers, and
 * the core then accepts anything), only what is not a measurement, on an
 * entity that is not a `Sensor`.
 * @param {import('../state.js').Entity} e
 * @param {string} comp
 * @returns {boolean}
 */
export function canWrite(e, comp) {
  const w = e.attributes.writable;
  if (w === undefined || w.trim() === 'true') return !READINGS.has(comp) && !('Sensor' in e.components);
  return list(w).includes(comp);
}

/**
 * Builds the block of one entity.
 * @param {import('../state.js').Device} d
 * @param {string} name entity name
 * @returns {{el: HTMLElement, update: () => void}} update() redraws values and pending marks
 */
export function renderEntity(d, name) {
  const e = d.entities[name];
  const ctx = {
    dev: d.id,
    ent: name,
    entity: e,
    deviceName: d.name,
    /** @param {string} comp @returns {*} the confirmed value now */
    value: (comp) => devices.get(d.id)?.entities[name]?.components[comp],
  };
  // What it reports, and what it can be told before it reported anything
  // (its `writable` list; the cover's and lock's commands have their own rows).
  const declared = e.attributes.writable && e.attributes.writable.trim() !== 'true'
    ? list(e.attributes.writable).filter((c) => c !== 'CoverCommand' && c !== 'LockCommand')
    : [];
  const comps = [...new Set([...Object.keys(e.components), ...declared])];
  const lockWrite = canWrite(e, 'LockCommand') || canWrite(e, 'Lock');
  // LockCommand is part of the Lock row; markers are not values.
  const shown = sortComponents(comps)
    .filter((c) => c !== 'LockCommand' && (!MARKERS.has(c) || c === 'ButtonPress'));
  // A cover commanded through CoverCommand reports only its state.
  const coverCommand = 'Cover' in e.components && !comps.includes('CoverCommand') && canWrite(e, 'CoverCommand');
  const count = shown.length + (coverCommand ? 1 : 0);
  // One row: it is labelled with the entity's name ("Device temperature"), no heading.
  ctx.single = count <= 1 ? name : null;
  const rows = shown.map((comp) => (comp === 'Lock' ? lockRow(ctx, lockWrite) : componentRow(ctx, comp)));
  if (coverCommand) rows.push(coverButtons(ctx));
  if (!count) rows.push({ el: row(ctx, '', h('span.value.muted', { text: '–', title: 'No value reported yet' })), update() {} });
  const kind = entityKind(e);
  const el = h('div.entity', { dataset: { entity: name, kind } },
    count > 1 && h('div.entity-name', { text: name }),
    rows.map((r) => r.el));
  const update = () => { for (const r of rows) r.update(); };
  update();
  return { el, update };
}

function sortComponents(comps) {
  const rank = (c) => { const i = ORDER.indexOf(c); return i < 0 ? ORDER.length : i; };
  return [...comps].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A row: label on the left (the entity's name when it is its only row), the value or control on the right. */
function row(ctx, comp, ...content) {
  return h('div.row', { dataset: { row: comp } }, h('span.label', { text: ctx.single || label(comp) }), ...content);
}

function pendingMark(el, on) {
  if (on) el.dataset.pending = 'true';
  else delete el.dataset.pending;
}

/** String components chosen by name, and the entity attribute listing the names. */
const NAMED_LISTS = {
  Effect: 'effects', FanPreset: 'preset_modes', ClimateFanMode: 'fan_modes',
  ClimateSwingMode: 'swing_modes', ClimatePreset: 'preset_modes',
};

function componentRow(ctx, comp) {
  const e = ctx.entity;
  const writable = canWrite(e, comp);
  if (comp === 'CoverCommand') return coverButtons(ctx);
  if (comp === 'ButtonPress') return pressButton(ctx, writable);
  if (!writable) return reading(ctx, comp);
  const v = ctx.value(comp);
  if (typeof v === 'boolean' || comp === 'Switch' || comp === 'FanOscillating') return toggle(ctx, comp);
  if (comp === 'Color') return colour(ctx);
  if (comp === 'Select') return choice(ctx, comp, list(e.attributes.options));
  if (NAMED_LISTS[comp]) return choice(ctx, comp, list(e.attributes[NAMED_LISTS[comp]]));
  if (comp === 'ClimateMode') return choice(ctx, comp, climateModes(e));
  if (VARIANTS[comp]) return choice(ctx, comp, VARIANTS[comp]);
  if (comp === 'Text') return textInput(ctx);
  if (comp === 'Number') {
    const a = e.attributes;
    if (a.min !== undefined && a.max !== undefined) {
      return slider(ctx, comp, [numAttr(a, 'min', 0), numAttr(a, 'max', 100), numAttr(a, 'step', 1)]);
    }
    return numberInput(ctx);
  }
  if (RANGES[comp]) return slider(ctx, comp, range(e, comp));
  return reading(ctx, comp);
}

function range(e, comp) {
  const a = e.attributes;
  const [min, max, step] = RANGES[comp];
  if (comp === 'ColorTemperature') {
    return [numAttr(a, 'min_mireds', numAttr(a, 'min', min)), numAttr(a, 'max_mireds', numAttr(a, 'max', max)), step];
  }
  if (comp.startsWith('TargetTemperature')) {
    return [numAttr(a, 'min', min), numAttr(a, 'max', max), numAttr(a, 'step', step)];
  }
  return [min, max, step];
}

/** ClimateMode variants the device lists in `modes` (snake_case), else all. */
function climateModes(e) {
  const modes = list(e.attributes.modes).map((m) => m.toLowerCase());
  const snake = (v) => v.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const known = VARIANTS.ClimateMode.filter((v) => modes.includes(snake(v)));
  return known.length ? known : VARIANTS.ClimateMode;
}

// ---- readings ----------------------------------------------------------

function reading(ctx, comp) {
  const unit = ctx.entity.units[comp];
  const value = h('span.value', { 'data-component': comp });
  const numeric = typeof ctx.value(comp) === 'number';
  const spark = numeric ? sparkline(ctx.dev, ctx.ent, comp, unit) : null;
  const update = () => {
    const v = ctx.value(comp);
    value.textContent = formatValue(comp, v, unit);
    if (ALERTS.has(comp) && v === true) value.dataset.alert = 'true';
    else delete value.dataset.alert;
    if (spark) spark.update();
  };
  return { el: row(ctx, comp, h('span.reading', null, value, spark && spark.el)), update };
}

// ---- controls ----------------------------------------------------------

function toggle(ctx, comp) {
  const b = h('button.toggle', {
    type: 'button', 'data-component': comp, 'aria-pressed': 'false',
    'aria-label': `${label(comp)} of ${ctx.ent}`,
    onclick: () => {
      if (isPending(ctx.dev, ctx.ent, comp)) return;
      send(ctx.dev, ctx.ent, { [comp]: !(ctx.value(comp) === true) });
    },
  });
  const update = () => {
    const v = ctx.value(comp);
    const on = v === true;
    b.setAttribute('aria-pressed', String(on));
    // Unknown until the device reports it: not shown as off.
    b.textContent = v === undefined ? '–' : formatValue(comp, on);
    b.title = v === undefined ? 'No state reported yet' : '';
    pendingMark(b, isPending(ctx.dev, ctx.ent, comp));
  };
  return { el: row(ctx, comp, b), update };
}

function slider(ctx, comp, [min, max, step]) {
  const unit = ctx.entity.units[comp];
  const out = h('output.value');
  const input = h('input', {
    type: 'range', min, max, step, 'data-component': comp,
    'aria-label': `${label(comp)} of ${ctx.ent}`,
  });
  let dragging = false;
  input.addEventListener('pointerdown', () => { dragging = true; });
  input.addEventListener('pointerup', () => { dragging = false; });
  input.addEventListener('input', () => {
    out.textContent = formatValue(comp, Number(input.value), unit);
    out.dataset.draft = 'true';
  });
  input.addEventListener('change', async () => {
    dragging = false;
    await send(ctx.dev, ctx.ent, { [comp]: Number(input.value) });
    update();
  });
  const update = () => {
    const pending = isPending(ctx.dev, ctx.ent, comp);
    pendingMark(input, pending);
    if (pending || dragging) return;
    const v = ctx.value(comp);
    if (typeof v === 'number') input.value = String(v);
    out.textContent = formatValue(comp, v, unit);
    delete out.dataset.draft;
  };
  return { el: row(ctx, comp, h('span.slider', null, input, out)), update };
}

function colour(ctx) {
  const input = h('input', {
    type: 'color', 'data-component': 'Color', 'aria-label': `Colour of ${ctx.ent}`,
  });
  input.addEventListener('change', async () => {
    await send(ctx.dev, ctx.ent, { Color: input.value });
    update();
  });
  const update = () => {
    const pending = isPending(ctx.dev, ctx.ent, 'Color');
    pendingMark(input, pending);
    const v = ctx.value('Color');
    if (!pending && typeof v === 'string' && /^#[0-9a-f]{6}$/i.test(v)) input.value = v.toLowerCase();
  };
  return { el: row(ctx, 'Color', input), update };
}

function choice(ctx, comp, options) {
  const select = h('select', { 'data-component': comp, 'aria-label': `${label(comp)} of ${ctx.ent}` },
    options.map((o) => h('option', { value: o, text: VARIANTS[comp] ? variantLabel(o) : o })));
  select.addEventListener('change', async () => {
    await send(ctx.dev, ctx.ent, { [comp]: select.value });
    update();
  });
  const update = () => {
    const pending = isPending(ctx.dev, ctx.ent, comp);
    pendingMark(select, pending);
    if (pending) return;
    const v = String(ctx.value(comp) ?? '');
    if (![...select.options].some((o) => o.value === v)) {
      // A value outside the list (or none yet): shown, not choosable.
      select.querySelector('option[data-extra]')?.remove();
      select.prepend(h('option', { value: v, disabled: true, 'data-extra': 'true', text: v ? formatValue(comp, v) : '–' }));
    }
    select.value = v;
  };
  return { el: row(ctx, comp, select), update };
}

function textInput(ctx) {
  const input = h('input', { type: 'text', 'data-component': 'Text', 'aria-label': `Text of ${ctx.ent}` });
  input.addEventListener('change', async () => {
    await send(ctx.dev, ctx.ent, { Text: input.value });
    update();
  });
  const update = () => {
    const pending = isPending(ctx.dev, ctx.ent, 'Text');
    pendingMark(input, pending);
    if (!pending && document.activeElement !== input) input.value = String(ctx.value('Text') ?? '');
  };
  return { el: row(ctx, 'Text', input), update };
}

function numberInput(ctx) {
  const unit = ctx.entity.units.Number;
  const input = h('input', {
    type: 'number', step: ctx.entity.attributes.step || 'any', 'data-component': 'Number',
    'aria-label': `Number of ${ctx.ent}`,
  });
  input.addEventListener('change', async () => {
    if (input.value === '') return;
    await send(ctx.dev, ctx.ent, { Number: Number(input.value) });
    update();
  });
  const update = () => {
    const pending = isPending(ctx.dev, ctx.ent, 'Number');
    pendingMark(input, pending);
    const v = ctx.value('Number');
    if (!pending && document.activeElement !== input && typeof v === 'number') input.value = String(v);
  };
  return { el: row(ctx, 'Number', input, unit ? h('span.unit', { text: unit }) : null), update };
}

function coverButtons(ctx) {
  const writable = canWrite(ctx.entity, 'CoverCommand');
  let last = '';
  const buttons = VARIANTS.CoverCommand.map((cmd) => h('button.command', {
    type: 'button', 'data-command': cmd, disabled: !writable,
    'aria-label': `${cmd} ${ctx.ent}`, text: cmd,
    onclick: () => { last = cmd; send(ctx.dev, ctx.ent, { CoverCommand: cmd }); },
  }));
  const update = () => {
    const pending = isPending(ctx.dev, ctx.ent, 'CoverCommand');
    for (const b of buttons) pendingMark(b, pending && b.dataset.command === last);
  };
  return { el: row(ctx, 'CoverCommand', h('span.buttons', null, buttons)), update };
}

function pressButton(ctx, writable) {
  const b = h('button.command', {
    type: 'button', 'data-component': 'ButtonPress', disabled: !writable, text: 'Press',
    'aria-label': `Press ${ctx.ent}`,
    onclick: () => send(ctx.dev, ctx.ent, { ButtonPress: true }),
  });
  const update = () => pendingMark(b, isPending(ctx.dev, ctx.ent, 'ButtonPress'));
  return { el: row(ctx, 'ButtonPress', b), update };
}

/**
 * The lock: its confirmed state and Lock/Unlock buttons behind a confirmation.
 * Writes LockCommand Lock/Unlock when the entity lists LockCommand as
 * writable, else Lock Locked/Unlocked.
 */
function lockRow(ctx, writable) {
  const value = h('span.value', { 'data-component': 'Lock' });
  const viaCommand = canWrite(ctx.entity, 'LockCommand');
  const ask = async (action) => {
    const ok = await confirmDialog(
      `${action} ${ctx.deviceName}?`,
      `The ${ctx.ent.toLowerCase() === 'lock' ? 'lock' : `“${ctx.ent}”`} will be ${action === 'Lock' ? 'locked' : 'unlocked'}.`,
      action,
    );
    if (!ok) return;
    if (viaCommand) send(ctx.dev, ctx.ent, { LockCommand: action });
    else send(ctx.dev, ctx.ent, { Lock: action === 'Lock' ? 'Locked' : 'Unlocked' });
  };
  const buttons = ['Lock', 'Unlock'].map((action) => h('button.command', {
    type: 'button', 'data-lock': action, disabled: !writable, text: action,
    'aria-pressed': 'false',
    onclick: () => ask(action),
  }));
  const update = () => {
    const v = ctx.value('Lock');
    value.textContent = formatValue('Lock', v);
    value.dataset.lock = String(v ?? '');
    const pending = isPending(ctx.dev, ctx.ent, 'Lock') || isPending(ctx.dev, ctx.ent, 'LockCommand');
    buttons[0].setAttribute('aria-pressed', String(v === 'Locked'));
    buttons[1].setAttribute('aria-pressed', String(v === 'Unlocked'));
    for (const b of buttons) pendingMark(b, pending);
  };
  return { el: row(ctx, 'Lock', value, h('span.buttons', null, buttons)), update };
}
