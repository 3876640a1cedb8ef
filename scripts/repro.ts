/**
 * `npm run repro -- [flags]`: the lab's core, headless, for studies. Trains the source network once,
 * then every requested method over the scenario's tasks (each knob of a sweep from the same source),
 * prints progress and the results, and writes <out>/results.json, report.md, tradeoff.svg and every
 * ResCL run's folded network as a tfjs model (model.json + weights.bin).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Experiment, type ExperimentEvent, type RunResult } from '../src/core/experiment';
import type { BaselineBatchNorm, CombineDecay, FisherKind, StageProgress } from '../src/core/train';
import { BUDGETS, isMethodName, isNetKind, METHOD_KNOBS, type Budget, METHOD_NAMES, NET_KINDS, type MethodName } from '../src/core/names';
import { disposeNet } from '../src/core/nets';
import { INIT_SCHEMES, type InitScheme } from '../src/core/init';
import { modelArtifacts, modelJson, toLayersModel } from '../src/core/fold';
import { TRAINING_DEFAULTS } from '../src/core/trainingDefaults';
import { SCENARIO_IDS } from '../src/data/registry';
import { loadScenarioTasks } from '../src/data/scenarioNode';
import { useBackend, type ScriptBackend } from './backend';
import { parseFlags, parseNumberList, UsageError } from './cli';
import { criteriaRows, markdownReport, resultsRows, textTable, tradeoffSvg, type ReproResults, type ReproRun } from './report';
import { assembleResults, mergeResults, MergeError } from './studyResults';

const BUNDLED = SCENARIO_IDS.filter((s) => s !== 'custom');
/** The study settings (src/core/trainingDefaults.ts): repro's defaults and docs/RESULTS.md's. */
const D = TRAINING_DEFAULTS;
const USAGE = `usage: npm run repro -- [flags]
  --scenario <${BUNDLED.join('|')}>   (default mnist-fashion)
  --net <${NET_KINDS.join('|')}>      (default mlp)
  --width <x>   scales every hidden layer's channels (default 1 = the architectures of docs/METHOD.md; conv4 at 0.25 fits a study into this machine's wasm)
  --method <${METHOD_NAMES.join('|')}|all>, or a comma list   (default all)
  --lambdas <comma list>   each selected method's knob values (default: per method, see below)
  --lambdas-rescl / --lambdas-lwf / --lambdas-ewc <comma list>   per-method override
  --epochs <n> (default ${D.epochs})   --train-limit <n per task> (default ${D.trainLimit})   --test-limit <n> (default: full test split)
  --batch <n> (default ${D.batchSize})  --lr <x> (default ${D.learningRate})   --alpha-lr <x> (default ${D.alphaLearningRate})   --seed <n> (default ${D.seed})
  --seeds <comma list>   run everything once per seed (overrides --seed); results give mean ± sd
  --budget <equal|stage> (default equal: FT/FE/LwF/EWC get ResCL's fine-tune + combine steps per task)
  --joint-init <source|scratch> (default source: joint warm-starts from the source with ResCL's budget)
  --baseline-bn <batch|frozen-source> (default batch: FT/LwF/EWC normalise with batch moments and update BN's running statistics; frozen-source keeps the source's, as ResCL keeps BN_s)
  --combine-decay <kernels|all> (default kernels: ResCL's combine stage decays θ_t's kernels only; all: also BN γ_t, β_t and biases b_t)
  --init <${INIT_SCHEMES.join('|')}> (default he: He-normal trunk, Glorot heads, zero biases; torch-default: PyTorch's nn.Linear/nn.Conv2d default)
  --fisher <true|empirical> (default true)   --fisher-samples <n> (default ${D.fisherSamples})   --fwt <on|off> (default on: train FWT's single-task references, one per new task and seed)
  --backend <cpu|wasm|webgpu> (default cpu; wasm, with the lab's kernels from src/kernels, trains every net, convnets included)
  --out <dir> (default repro-out/<scenario>-<net>)
  --render <dir>   only rewrite <dir>/report.md and tradeoff.svg from <dir>/results.json
  --merge <dir,dir,...>   merge studies of one plan run with different seeds (e.g. one process per
                   --seed) into --out (required) as if --seeds had run them all: mean ± sd, criteria
Defaults are the study settings of src/core/trainingDefaults.ts (docs/RESULTS.md); weight decay ${D.weightDecay}, head warm-up ${D.headWarmupSteps} steps.
Default knobs: ${Object.entries(METHOD_KNOBS).filter(([, k]) => k).map(([m, k]) => `${m} ${k?.knob} ∈ {${k?.defaults.join(', ')}}`).join('; ')}.`;

