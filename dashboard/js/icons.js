// Line icons (24×24, drawn with the text colour), built as SVG through the DOM.

import { svg } from './dom.js';

const PATHS = {
  light: 'M9 18h6M10 21h4M12 3a6 6 0 0 0-4 10.5c.7.7 1 1.5 1 2.5h6c0-1 .3-1.8 1-2.5A6 6 0 0 0 12 3z',
  switch: 'M12 3v8M6.3 6.3a8 8 0 1 0 11.4 0',
  cover: 'M4 4h16M6 4v16M18 4v16M6 8h12M6 12h12M6 16h12',
  climate: 'M10 14V5a2 2 0 0 1 4 0v9a4 4 0 1 1-4 0zM12 10v6',
  fan: 'M12 11c0-4 5-5 5-2s-3 3.5-5 4M13 12c4 0 5 5 2 5s-3.5-3-4-5M12 13c0 4-5 5-5 2s3-3.5 5-4M11 12c-4 0-5-5-2-5s3.5 3 4 5',
  lock: 'M6 11h12v10H6zM8.5 11V7.5a3.5 3.5 0 0 1 7 0V11',
  sensor: 'M3 12h4l3-7 4 14 3-7h4',
  button: 'M12 5a7 7 0 1 0 0 14a7 7 0 1 0 0-14M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6',
  device: 'M6 3h12v18H6zM10 7h4',
  edit: 'M4 20h4L19 9l-4-4L4 16zM13 7l4 4',
};

/**
 * An icon.
 * @param {keyof PATHS|string} name unknown names give the generic device icon
 * @returns {SVGSVGElement} svg.icon, hidden from screen readers
 */
export function icon(name) {
  return svg('svg', { class: 'icon', viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
    svg('path', { d: PATHS[name] || PATHS.device }));
}
