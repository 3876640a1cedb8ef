/**
 * `npm run crosscheck -- [flags]`: an outside check of the lab's training. For each stage (source,
 * fine-tune with its head warm-up, combine, LwF, EWC) it exports the stage's initial weights and exact
 * batch order (src/core/trace.ts), runs the stage in the lab, replays it in PyTorch eager
 * (scripts/crosscheck_torch.py, system python3 + python3-torch) and compares the loss of every step
 * and the final test accuracies. Exits 1 when a stage misses the tolerances.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { makeResident } from '../src/core/batches';
import { ALPHA_SOURCE_INIT, ALPHA_TARGET_INIT, buildCombined, disposeCombinedAlphas, predictCombined } from '../src/core/combine';
import { INIT_SCHEMES, type InitScheme } from '../src/core/init';
import { addHead, buildNet, cloneNet, disposeNet, unitVariables, type Net } from '../src/core/nets';
import { serializeNet, type SerializedTensor } from '../src/core/serialize';
import { batchOrder, traceToJson, type StageTrace } from '../src/core/trace';
import {
  computeFisher, evaluateAccuracy, ewcParameters, plainForward, trainCombined, trainEwc, trainFinetune, trainLwf, trainSource,
  type StageProgress,
} from '../src/core/train';
import { loadScenarioTasks } from '../src/data/scenarioNode';
import { useBackend, type ScriptBackend } from './backend';
import { parseFlags, UsageError } from './cli';

const STAGES = ['source', 'finetune', 'combine', 'lwf', 'ewc'] as const;
type Stage = (typeof STAGES)[number];
const USAGE = `usage: npm run crosscheck -- [flags]
  --net <mlp|conv4> (default mlp)   --width <x> hidden-layer scale (default 1; conv4 on cpu: 0.25 keeps it quick)
  --backend <cpu|wasm> (default cpu)   --stages <comma list of ${STAGES.join(', ')}> (default all)
  --train-limit <n per task> (default 4000)   --test-limit <n> (default 2000)   --epochs <n> (default 2)
  --seed <n> (default 1)   --loss-rtol <x> (default 1e-4, over the first --loss-steps 50 steps)
  --acc-tol <points> (default 0.2)   --out <dir> (default repro-out/crosscheck-<net>-<backend>)
  --init <he|torch-default> (default he) the nets' initialisation (src/core/init.ts)
  --dump-steps <n> (default 0) source/fine-tune/LwF/EWC: write every variable after each of the first n steps,
               lab and PyTorch float32, for scripts/crosscheck_diff.py <out> <stage>
  --stock 1   tfjs's own kernels only (no src/kernels replacements)
  --data-only 1   only write the task data (<task>-<split>-x.u8 / -y.u8) to --out, for scripts/finetune_gap.py
  --python <exe> (default: python3 if it has torch, else /usr/bin/python3; needs PyTorch: apt-get install -y python3-torch)`;

interface StageResult {
  stage: Stage; steps: number; maxRel: number; worstStep: number; firstOverRtol: number;
  labVsFloat64: number; torchVsFloat64: number;
  /** the float32 replay with every batch in reverse order vs float64, and vs the forward-order float32 replay */
  reversedVsFloat64: number; torchVsReversed: number;
  /** lab vs a replay with torch.optim.Adam (float64 bias corrections): for comparison, not judged */
  labVsTorchAdam: number;
  /** per head: [lab, PyTorch float32, PyTorch float64, PyTorch float32 reversed order] test accuracy in % */
  acc: Record<string, [number, number, number, number]>;
  /** 'exact': within rtol of PyTorch float32; 'float32-limited': see `agrees`; 'fail' */
  verdict: 'exact' | 'float32-limited' | 'fail'; pass: boolean;
}

/**
 * The agreement rule. 'exact': every loss of the first steps within `rtol` of PyTorch float32 and
 * every accuracy within `accTol` points of it. 'float32-limited': the float32 replays themselves
 * (forward and reversed batch order: the same math, other summation orders) leave `rtol` of the
 * float64 replay within those steps, so no float32 code can meet `rtol` there (Adam turns rounding
 * of near-zero gradients, ReLU gates and BN moments into full-size differences); then the lab
 * passes when its largest distance from float64 is at most 2x the float32 spread (the largest
 * distance among the three replays) and each accuracy is within max(accTol, 2x the replays'
 * accuracy spread) of float64's.
 */
