/**
 * Pure formatting for `npm run repro`: the results table, the criteria table, report.md and an SVG
 * of the trade-off fronts. No I/O, no tfjs, so it is unit-tested directly.
 */
import { METHOD_LABELS, type MethodName } from '../src/core/names';
import { paretoFront, type Criteria } from '../src/core/metrics';
import { formatMetric, METRIC_DEFINITIONS, METRIC_NAMES, type MetricName, type MetricValue } from '../src/core/metricSuite';
import { formatMeanSd, type AggregateCriteria, type AggregatePoint } from '../src/core/seeds';

/** One finished run as results.json stores it. */
export interface ReproRun {
  method: MethodName;
  knob: number | null;
  accByTask: Record<string, number>;
  accMatrix: number[][];
  paramCount: number;
  foldMaxAbsDiff?: number;
  modelDir?: string;
  /** mean over earlier tasks and last-task accuracy */
  source: number;
  target: number;
  /** mean over all tasks (criterion 1) */
  average?: number;
  seconds: number;
  /** absent in results written before seeds and budgets existed */
  seed?: number;
  budget?: string;
  metrics?: Record<MetricName, MetricValue>;
}

/** The whole results.json. */
export interface ReproResults {
  scenario: string;
  net: string;
  seed: number;
  backend: string;
  settings: Record<string, unknown>;
  tasks: { id: string; name: string; numClasses: number }[];
  /** mean over seeds of the source network's test accuracy */
  sourceAccuracy: number;
  /** per seed (absent in older results) */
  sourceAccuracyBySeed?: Record<number, number>;
  runs: ReproRun[];
  criteria: Partial<Record<MethodName, Criteria>>;
  /** how τ was chosen */
  tauRule: string;
  /** every seed run (absent in older results: one seed) */
  seeds?: number[];
  budget?: string;
  /** mean ± sd over seeds per (method, knob) and per criterion */
  aggregate?: { points: AggregatePoint[]; criteria: AggregateCriteria[] };
  /** FWT's single-task reference accuracies per seed (index = task) */
  scratch?: Record<number, (number | null)[]>;
  /** wall-clock seconds of the whole study (of a merged study: the sum over its parts) */
  seconds?: number;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : (100 * x).toFixed(1));
const knobText = (k: number | null) => (k === null ? '—' : String(k));

/** A fixed-width text table (for the terminal). */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A Markdown table. */
export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Header and rows of the per-run results table (accuracies in %). */
export function resultsRows(r: ReproResults): { header: string[]; rows: string[][] } {
  const header = ['method', 'knob', 'seed', ...r.tasks.map((t) => t.id), 'average', 'params', 'fold max abs Δlogit'];
  const rows = r.runs.map((run) => {
    const accs = r.tasks.map((t) => run.accByTask[t.id]);
    const avg = accs.reduce((a, b) => a + b, 0) / accs.length;
    return [METHOD_LABELS[run.method], knobText(run.knob), String(run.seed ?? r.seed), ...accs.map(pct), pct(avg), String(run.paramCount), run.foldMaxAbsDiff === undefined ? '—' : run.foldMaxAbsDiff.toExponential(1)];
  });
  return { header, rows };
}

/** Header and rows of the metric suite per run (in %; "—" where undefined, the reason below the table). */
export function metricRows(r: ReproResults): { header: string[]; rows: string[][]; notes: string[] } {
  const header = ['method', 'knob', 'seed', ...METRIC_NAMES.map((m) => METRIC_DEFINITIONS[m].label)];
  const notes = new Set<string>();
  const rows = r.runs.filter((run) => run.metrics).map((run) => [
    METHOD_LABELS[run.method], knobText(run.knob), String(run.seed ?? r.seed),
    ...METRIC_NAMES.map((m) => {
      const v = (run.metrics as Record<MetricName, MetricValue>)[m];
      if (v.value === null) notes.add(`${METRIC_DEFINITIONS[m].label} — for ${METHOD_LABELS[run.method]}: ${v.why}`);
      return formatMetric(v);
    }),
  ]);
  return { header, rows, notes: [...notes] };
}

/**
 * A warning when joint training is not an upper bound here: its mean all-task average accuracy is
 * below some continual method's best point (then the report must not call it an oracle).
 */
