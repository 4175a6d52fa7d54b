// chart.js: a small live chart of active sessions by call state, as stacked areas
// over the last minutes. Hand-written SVG: the paths scale with the card (the
// viewBox is stretched), while labels are HTML so text never distorts.
//
// The time axis covers whole minutes: one minute on a freshly opened board, one
// more for every minute of history, up to the window (10 minutes). The card's
// header and the axis say the same span, and a marker shows where the board's
// history begins while it covers less than the axis. The legend and the chart's
// right edge show the board's current counts (the same numbers as the summary
// tiles, given with setCurrent); the 3-second samples only draw the history.

import { h, s, fmtClock } from './dom.js';

const HM = { hour: '2-digit', minute: '2-digit' };

/** The stacked states, bottom first, with the labels the legend shows. */
const SERIES = [
  { state: 'Connected', label: 'Connected' },
  { state: 'Hold', label: 'On hold' },
  { state: 'Ringing', label: 'Ringing' },
  { state: 'Passive', label: 'Passive' },
];

const W = 600;
const H = 120;
const MINUTE = 60_000;

/** spanMinutes is the whole minutes the axis covers for history that began at first: 1 to max. */
export function spanMinutes(now, first, max) {
  const have = Math.floor((now - first) / MINUTE);
  return Math.max(1, Math.min(max, Number.isFinite(have) ? have : 1));
}

/** windowLabel is the header's text for a span of mins minutes. */
export function windowLabel(mins) {
  return mins === 1 ? 'last minute' : `last ${mins} minutes`;
}

export class StateChart {
  /**
   * @param {HTMLElement} root    where the chart draws
   * @param {HTMLElement} legend  where the legend (with current counts) goes
   * @param {{windowMs?: number, sampleMs?: number, windowEl?: HTMLElement}} [opts]
   *   windowEl shows the span the axis covers ("last 3 minutes")
   */
  constructor(root, legend, { windowMs = 10 * MINUTE, sampleMs = 3000, windowEl = null } = {}) {
    this.root = root;
    this.legendEl = legend;
    this.windowEl = windowEl;
    this.current = null; // the board's counts now: legend and right edge
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
    this.opened = h('span', { class: 'chart-opened', hidden: true, 'data-testid': 'chart-opened' });
    this.note = h('span', { class: 'chart-note', hidden: true }, h('span', {}, 'The chart fills in as the board collects history.'));
    this.axisStart = h('span', { 'data-testid': 'chart-axis-start' });
    this.axisMid = h('span', { class: 'chart-axis-mid' });
    root.replaceChildren(
      h('div', { class: 'chart-plot' }, this.svg, this.yMax, this.note, this.opened),
      h('div', { class: 'chart-axis', 'aria-hidden': 'true' }, this.axisStart, this.axisMid, h('span', {}, 'now')),
    );
    this.legendCounts = new Map();
    legend.replaceChildren(...SERIES.map((x) => {
      const n = h('span', { class: 'legend-n', 'data-testid': `legend-${x.state}` }, '0');
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

  /**
   * setCurrent shows the board's counts now (the summary tiles' numbers) in the
   * legend and at the chart's right edge, between samples too.
   */
  setCurrent(counts) {
    if (!counts) return;
    const changed = !this.current || SERIES.some((x) => (this.current[x.state] ?? 0) !== (counts[x.state] ?? 0));
    this.current = { ...counts };
    if (changed) this.draw(Date.now());
  }

  draw(now) {
    const pts = this.current ? [...this.samples, { t: now, counts: this.current }] : this.samples;
    const first = pts[0]?.t ?? now;
    const mins = spanMinutes(now, first, Math.round(this.windowMs / MINUTE));
    const span = mins * MINUTE;
    const start = now - span;
    const label = windowLabel(mins);
    if (this.windowEl && this.windowEl.textContent !== label) this.windowEl.textContent = label;
    this.axisStart.textContent = `${mins} min ago`;
    this.axisMid.textContent = mins % 2 === 0 ? `${mins / 2} min ago` : '';
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
      // The newest point reaches the right edge ("now").
      const last = pts.length - 1;
      topPts.push([W, topPts[last][1]]);
      basePts.push([W, basePts[last][1]]);
      const line = topPts.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join('');
      const back = basePts.reverse().map(([px, py]) => `L${px.toFixed(1)},${py.toFixed(1)}`).join('');
      this.areas[k].setAttribute('d', `${line}${back}Z`);
      this.lines[k].setAttribute('d', line);
    });

    // Where the board's history begins, when that is inside the axis: nothing
    // is known before the board opened, so the empty part is not "zero calls".
    const fx = x(first) / W;
    this.opened.hidden = pts.length === 0 || fx < 0.04;
    if (!this.opened.hidden) {
      this.opened.style.left = `${(fx * 100).toFixed(2)}%`;
      this.opened.classList.toggle('chart-opened-left', fx > 0.5); // the label goes where there is room
      this.opened.textContent = `opened ${new Date(first).toLocaleTimeString([], HM)}`;
      this.opened.title = `This board has counted sessions since ${fmtClock(new Date(first))}.`;
    }
    // Before the board opened there is nothing to show: say so in that space.
    this.note.hidden = this.opened.hidden || fx < 0.5;
    if (!this.note.hidden) this.note.style.width = `${(fx * 100).toFixed(2)}%`;

    const grid = [];
    for (const f of [0.5, 1]) {
      const gy = y(top * f).toFixed(1);
      grid.push(s('path', { d: `M0,${gy}L${W},${gy}`, 'vector-effect': 'non-scaling-stroke' }));
    }
    this.grid.replaceChildren(...grid);
    this.yMax.textContent = String(top);

    const cur = pts.at(-1)?.counts ?? {};
    for (const ser of SERIES) {
      const n = String(cur[ser.state] ?? 0);
      const el = this.legendCounts.get(ser.state);
      if (el.textContent !== n) el.textContent = n;
    }
    this.svg.setAttribute('aria-label', `Active sessions now: ${SERIES.map((ser) => `${cur[ser.state] ?? 0} ${ser.label.toLowerCase()}`).join(', ')}. Peak ${max} in the ${label}.`);
  }
}

/** niceMax rounds a maximum up to 4, 5, 10, 20, 25, 50, 100, … so the grid reads well. */
export function niceMax(v) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