function agrees(r: Omit<StageResult, 'verdict' | 'pass'>, rtol: number, accTol: number): StageResult['verdict'] {
  const accSpread = (a: number[]) => Math.max(...a) - Math.min(...a);
  if (r.maxRel <= rtol && Object.values(r.acc).every(([lab, f32]) => Math.abs(lab - f32) <= accTol + 1e-9)) return 'exact';
  const spread = Math.max(r.torchVsFloat64, r.reversedVsFloat64, r.torchVsReversed);
  if (spread <= rtol) return 'fail';
  const lossOk = r.labVsFloat64 <= 2 * spread;
  const accOk = Object.values(r.acc).every(([lab, f32, f64, rev]) => Math.abs(lab - f64) <= Math.max(accTol, 2 * accSpread([f32, f64, rev])) + 1e-9);
  return lossOk && accOk ? 'float32-limited' : 'fail';
}

/** Largest |a−b|/|b| over the first n steps, and its 1-based step. */
function maxRelDiff(a: number[], b: number[], n: number): { max: number; step: number } {
  let max = 0;
  let step = 0;
  for (let i = 0; i < n; i++) {
    const rel = Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.abs(b[i]));
    if (rel > max) { max = rel; step = i + 1; }
  }
  return { max, step };
}

/** 1-based first step whose relative difference exceeds rtol (length + 1 when none does). */
function firstOver(a: number[], b: number[], rtol: number): number {
  const i = a.findIndex((x, k) => Math.abs(x - b[k]) / Math.max(1e-12, Math.abs(b[k])) > rtol);
  return i < 0 ? a.length + 1 : i + 1;
}

/** Every variable of a plain net in a fixed order: per unit kernel, bias, γ, β, μ, σ²; then each head's kernel, bias. */
function netState(net: Net): tf.Variable[] {
  return [...net.units.values()].flatMap(unitVariables).concat(net.heads.flatMap((h) => [h.kernel, h.bias]));
}

/**
 * Runs a lab stage to the end, reading the loss of every step (reportIntervalMs 0). With `dump`,
 * writes `netState(dump.net)` after each of the first `dump.steps` steps to `dump.file` (float32,
 * step after step; scripts/crosscheck_diff.py compares it with the replay's CROSSCHECK_DUMP).
 */
async function labLosses(gen: AsyncGenerator<StageProgress, void, undefined>, dump?: { net: Net; steps: number; file: string }): Promise<number[]> {
  const losses: number[] = [];
  const chunks: Float32Array[] = [];
  for await (const p of gen) {
    if (p.lossFresh) losses[p.step - 1] = p.loss;
    if (dump && p.step <= dump.steps) for (const v of netState(dump.net)) chunks.push(Float32Array.from(await v.data()));
  }
  if (dump) writeFileSync(dump.file, Buffer.concat(chunks.map((c) => Buffer.from(c.buffer))));
  return losses;
}

function writeSplit(dir: string, id: string, split: string, images: Uint8Array, labels: Uint8Array): void {
  writeFileSync(path.join(dir, `${id}-${split}-x.u8`), images);
  writeFileSync(path.join(dir, `${id}-${split}-y.u8`), labels);
}