export function jointBoundNote(r: ReproResults): string | null {
  const avg = (run: ReproRun) => run.average ?? (run.source + run.target) / 2;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const joint = r.runs.filter((run) => run.method === 'joint').map(avg).filter(Number.isFinite);
  if (!joint.length) return null;
  const seeds = r.seeds ?? [r.seed];
  const jointMean = mean(joint);
  let best: { label: string; value: number } | null = null;
  for (const m of new Set(r.runs.filter((run) => run.method !== 'joint').map((run) => run.method))) {
    for (const knob of new Set(r.runs.filter((run) => run.method === m).map((run) => run.knob))) {
      const vals = r.runs.filter((run) => run.method === m && run.knob === knob && seeds.includes(run.seed ?? r.seed)).map(avg).filter(Number.isFinite);
      if (vals.length && (!best || mean(vals) > best.value)) best = { label: `${METHOD_LABELS[m]} ${knobText(knob)}`, value: mean(vals) };
    }
  }
  if (!best || best.value <= jointMean) return null;
  return `Joint training (${pct(jointMean)}% average) is below ${best.label} (${pct(best.value)}%): here it is not an upper bound, so it is not an oracle.`;
}

/** Header and rows of the per-point mean ± sd over seeds. */
export function aggregateRows(r: ReproResults): { header: string[]; rows: string[][] } {
  const header = ['method', 'knob', 'seeds', 'source', 'target', 'average'];
  const rows = (r.aggregate?.points ?? []).map((p) => [
    METHOD_LABELS[p.method as MethodName] ?? p.method, knobText(p.knob), String(p.source.n), formatMeanSd(p.source), formatMeanSd(p.target), formatMeanSd(p.average),
  ]);
  return { header, rows };
}

/** Header and rows of the criteria table (mean ± sd over seeds when the results have an aggregate). */
export function criteriaRows(r: ReproResults): { header: string[]; rows: string[][] } {
  if (r.aggregate) {
    return {
      header: ['method', 'max avg acc', 'τ', 'src acc at τ', 'seeds where τ not reached'],
      rows: r.aggregate.criteria.map((c) => [
        METHOD_LABELS[c.method as MethodName] ?? c.method, formatMeanSd(c.maxAvgAcc), pct(c.tau),
        c.srcAccAtTau.n ? formatMeanSd(c.srcAccAtTau) : 'not reachable', String(c.unreachableSeeds),
      ]),
    };
  }
  const header = ['method', 'max avg acc', 'τ', 'src acc at τ'];
  const rows = (Object.entries(r.criteria) as [MethodName, Criteria][]).map(([m, c]) => [
    METHOD_LABELS[m], pct(c.maxAvgAcc), pct(c.tau), c.srcAccAtTau === null ? 'not reachable' : pct(c.srcAccAtTau),
  ]);
  return { header, rows };
}

/** report.md: settings, results, criteria, fronts. */
export function markdownReport(r: ReproResults, svgFile: string): string {
  const res = resultsRows(r);
  const cri = criteriaRows(r);
  const met = metricRows(r);
  const agg = aggregateRows(r);
  const seeds = r.seeds ?? [r.seed];
  return [
    `# ResCL Lab reproduction: ${r.scenario}, ${r.net}`,
    '',
    `Tasks: ${r.tasks.map((t) => `${t.id} (${t.name}, ${t.numClasses} classes)`).join(' → ')}. Seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}, backend ${r.backend}, budget ${r.budget ?? 'stage'}${r.seconds === undefined ? '' : `, ${Math.round(r.seconds / 60)} min in all`}.`,
    `Settings: ${Object.entries(r.settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}.`,
    `Source network test accuracy on ${r.tasks[0].id}: ${pct(r.sourceAccuracy)}%. Accuracies below are % on each task's full test split, each task scored with its own head.`,
    '',
    '## Final accuracy per task',
    '',
    markdownTable(res.header, res.rows),
    '',
    ...(agg.rows.length ? ['## Mean ± sd over seeds (sample sd)', '', markdownTable(agg.header, agg.rows), ''] : []),
    ...(met.rows.length ? [
      '## Metric suite (% or points)', '',
      ...METRIC_NAMES.map((m) => `- **${METRIC_DEFINITIONS[m].label}**: ${METRIC_DEFINITIONS[m].definition}`), '',
      markdownTable(met.header, met.rows), '',
      ...met.notes.map((n) => `- ${n}`), '',
    ] : []),
    ...(jointBoundNote(r) ? [`**${jointBoundNote(r)}**`, ''] : []),
    `## The paper's two criteria (τ: ${r.tauRule})`,
    '',
    markdownTable(cri.header, cri.rows),
    '',
    '## Trade-off fronts',
    '',
    `![trade-off fronts](${svgFile})`,
    '',
  ].join('\n');
}