function formatMs(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), {
    scenario: { kind: 'choice', choices: BUNDLED, default: 'mnist-fashion' },
    net: { kind: 'choice', choices: [...NET_KINDS], default: 'mlp' },
    width: { kind: 'number', min: 0.01, max: 1, default: 1 },
    method: { kind: 'list', default: 'all' },
    lambdas: { kind: 'optional-string' },
    'lambdas-rescl': { kind: 'optional-string' },
    'lambdas-lwf': { kind: 'optional-string' },
    'lambdas-ewc': { kind: 'optional-string' },
    epochs: { kind: 'int', min: 1, max: 1000, default: D.epochs },
    'train-limit': { kind: 'int', min: 10, max: 60000, default: D.trainLimit },
    'test-limit': { kind: 'int', min: 10, max: 10000, default: 10000 },
    batch: { kind: 'int', min: 1, max: 4096, default: D.batchSize },
    lr: { kind: 'number', min: 1e-7, max: 1, default: D.learningRate },
    'alpha-lr': { kind: 'number', min: 1e-7, max: 1, default: D.alphaLearningRate },
    seed: { kind: 'int', min: 0, max: 2 ** 31 - 1, default: D.seed },
    seeds: { kind: 'optional-string' },
    budget: { kind: 'choice', choices: [...BUDGETS], default: 'equal' },
    fisher: { kind: 'choice', choices: ['true', 'empirical'], default: 'true' },
    'joint-init': { kind: 'choice', choices: ['source', 'scratch'], default: 'source' },
    'baseline-bn': { kind: 'choice', choices: ['batch', 'frozen-source'], default: 'batch' },
    'combine-decay': { kind: 'choice', choices: ['kernels', 'all'], default: 'kernels' },
    init: { kind: 'choice', choices: [...INIT_SCHEMES], default: 'he' },
    'fisher-samples': { kind: 'int', min: 1, max: 60000, default: D.fisherSamples },
    fwt: { kind: 'choice', choices: ['on', 'off'], default: 'on' },
    backend: { kind: 'choice', choices: ['cpu', 'wasm', 'webgpu'], default: 'cpu' },
    out: { kind: 'optional-string' },
    render: { kind: 'optional-string' },
    merge: { kind: 'optional-string' },
  }, USAGE);
  if (flags.merge !== undefined) {
    const out = flags.out as string | undefined;
    if (out === undefined) throw new UsageError('--merge: say where the merged study goes with --out <dir>', USAGE);
    const dirs = (flags.merge as string).split(',').map((d) => d.trim()).filter(Boolean);
    const studies = dirs.map((dir) => {
      const file = path.join(dir, 'results.json');
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as ReproResults;
      } catch (e) {
        throw new UsageError(`--merge: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, USAGE);
      }
    });
    mkdirSync(out, { recursive: true });
    let merged: ReproResults;
    try {
      merged = mergeResults(studies, (i, modelDir) => path.relative(out, path.join(dirs[i], modelDir)));
    } catch (e) {
      if (e instanceof MergeError) throw new UsageError(`--merge: ${e.message}`, USAGE);
      throw e;
    }
    writeStudy(merged, out);
    console.log(`\nmerged ${dirs.length} studies (seeds ${merged.seeds?.join(', ')}) into ${out}/results.json, report.md, tradeoff.svg`);
    return;
  }
  if (flags.render !== undefined) {
    const dir = flags.render as string;
    writeReports(JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as ReproResults, dir);
    console.log(`rewrote ${dir}/report.md and tradeoff.svg`);
    return;
  }
  const methodList = flags.method as string[];
  const methods: MethodName[] = methodList.includes('all') ? [...METHOD_NAMES] : methodList.map((m) => {
    if (!isMethodName(m)) throw new UsageError(`--method: unknown method '${m}' (${METHOD_NAMES.join(', ')}, all)`, USAGE);
    return m;
  });
  const net = flags.net as string;
  if (!isNetKind(net)) throw new UsageError(`--net: unknown network '${net}'`, USAGE);
  const knobsOf = (m: MethodName): (number | null)[] => {
    const spec = METHOD_KNOBS[m];
    if (!spec) return [null];
    const own = flags[`lambdas-${m}`] as string | undefined;
    const shared = flags.lambdas as string | undefined;
    if (own !== undefined) return parseNumberList(`lambdas-${m}`, own, USAGE);
    if (shared !== undefined) return parseNumberList('lambdas', shared, USAGE);
    return spec.defaults;
  };
  // τ needs fine-tuning's target accuracy: FT always runs when a method with a knob is compared.
  if (!methods.includes('ft') && methods.some((m) => METHOD_KNOBS[m])) methods.unshift('ft');

  const seeds = flags.seeds !== undefined ? parseNumberList('seeds', flags.seeds as string, USAGE).map(Math.round) : [flags.seed as number];
  if (!seeds.length) throw new UsageError('--seeds: give at least one seed', USAGE);
  const budget = flags.budget as Budget;
  const backend = await useBackend(flags.backend as ScriptBackend);
  const scenario = flags.scenario as string;
  const out = (flags.out as string | undefined) ?? path.join('repro-out', `${scenario}-${net}`);
  mkdirSync(out, { recursive: true });
  const stageOf = (seed: number) => ({ epochs: flags.epochs as number, batchSize: flags.batch as number, learningRate: flags.lr as number, weightDecay: D.weightDecay, seed, reportIntervalMs: 100 });
  const runs: ReproRun[] = [];
  const scratch: Record<number, (number | null)[]> = {};
  const sourceAccuracyBySeed: Record<number, number> = {};
  const started = performance.now();
  let taskInfo: ReproResults['tasks'] = [];
  let headWarmupSteps = 0;
  for (const seed of seeds) {
    const tasks = await loadScenarioTasks(scenario, { seed, trainLimit: flags['train-limit'] as number, testLimit: flags['test-limit'] as number });
    taskInfo = tasks.map((t) => ({ id: t.id, name: t.name, numClasses: t.train.numClasses }));
    const exp = new Experiment(tasks, { net, width: flags.width as number, seed, stage: stageOf(seed), alphaLearningRate: flags['alpha-lr'] as number, budget, jointInit: flags['joint-init'] as 'source' | 'scratch', init: flags.init as InitScheme, baselineBatchNorm: flags['baseline-bn'] as BaselineBatchNorm, combineDecay: flags['combine-decay'] as CombineDecay, fisher: flags.fisher as FisherKind, fisherSamples: flags['fisher-samples'] as number });
    headWarmupSteps = exp.options.headWarmupSteps;
    console.log(`ResCL Lab repro: ${scenario} (${tasks.map((t) => `${t.id}: ${t.train.count} train / ${t.test.count} test`).join(', ')}), net ${net}${flags.width === 1 ? '' : ` (width ${flags.width as number})`}, backend ${backend}, seed ${seed}, budget ${budget}`);
    console.log(`methods: ${methods.map((m) => `${m}${METHOD_KNOBS[m] ? ` ${METHOD_KNOBS[m]?.knob} ∈ {${knobsOf(m).join(', ')}}` : ''}`).join('; ')}`);
    let lastLine = 0;
    const log = (label: string, taskIndex: number, p: StageProgress) => {
      const now = performance.now();
      if (!p.done && now - lastLine < 5000) return;
      lastLine = now;
      console.log(`[seed ${seed} ${label}] task ${taskIndex + 1}/${tasks.length} ${p.stage.padEnd(8)} step ${p.step}/${p.totalSteps}  loss ${p.loss.toFixed(4)}  ${Math.round(p.samplesPerSec)} samples/s  ${p.done ? `done in ${formatMs(p.elapsedMs)}` : `ETA ${formatMs(p.etaMs)}`}`);
    };
    const onEvent = (e: ExperimentEvent) => {
      if (e.type !== 'progress') return;
      log(e.method === 'source' ? 'source' : `${e.method}${e.knob === null ? '' : ` ${METHOD_KNOBS[e.method]?.knob}=${e.knob}`}`, e.taskIndex, e.progress);
    };
    for (const method of methods) {
      for (const knob of knobsOf(method)) {
        const t0 = performance.now();
        let result: RunResult | null = null;
        for await (const e of exp.runMethod(method, knob)) {
          onEvent(e);
          if (e.type === 'result') result = e.result;
        }
        if (!result) throw new Error(`${method} produced no result`);
        const run: ReproRun = {
          method, knob, seed, budget: result.budget, accByTask: result.accByTask, accMatrix: result.accMatrix, paramCount: result.paramCount,
          source: result.tradeoff.source, target: result.tradeoff.target, average: result.tradeoff.average, seconds: Math.round((performance.now() - t0) / 100) / 10,
        };
        if (result.fold) run.foldMaxAbsDiff = Math.max(...result.fold.map((f) => f.maxAbsDiff));
        if (method === 'rescl') {
          run.modelDir = `rescl-lambda-${knob}${seeds.length > 1 ? `-seed-${seed}` : ''}`;
          await writeModel(result, path.join(out, run.modelDir));
        }
        disposeNet(result.net);
        runs.push(run);
        console.log(`=> seed ${seed} ${method}${knob === null ? '' : ` ${knob}`}: ${tasks.map((t) => `${t.id} ${(100 * result!.accByTask[t.id]).toFixed(1)}%`).join(', ')}${run.foldMaxAbsDiff === undefined ? '' : `, fold max|Δlogit| ${run.foldMaxAbsDiff.toExponential(1)}`}`);
      }
    }
    if (flags.fwt === 'on') {
      scratch[seed] = [null];
      for (let k = 1; k < tasks.length; k++) {
        const gen = exp.scratchAccuracy(k);
        let step = await gen.next();
        for (; !step.done; step = await gen.next()) log('single-task reference', k, step.value);
        scratch[seed].push(step.value);
      }
    }
    sourceAccuracyBySeed[seed] = exp.sourceTestAccuracy;
    exp.dispose();
  }
  // width 1 is left out of the settings so that studies written before --width existed still merge with new ones
  const results = assembleResults({
    scenario, net, backend, budget, seeds, tasks: taskInfo, runs, scratch, sourceAccuracyBySeed,
    settings: { epochs: flags.epochs, trainLimit: flags['train-limit'], testLimit: flags['test-limit'], batch: flags.batch, lr: flags.lr, alphaLr: flags['alpha-lr'], weightDecay: D.weightDecay, headWarmupSteps, fisher: flags.fisher, fisherSamples: flags['fisher-samples'], budget, jointInit: flags['joint-init'], init: flags.init, baselineBatchNorm: flags['baseline-bn'], combineDecay: flags['combine-decay'], ...(flags.width === 1 ? {} : { width: flags.width }) },
    seconds: Math.round((performance.now() - started) / 1000),
  });
  writeStudy(results, out);
  console.log(`\nwrote ${out}/results.json, report.md, tradeoff.svg (total ${formatMs(performance.now() - started)})`);
}

/** Writes results.json, report.md and tradeoff.svg into `dir` and prints the two tables. */
function writeStudy(results: ReproResults, dir: string): void {
  writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 2));
  writeReports(results, dir);
  const res = resultsRows(results);
  const cri = criteriaRows(results);
  console.log(`\nsource accuracy ${(100 * results.sourceAccuracy).toFixed(1)}%; accuracies in % on full test splits\n`);
  console.log(textTable(res.header, res.rows));
  console.log(`\ncriteria (τ = ${results.tauRule})\n`);
  console.log(textTable(cri.header, cri.rows));
}

function writeReports(results: ReproResults, dir: string): void {
  writeFileSync(path.join(dir, 'tradeoff.svg'), tradeoffSvg(results));
  writeFileSync(path.join(dir, 'report.md'), markdownReport(results, 'tradeoff.svg'));
}

/** Writes a folded network as model.json + weights.bin (the tfjs layers-model format). */
async function writeModel(result: RunResult, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const model = toLayersModel(result.net);
  const artifacts = await modelArtifacts(model);
  model.dispose();
  const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson(artifacts, 'weights.bin')));
  writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(weights));
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    console.error(e.message);
    process.exit(2);
  }
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
