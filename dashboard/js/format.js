// How component values read: numbers with at most 2 decimals and their unit,
// booleans as words that fit the component, enum variants as labels.
// Component names and kinds follow components.toml.

/** Marker components: they say what an entity is, they hold no value. */
export const MARKERS = new Set(['Light', 'Cover', 'Fan', 'Climate', 'Sensor', 'ButtonPress']);

/**
 * Components that only ever report (measurements and states): shown as
 * values, never as controls, whatever `writable` says.
 */
export const READINGS = new Set(['Temperature', 'Humidity', 'Pressure', 'Illuminance',
  'Power', 'Energy', 'Voltage', 'Current', 'Battery', 'Contact', 'Occupancy', 'Motion',
  'WaterLeak', 'Smoke', 'LinkQuality', 'CoverState', 'Co2', 'Pm25', 'Voc', 'Tamper',
  'BatteryLow', 'Vibration', 'Presence', 'Frequency', 'PowerFactor', 'Action',
  'SoilMoisture', 'Gas', 'ApparentPower', 'ReactivePower', 'ClimateAction', 'Binary']);

/** Write-only components: commands that are never reported back. */
export const COMMANDS = new Set(['CoverCommand', 'LockCommand', 'ButtonPress']);

/** Enum variants (components.toml), in order. */
export const VARIANTS = {
  CoverState: ['Open', 'Closed', 'Opening', 'Closing', 'Stopped'],
  CoverCommand: ['Open', 'Close', 'Stop'],
  FanDirection: ['Forward', 'Reverse'],
  ClimateMode: ['Off', 'Heat', 'Cool', 'Auto', 'HeatCool', 'Dry', 'FanOnly'],
  Lock: ['Locked', 'Unlocked', 'Jammed', 'Locking', 'Unlocking'],
  LockCommand: ['Lock', 'Unlock', 'Open'],
  ClimateAction: ['Off', 'Cooling', 'Heating', 'Idle', 'Drying', 'Fan'],
};

/** Words for true/false of boolean components. */
const BOOL_WORDS = {
  Switch: ['On', 'Off'],
  Contact: ['Closed', 'Open'],
  Occupancy: ['Occupied', 'Clear'],
  Motion: ['Motion', 'Clear'],
  Presence: ['Present', 'Clear'],
  WaterLeak: ['Leak!', 'Dry'],
  Smoke: ['Smoke!', 'Clear'],
  Tamper: ['Tampered!', 'OK'],
  BatteryLow: ['Low!', 'OK'],
  Vibration: ['Vibration', 'Still'],
  FanOscillating: ['Oscillating', 'Fixed'],
};

/** Boolean components whose `true` is a warning (shown in red). */
export const ALERTS = new Set(['WaterLeak', 'Smoke', 'Tamper', 'BatteryLow']);

/** Labels of components whose name is not plain English. */
const LABELS = {
  ColorTemperature: 'Colour temperature', Color: 'Colour', CoverPosition: 'Position',
  CoverTilt: 'Tilt', CoverState: 'State', CoverCommand: 'Move', FanSpeed: 'Speed', FanOscillating: 'Oscillation',
  FanDirection: 'Direction', TargetTemperature: 'Target', TargetTemperatureLow: 'Target low',
  TargetTemperatureHigh: 'Target high', ClimateMode: 'Mode', ClimateAction: 'Now',
  LinkQuality: 'Link quality', WaterLeak: 'Water leak', BatteryLow: 'Battery low',
  Co2: 'CO₂', Pm25: 'PM2.5', Voc: 'VOC', SoilMoisture: 'Soil moisture',
  ApparentPower: 'Apparent power', ReactivePower: 'Reactive power', PowerFactor: 'Power factor',
  Switch: 'Power', Lock: 'Lock', FanPreset: 'Preset', ClimateFanMode: 'Fan',
  ClimateSwingMode: 'Swing', ClimatePreset: 'Preset',
};

/** Labels of enum variants that are run together. */
const VARIANT_LABELS = { HeatCool: 'Heat/Cool', FanOnly: 'Fan only' };

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2, useGrouping: false });

/**
 * @param {string} comp component name
 * @returns {string} a short human label ("Colour temperature")
 */
export const label = (comp) => LABELS[comp] || comp.replace(/([a-z])([A-Z])/g, '$1 $2');

/** @param {string} variant e.g. "HeatCool" @returns {string} "Heat/Cool" */
export const variantLabel = (variant) => VARIANT_LABELS[variant] || variant;

/**
 * A number with at most 2 decimals in the browser's locale, without grouping.
 * @param {number} n
 * @returns {string}
 */
export const number = (n) => numberFormat.format(n);

/**
 * The text of one component value, with its unit.
 * @param {string} comp component name
 * @param {*} value as the API gives it (number, bool, "#rrggbb", variant, text)
 * @param {string} [unit] from the entity's `units`
 * @returns {string} e.g. "21.5 °C", "Closed", "#ff8800"
 */
export function formatValue(comp, value, unit) {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'boolean') {
    const words = BOOL_WORDS[comp] || ['On', 'Off'];
    return value ? words[0] : words[1];
  }
  if (typeof value === 'number') {
    // Percentages are whole numbers (a scaled 0-254 brightness gives 70.87).
    const n = unit === '%' ? Math.round(value) : value;
    return unit ? `${number(n)} ${unit}` : number(n);
  }
  if (VARIANTS[comp]) return variantLabel(String(value));
  if (value === '') return '–';
  return String(value);
}

/**
 * A list attribute ("a,b,c") as an array; empty entries dropped.
 * @param {string|undefined} text
 * @returns {string[]}
 */
export const list = (text) => (text || '').split(',').map((s) => s.trim()).filter(Boolean);

/**
 * A number attribute (attributes are strings), or `fallback`.
 * @param {Object<string,string>} attrs @param {string} name @param {number} fallback
 * @returns {number}
 */
export function numAttr(attrs, name, fallback) {
  const n = Number.parseFloat(attrs[name]);
  return Number.isFinite(n) ? n : fallback;
}

/**
 * "3 min ago" style text for a Unix time in seconds or milliseconds.
 * @param {?number} t
 * @param {'s'|'ms'} [scale]
 * @returns {string}
 */
export function when(t, scale = 's') {
  if (t === null || t === undefined) return '–';
  const d = new Date(scale === 's' ? t * 1000 : t);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
