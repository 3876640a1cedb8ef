/**
 * Assembling a study's results.json from its runs, and merging studies that ran the same plan with
 * different seeds (`npm run repro -- --merge a,b,c`): seeds can then run as separate processes, in
 * parallel or one after another, and a seed that finished is never lost to a later one's crash.
 * Pure functions on plain data (no I/O, no tfjs), unit-tested in studyResults.test.ts.
 */
import { metricSuite } from '../src/core/metricSuite';
import type { MethodName } from '../src/core/names';
import { aggregateCriteria, aggregatePoints, meanSd } from '../src/core/seeds';
import type { ReproResults, ReproRun } from './report';

/** What a study measured, before aggregation over seeds. */
export interface StudyParts {
  scenario: string;
  net: string;
  backend: string;
  budget: string;
  /** the study's settings (everything but the seed) */
  settings: Record<string, unknown>;
  tasks: ReproResults['tasks'];
  seeds: number[];
  /** the source network's test accuracy per seed */
  sourceAccuracyBySeed: Record<number, number>;
  /** every run, each with its `seed` */
  runs: ReproRun[];
  /** FWT's single-task reference accuracies per seed (index = task; absent seeds: FWT undefined) */
  scratch: Record<number, (number | null)[]>;
  /** wall-clock seconds */
  seconds: number;
}

/**
 * results.json from a study's parts: the metric suite per run (against that seed's single-task
 * references), mean ± sd per (method, knob) point and per criterion, and τ from the mean
 * fine-tuning target over seeds (core/seeds.ts).
 */
export function assembleResults(parts: StudyParts): ReproResults {
  const { seeds } = parts;
  const runs = parts.runs.map((run) => ({ ...run, metrics: metricSuite(run.accMatrix, parts.scratch[run.seed ?? seeds[0]]) }));
  const perSeed = seeds.map((seed) => runs.filter((r) => (r.seed ?? seeds[0]) === seed).map((r) => ({ method: r.method, knob: r.knob, source: r.source, target: r.target, average: r.average })));
  const aggregateCrit = aggregateCriteria(perSeed);
  const tau = aggregateCrit[0]?.tau ?? NaN;
  const criteria: ReproResults['criteria'] = {};
  for (const c of aggregateCrit) criteria[c.method as MethodName] = { maxAvgAcc: c.maxAvgAcc.mean, tau: c.tau, srcAccAtTau: c.unreachableSeeds ? null : c.srcAccAtTau.mean };
  return {
    scenario: parts.scenario, net: parts.net, seed: seeds[0], seeds, budget: parts.budget, backend: parts.backend,
    settings: parts.settings,
    tasks: parts.tasks,
    sourceAccuracy: meanSd(seeds.map((s) => parts.sourceAccuracyBySeed[s])).mean,
    sourceAccuracyBySeed: parts.sourceAccuracyBySeed,
    runs, criteria,
    aggregate: { points: aggregatePoints(perSeed), criteria: aggregateCrit },
    scratch: parts.scratch,
    tauRule: `fine-tuning's target accuracy${seeds.length > 1 ? ` (mean over ${seeds.length} seeds)` : ''} − 1 point = ${(100 * tau).toFixed(1)}%`,
    seconds: parts.seconds,
  };
}

/** Why two studies cannot be merged (thrown by `mergeResults`). */
export class MergeError extends Error {}

/** The (method, knob) pairs a study ran, once each, in first-run order. */
const methodsOf = (r: ReproResults) => [...new Set(r.runs.map((run) => `${run.method} ${run.knob}`))];
const PLAN_FIELDS = ['scenario', 'net', 'backend', 'budget', 'settings', 'tasks', 'methods'] as const;
const planOf = (r: ReproResults): Record<(typeof PLAN_FIELDS)[number], string> => ({
  scenario: r.scenario, net: r.net, backend: r.backend, budget: r.budget ?? 'stage', settings: JSON.stringify(r.settings),
  tasks: JSON.stringify(r.tasks), methods: JSON.stringify(methodsOf(r)),
});

/**
 * Merges studies that ran one plan (scenario, net, backend, budget, settings, tasks, the same
 * methods and knobs) with different seeds into one, re-aggregated as if `--seeds` had run them all.
 * `relocate` rewrites a run's `modelDir` (relative to its study's folder) for the merged folder.
 * Throws MergeError naming the first difference.
 */
export function mergeResults(studies: readonly ReproResults[], relocate: (studyIndex: number, modelDir: string) => string = (_, d) => d): ReproResults {
  if (studies.length < 2) throw new MergeError(`--merge needs at least two studies (got ${studies.length})`);
  const seedsOf = (r: ReproResults) => r.seeds ?? [r.seed];
  const seen = new Map<number, number>();
  studies.forEach((r, i) => {
    const [mine, firsts] = [planOf(r), planOf(studies[0])];
    const differs = PLAN_FIELDS.find((f) => mine[f] !== firsts[f]);
    if (differs) throw new MergeError(`study ${i + 1} ran a different plan from study 1 (${differs === 'methods' ? 'methods or knobs' : differs} differ): only seeds may differ`);
    for (const s of seedsOf(r)) {
      if (seen.has(s)) throw new MergeError(`seed ${s} is in study ${seen.get(s)! + 1} and study ${i + 1}`);
      seen.set(s, i);
    }
  });
  const first = studies[0];
  return assembleResults({
    scenario: first.scenario, net: first.net, backend: first.backend, budget: first.budget ?? 'stage', settings: first.settings, tasks: first.tasks,
    seeds: studies.flatMap(seedsOf),
    sourceAccuracyBySeed: Object.assign({}, ...studies.map((r) => r.sourceAccuracyBySeed ?? { [r.seed]: r.sourceAccuracy })) as Record<number, number>,
    runs: studies.flatMap((r, i) => r.runs.map((run) => ({ ...run, seed: run.seed ?? r.seed, ...(run.modelDir ? { modelDir: relocate(i, run.modelDir) } : {}) }))),
    scratch: Object.assign({}, ...studies.map((r) => r.scratch ?? {})) as Record<number, (number | null)[]>,
    seconds: studies.reduce((a, r) => a + (r.seconds ?? 0), 0),
  });
}
