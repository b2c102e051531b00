// A sparkline of a component's recent values (state.history), as SVG built
// through the DOM: svg.sparkline[data-component], redrawn by update().

import { svg } from '../dom.js';
import { number } from '../format.js';
import { history, key } from '../state.js';

const W = 100;
const H = 24;

/**
 * Builds a sparkline for one numeric component.
 * @param {number} dev device id
 * @param {string} ent entity name
 * @param {string} comp component name
 * @param {string} [unit]
 * @returns {{el: SVGSVGElement, update: () => void}}
 */
export function sparkline(dev, ent, comp, unit) {
  const line = svg('polyline', { points: '' });
  const title = svg('title');
  const el = svg('svg', {
    class: 'sparkline', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none',
    role: 'img', 'data-component': comp,
  }, title, line);
  const update = () => {
    const pts = history.get(key(dev, ent, comp)) || [];
    if (pts.length < 2) {
      line.setAttribute('points', '');
      title.textContent = 'Not enough history yet';
      el.dataset.points = String(pts.length);
      return;
    }
    const t0 = pts[0][0];
    const t1 = pts[pts.length - 1][0];
    let lo = Infinity;
    let hi = -Infinity;
    for (const [, v] of pts) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const span = hi - lo || 1;
    const dt = t1 - t0 || 1;
    line.setAttribute('points', pts.map(([t, v]) => {
      const x = ((t - t0) / dt) * W;
      const y = H - 2 - ((v - lo) / span) * (H - 4);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    }).join(' '));
    const u = unit ? ` ${unit}` : '';
    const minutes = Math.max(1, Math.round(dt / 60000));
    title.textContent = `Last ${minutes} min: ${number(lo)}–${number(hi)}${u}`;
    el.dataset.points = String(pts.length);
  };
  update();
  return { el, update };
}