const COLORS: Record<MethodName, string> = { rescl: '#d62728', lwf: '#1f77b4', ewc: '#2ca02c', ft: '#7f7f7f', fe: '#9467bd', joint: '#ff7f0e' };

/** A point of the SVG: one run, or the mean over seeds with its sd (0 for one seed). */
interface PlotPoint { method: MethodName; knob: number | null; source: number; target: number; sourceSd: number; targetSd: number }

function plotPoints(r: ReproResults): PlotPoint[] {
  const several = (r.seeds?.length ?? 1) > 1 && r.aggregate;
  const pts: PlotPoint[] = several
    ? (r.aggregate as NonNullable<ReproResults['aggregate']>).points.map((p) => ({
      method: p.method as MethodName, knob: p.knob, source: p.source.mean, target: p.target.mean, sourceSd: p.source.sd, targetSd: p.target.sd,
    }))
    : r.runs.map((p) => ({ method: p.method, knob: p.knob, source: p.source, target: p.target, sourceSd: 0, targetSd: 0 }));
  return pts.filter((p) => Number.isFinite(p.source) && Number.isFinite(p.target));
}

/**
 * An SVG of the (target, source) plane: every run a point (with several seeds: the mean, with ±1 sd
 * error bars on both axes), each method's Pareto front (of the means) a line; the axes zoom to the data.
 */
export function tradeoffSvg(r: ReproResults): string {
  const W = 640, H = 480, M = 56;
  const pts = plotPoints(r);
  const xs = pts.flatMap((p) => [p.target - p.targetSd, p.target + p.targetSd]), ys = pts.flatMap((p) => [p.source - p.sourceSd, p.source + p.sourceSd]);
  const pad = 0.02;
  const x0 = Math.max(0, Math.min(...xs) - pad), x1 = Math.min(1, Math.max(...xs) + pad);
  const y0 = Math.max(0, Math.min(...ys) - pad), y1 = Math.min(1, Math.max(...ys) + pad);
  const sx = (x: number) => M + ((x - x0) / Math.max(1e-6, x1 - x0)) * (W - 2 * M);
  const sy = (y: number) => H - M - ((y - y0) / Math.max(1e-6, y1 - y0)) * (H - 2 * M);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${M}" y1="${H - M}" x2="${W - M}" y2="${H - M}" stroke="black"/>`,
    `<line x1="${M}" y1="${M}" x2="${M}" y2="${H - M}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 16}" text-anchor="middle">target accuracy (${r.tasks[r.tasks.length - 1].id}) %</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">source accuracy (earlier tasks) %</text>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="14">${r.scenario}, ${r.net}: trade-off fronts</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const x = x0 + ((x1 - x0) * i) / 4, y = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<text x="${sx(x)}" y="${H - M + 16}" text-anchor="middle">${(100 * x).toFixed(1)}</text>`);
    parts.push(`<text x="${M - 6}" y="${sy(y) + 4}" text-anchor="end">${(100 * y).toFixed(1)}</text>`);
  }
  const methods = [...new Set(pts.map((p) => p.method))];
  methods.forEach((m, i) => {
    const mine = pts.filter((p) => p.method === m);
    const front = paretoFront(mine);
    if (front.length > 1) parts.push(`<polyline fill="none" stroke="${COLORS[m]}" stroke-width="2" points="${front.map((p) => `${sx(p.target)},${sy(p.source)}`).join(' ')}"/>`);
    for (const p of mine.filter((q) => q.sourceSd > 0 || q.targetSd > 0)) {
      parts.push(`<path class="error-bar" stroke="${COLORS[m]}" stroke-width="1" d="M${sx(p.target - p.targetSd)},${sy(p.source)}H${sx(p.target + p.targetSd)}M${sx(p.target)},${sy(p.source - p.sourceSd)}V${sy(p.source + p.sourceSd)}"/>`);
    }
    for (const p of mine) parts.push(`<circle cx="${sx(p.target)}" cy="${sy(p.source)}" r="4" fill="${COLORS[m]}"><title>${METHOD_LABELS[m]} ${knobText(p.knob)}: ${pct(p.source)}${p.sourceSd ? ` ± ${pct(p.sourceSd)}` : ''} / ${pct(p.target)}${p.targetSd ? ` ± ${pct(p.targetSd)}` : ''}</title></circle>`);
    // legend in the lower left, where the plane of a continual-learning sweep is empty
    const ly = H - M - 14 - 18 * (methods.length - 1 - i);
    parts.push(`<circle cx="${M + 16}" cy="${ly}" r="5" fill="${COLORS[m]}"/><text x="${M + 26}" y="${ly + 4}">${METHOD_LABELS[m]}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