async function tensors(ts: tf.Tensor[]): Promise<SerializedTensor[]> {
  return Promise.all(ts.map(async (t) => ({ shape: [...t.shape], data: Float32Array.from(await t.data()) })));
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), {
    net: { kind: 'choice', choices: ['mlp', 'conv4'], default: 'mlp' },
    width: { kind: 'number', min: 0.01, max: 1, default: 1 },
    backend: { kind: 'choice', choices: ['cpu', 'wasm'], default: 'cpu' },
    stages: { kind: 'list', default: STAGES.join(',') },
    'train-limit': { kind: 'int', min: 100, max: 60000, default: 4000 },
    'test-limit': { kind: 'int', min: 10, max: 10000, default: 2000 },
    epochs: { kind: 'int', min: 1, max: 100, default: 2 },
    seed: { kind: 'int', min: 0, max: 2 ** 31 - 1, default: 1 },
    'loss-rtol': { kind: 'number', min: 0, max: 1, default: 1e-4 },
    'loss-steps': { kind: 'int', min: 1, max: 100000, default: 50 },
    'acc-tol': { kind: 'number', min: 0, max: 100, default: 0.2 },
    out: { kind: 'optional-string' },
    python: { kind: 'optional-string' },
    'data-only': { kind: 'int', min: 0, max: 1, default: 0 },
    stock: { kind: 'int', min: 0, max: 1, default: 0 },
    init: { kind: 'choice', choices: [...INIT_SCHEMES], default: 'he' },
    'dump-steps': { kind: 'int', min: 0, max: 1000, default: 0 },
  }, USAGE);
  const dumpSteps = flags['dump-steps'] as number;
  const init = flags.init as InitScheme;
  const stages = (flags.stages as string[]).map((s) => {
    if (!(STAGES as readonly string[]).includes(s)) throw new UsageError(`--stages: unknown stage '${s}'`, USAGE);
    return s as Stage;
  });
  // the first python3 that imports torch: the one on PATH (a venv's, say), else Debian's system one
  const candidates = flags.python ? [flags.python as string] : ['python3', '/usr/bin/python3'];
  const probes = candidates.map((exe) => ({ exe, run: spawnSync(exe, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }) }));
  const found = probes.find((p) => p.run.status === 0);
  if (!found) {
    for (const { exe, run } of probes) console.error(`crosscheck needs PyTorch; ${exe}: ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`);
    console.error('Install it with: sudo apt-get install -y python3-torch   (or: python3 -m pip install torch)');
    process.exit(3);
  }
  const python = found.exe;
  const probe = found.run;
  const backend = await useBackend(flags.backend as ScriptBackend, { stock: flags.stock === 1 });
  const netKind = flags.net as 'mlp' | 'conv4';
  const seed = flags.seed as number;
  const out = (flags.out as string | undefined) ?? path.join('repro-out', `crosscheck-${netKind}-${backend}`);
  mkdirSync(out, { recursive: true });
  const tasks = await loadScenarioTasks('mnist-fashion', { seed, trainLimit: flags['train-limit'] as number, testLimit: flags['test-limit'] as number });
  for (const t of tasks) {
    writeSplit(out, t.id, 'train', t.train.images, t.train.labels);
    writeSplit(out, t.id, 'test', t.test.images, t.test.labels);
  }
  if (flags['data-only']) {
    console.log(`wrote ${tasks.map((t) => `${t.id} ${t.train.count} train / ${t.test.count} test`).join(', ')} to ${out} (scripts/finetune_gap.py reads it)`);
    return;
  }
  const train = tasks.map((t) => makeResident(t.train));
  const test = tasks.map((t) => makeResident(t.test));
  const [t0, t1] = tasks;
  const base = { epochs: flags.epochs as number, batchSize: 128, learningRate: 1e-3, weightDecay: 1e-4, reportIntervalMs: 0, yieldEveryStep: true };
  const shared = {
    adamEpsilon: tf.backend().epsilon(), init, weightDecay: base.weightDecay, learningRate: base.learningRate, tasks: tasks.map((t) => t.id).join(','),
  };
  console.log(`crosscheck: ${netKind} (width ${flags.width}, init ${init}) on ${backend}, PyTorch ${probe.stdout.trim()}, ${t0.train.count}+${t1.train.count} train images, ${flags.epochs} epochs, seed ${seed}`);

  const rtol = flags['loss-rtol'] as number;
  const lossSteps = flags['loss-steps'] as number;
  const accTol = flags['acc-tol'] as number;
  const results: StageResult[] = [];
  /** Writes the trace, runs the lab's stage and the PyTorch replay, and compares them. */
  const check = async (stage: Stage, trace: StageTrace, runLab: () => Promise<{ losses: number[]; acc: Record<string, number> }>) => {
    const tracePath = path.join(out, `${stage}.trace.json`);
    writeFileSync(tracePath, traceToJson(trace));
    const lab = await runLab();
    // adam 'tfjs': the replay's Adam with the lab's float32 constants (the check); 'torch':
    // torch.optim.Adam, shown for comparison only (docs/CROSSCHECK.md: why the two part).
    // order 'reversed': every batch fed in reverse order, a second float32 run of the same math.
    const replay = (dtype: 'float32' | 'float64', adam: 'tfjs' | 'torch' = 'tfjs', order: 'forward' | 'reversed' = 'forward') => {
      const file = path.join(out, `${stage}.torch-${dtype}${adam === 'torch' ? '-torchadam' : ''}${order === 'reversed' ? '-reversed' : ''}.json`);
      const dump = dumpSteps && dtype === 'float32' && adam === 'tfjs' && order === 'forward'
        ? { CROSSCHECK_DUMP: path.join(out, `${stage}.torch-dump.npz`), CROSSCHECK_DUMP_STEPS: String(dumpSteps) } : {};
      const env = { ...process.env, CROSSCHECK_DTYPE: dtype, CROSSCHECK_ADAM: adam, CROSSCHECK_ORDER: order, ...dump };
      const run = spawnSync(python, [path.join('scripts', 'crosscheck_torch.py'), tracePath, out, file], { stdio: 'inherit', env });
      if (run.status !== 0) throw new Error(`crosscheck_torch.py failed on ${stage} in ${dtype} (exit ${run.status})`);
      return JSON.parse(readFileSync(file, 'utf8')) as { losses: number[]; acc: Record<string, number> };
    };
    const torch = replay('float32');
    const exact = replay('float64');
    const reversed = replay('float32', 'tfjs', 'reversed');
    const stockAdam = replay('float32', 'torch');
    const n = Math.min(lossSteps, lab.losses.length);
    const lab32 = maxRelDiff(lab.losses, torch.losses, n);
    const acc: Record<string, [number, number, number, number]> = {};
    for (const id of Object.keys(lab.acc)) acc[id] = [100 * lab.acc[id], 100 * torch.acc[id], 100 * exact.acc[id], 100 * reversed.acc[id]];
    const result = {
      stage, steps: lab.losses.length, maxRel: lab32.max, worstStep: lab32.step, firstOverRtol: firstOver(lab.losses, torch.losses, rtol),
      labVsFloat64: maxRelDiff(lab.losses, exact.losses, n).max, torchVsFloat64: maxRelDiff(torch.losses, exact.losses, n).max,
      reversedVsFloat64: maxRelDiff(reversed.losses, exact.losses, n).max, torchVsReversed: maxRelDiff(torch.losses, reversed.losses, n).max,
      labVsTorchAdam: maxRelDiff(lab.losses, stockAdam.losses, n).max, acc,
    };
    const verdict = lab.losses.length === torch.losses.length ? agrees(result, rtol, accTol) : 'fail';
    const pass = verdict !== 'fail';
    results.push({ ...result, verdict, pass });
    writeFileSync(path.join(out, `${stage}.lab.json`), JSON.stringify(lab));
    const e = (x: number) => x.toExponential(2);
    console.log(`${pass ? 'PASS' : 'FAIL'} (${verdict}) ${stage.padEnd(8)} ${lab.losses.length} steps; first ${n}: max rel loss diff lab/torch ${e(lab32.max)} (step ${lab32.step}), `
      + `within ${rtol} up to step ${result.firstOverRtol - 1}; lab/float64 ${e(result.labVsFloat64)}; float32 spread: torch/float64 ${e(result.torchVsFloat64)}, `
      + `reversed/float64 ${e(result.reversedVsFloat64)}, torch/reversed ${e(result.torchVsReversed)}; lab/torch.optim.Adam ${e(result.labVsTorchAdam)}; accuracy lab / torch / float64 / reversed: `
      + Object.entries(acc).map(([id, a]) => `${id} ${a.map((x) => x.toFixed(2)).join(' / ')}`).join(', '));
  };
  const traceOf = async (stage: Stage, nets: Record<string, Net>, count: number, stageSeed: number, settings: Record<string, number | string | boolean>): Promise<StageTrace> => {
    const serialized = Object.fromEntries(await Promise.all(Object.entries(nets).map(async ([k, n]) => [k, await serializeNet(n)] as const)));
    return {
      format: 'rescl-trace', version: 1, stage, nets: serialized,
      batches: batchOrder(count, base.batchSize, base.epochs, stageSeed), settings: { ...shared, ...settings },
    };
  };
  const accOf = async (net: Net) => Object.fromEntries(await Promise.all(net.heads.map(async (h, i) => [h.taskId, await evaluateAccuracy(plainForward(net), i, test[tasks.findIndex((t) => t.id === h.taskId)])] as const)));
  const withHead = (net: Net) => {
    const copy = cloneNet(net);
    addHead(copy, t1.id, t1.train.numClasses, seed + 1, init);
    return copy;
  };
  const dumpOf = (stage: Stage, net: Net) => (dumpSteps ? { net, steps: dumpSteps, file: path.join(out, `${stage}.lab-dump.f32`) } : undefined);
  const headWarmupSteps = 20;
  const ftSettings = { task: t1.id, headWarmupSteps };

  // the same start as Experiment: source net seeded `seed`, stage seeds seed*100 + task index
  const source = buildNet(netKind, seed, flags.width as number, init);
  addHead(source, t0.id, t0.train.numClasses, seed, init);
  const sourceOptions = { ...base, seed: seed * 100 };
  const targetOptions = { ...base, seed: seed * 100 + 1, headWarmupSteps };
  const needSource = stages.some((s) => s !== 'source');
  if (stages.includes('source') || needSource) {
    const trace = await traceOf('source', { net: source }, train[0].count, sourceOptions.seed, { task: t0.id });
    const run = async () => ({ losses: await labLosses(trainSource(source, t0.id, train[0], sourceOptions), dumpOf('source', source)), acc: await accOf(source) });
    if (stages.includes('source')) await check('source', trace, run);
    else await run();
  }
  let finetuned: Net | null = null;
  if (stages.includes('finetune') || stages.includes('combine')) {
    const net = withHead(source);
    const trace = await traceOf('finetune', { net }, train[1].count, targetOptions.seed, ftSettings);
    const run = async () => ({ losses: await labLosses(trainFinetune(net, t1.id, train[1], targetOptions), dumpOf('finetune', net)), acc: await accOf(net) });
    if (stages.includes('finetune')) await check('finetune', trace, run);
    else await run();
    finetuned = net;
  }
  if (stages.includes('combine') && finetuned) {
    const c = buildCombined(source, finetuned);
    const trace = await traceOf('combine', { source, target: finetuned }, train[1].count, targetOptions.seed, {
      task: t1.id, lambda: 0.01, alphaLearningRate: 1e-2, alphaSourceInit: ALPHA_SOURCE_INIT, alphaTargetInit: ALPHA_TARGET_INIT,
    });
    await check('combine', trace, async () => {
      const losses = await labLosses(trainCombined(c, train[1], { ...base, seed: targetOptions.seed, lambda: 0.01, alphaLearningRate: 1e-2, targetBatchNorm: 'inference' }));
      const acc: Record<string, number> = {};
      for (const [i, t] of tasks.entries()) acc[t.id] = await evaluateAccuracy((x) => predictCombined(c, x), i, test[i]);
      return { losses, acc };
    });
    disposeCombinedAlphas(c);
  }
  if (stages.includes('lwf')) {
    const net = withHead(source);
    const trace = await traceOf('lwf', { net }, train[1].count, targetOptions.seed, { ...ftSettings, lambdaOld: 1 });
    await check('lwf', trace, async () => ({ losses: await labLosses(trainLwf(net, t1.id, train[1], { ...targetOptions, lambdaOld: 1 }), dumpOf('lwf', net)), acc: await accOf(net) }));
    disposeNet(net);
  }
  if (stages.includes('ewc')) {
    const fisher = computeFisher(source, t0.id, train[0], 200, seed);
    const anchors = ewcParameters(source).map((v) => v.clone());
    const net = withHead(source);
    const trace = await traceOf('ewc', { net }, train[1].count, targetOptions.seed, { ...ftSettings, lambdaEwc: 100 });
    trace.extra = { fisher: await tensors(fisher), anchors: await tensors(anchors) };
    await check('ewc', trace, async () => ({ losses: await labLosses(trainEwc(net, t1.id, train[1], { fisher, anchors }, { ...targetOptions, lambdaEwc: 100 }), dumpOf('ewc', net)), acc: await accOf(net) }));
    tf.dispose([...fisher, ...anchors]);
    disposeNet(net);
  }
  if (finetuned) disposeNet(finetuned);
  disposeNet(source);
  writeFileSync(path.join(out, 'summary.json'), JSON.stringify({ net: netKind, width: flags.width, backend, results }, null, 2));
  const failed = results.filter((r) => !r.pass);
  console.log(failed.length === 0 ? `crosscheck passed: ${results.length} stages` : `crosscheck FAILED: ${failed.map((r) => r.stage).join(', ')}`);
  if (failed.length) process.exit(1);
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    console.error(e.message);
    process.exit(2);
  }
  console.error(e);
  process.exit(1);
});
