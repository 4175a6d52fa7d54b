// chart.js: a small live chart of active sessions by call state, as stacked areas
// over the last minutes. Hand-written SVG: the paths scale with the card (the
// viewBox is stretched), while labels are HTML so text never distorts.

import { h, s } from './dom.js';

/** The stacked states, bottom first, with the labels the legend shows. */
const SERIES = [
  { state: 'Connected', label: 'Connected' },
  { state: 'Hold', label: 'On hold' },
  { state: 'Ringing', label: 'Ringing' },
  { state: 'Passive', label: 'Passive' },
];

const W = 600;
const H = 120;
const MIN_SPAN_MS = 60_000;

export class StateChart {
  /**
   * @param {HTMLElement} root    where the chart draws
   * @param {HTMLElement} legend  where the legend (with current counts) goes
   * @param {{windowMs?: number, sampleMs?: number}} [opts]
   */
  constructor(root, legend, { windowMs = 10 * 60_000, sampleMs = 3000 } = {}) {
    this.root = root;
    this.legendEl = legend;
    this.windowMs = windowMs;
    this.sampleMs = sampleMs;
    this.samples = []; // {t, counts}
    this.timer = 0;

    this.svg = s('svg', {
      class: 'chart-svg', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none',
      role: 'img', 'aria-label': 'No data yet',
    });
    this.grid = s('g', { class: 'chart-grid' });
    this.areas = SERIES.map((x) => s('path', { class: `area st-${x.state.toLowerCase()}` }));
    this.lines = SERIES.map((x) => s('path', { class: `line st-${x.state.toLowerCase()}`, 'vector-effect': 'non-scaling-stroke' }));
    this.svg.append(this.grid, ...this.areas, ...this.lines);
    this.yMax = h('span', { class: 'chart-ymax' });
    this.axisStart = h('span', {});
    root.replaceChildren(
      h('div', { class: 'chart-plot' }, this.svg, this.yMax),
      h('div', { class: 'chart-axis', 'aria-hidden': 'true' }, this.axisStart, h('span', {}, 'now')),
    );
    this.legendCounts = new Map();
    legend.replaceChildren(...SERIES.map((x) => {
      const n = h('span', { class: 'legend-n' }, '0');
      this.legendCounts.set(x.state, n);
      return h('span', { class: `legend-item st-${x.state.toLowerCase()}` },
        h('span', { class: 'swatch', 'aria-hidden': 'true' }), x.label, n);
    }));
    this.draw(Date.now());
  }

  /** start samples getCounts() now and every sampleMs; getCounts returns counts by call state, or null before data. */
  start(getCounts) {
    this.stop();
    const take = () => {
      const c = getCounts();
      if (c) this.sample(c);
    };
    take();
    this.timer = setInterval(take, this.sampleMs);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = 0;
  }

  sample(counts, t = Date.now()) {
    this.samples.push({ t, counts: { ...counts } });
    const cutoff = t - this.windowMs - this.sampleMs;
    while (this.samples.length > 2 && this.samples[1].t < cutoff) this.samples.shift();
    this.draw(t);
  }

  draw(now) {
    const pts = this.samples;
    // The time axis grows with the history (at least a minute) up to the window,
    // so a freshly opened board shows its first minutes across the whole card.
    const span = Math.min(this.windowMs, Math.max(MIN_SPAN_MS, now - (pts[0]?.t ?? now)));
    const start = now - span;
    const mins = Math.round(span / 60_000);
    this.axisStart.textContent = mins <= 1 ? '1 min ago' : `${mins} min ago`;
    let max = 0;
    for (const p of pts) max = Math.max(max, SERIES.reduce((n, x) => n + (p.counts[x.state] ?? 0), 0));
    const top = niceMax(max);
    const x = (t) => ((Math.max(t, start) - start) / span) * W;
    const y = (v) => H - (v / top) * (H - 4);

    // Cumulative tops per series, per sample.
    const stacks = pts.map((p) => {
      let acc = 0;
      return SERIES.map((ser) => (acc += p.counts[ser.state] ?? 0));
    });
    SERIES.forEach((_, k) => {
      if (pts.length === 0) {
        this.areas[k].setAttribute('d', '');
        this.lines[k].setAttribute('d', '');
        return;
      }
      const topPts = pts.map((p, i) => [x(p.t), y(stacks[i][k])]);
      const basePts = pts.map((p, i) => [x(p.t), y(k === 0 ? 0 : stacks[i][k - 1])]);
      // Extend the newest sample to "now" so the chart always reaches the right edge.
      const last = pts.length - 1;
      topPts.push([W, topPts[last][1]]);
      basePts.push([W, basePts[last][1]]);
      const line = topPts.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
      const back = basePts.reverse().map(([px, py]) => `L${px.toFixed(1)},${py.toFixed(1)}`).join('');
      this.areas[k].setAttribute('d', `${line}${back}Z`);
      this.lines[k].setAttribute('d', line);
    });

    const grid = [];
    for (const f of [0.5, 1]) {
      const gy = y(top * f).toFixed(1);
      grid.push(s('path', { d: `M0,${gy}L${W},${gy}`, 'vector-effect': 'non-scaling-stroke' }));
    }
    this.grid.replaceChildren(...grid);
    this.yMax.textContent = String(top);

    const cur = pts.at(-1)?.counts ?? {};
    for (const ser of SERIES) this.legendCounts.get(ser.state).textContent = String(cur[ser.state] ?? 0);
    this.svg.setAttribute('aria-label', `Active sessions now: ${SERIES.map((ser) => `${cur[ser.state] ?? 0} ${ser.label.toLowerCase()}`).join(', ')}. Peak ${max} in the last ${Math.max(1, mins)} minutes.`);
  }
}

/** niceMax rounds a maximum up to 4, 5, 10, 20, 25, 50, 100, … so the grid reads well. */
export function niceMax(v) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
