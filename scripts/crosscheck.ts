/**
 * `npm run crosscheck -- [flags]`: an outside check of the lab's training. For each stage (source,
 * fine-tune with its head warm-up, combine, LwF, EWC) it exports the stage's initial weights and exact
 * batch order (src/core/trace.ts), runs the stage in the lab, replays it in PyTorch eager
 * (scripts/crosscheck_torch.py, system python3 + python3-torch) in float64 and in several float32
 * siblings (other summation orders), and judges the loss of every step and the final test accuracies
 * by the rule in scripts/crosscheckVerdict.ts. Exits 1 when a stage fails it.
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
import { judgeStage, maxRelDiff, type NamedRun, type Run, type StageJudgement } from './crosscheckVerdict';

const STAGES = ['source', 'finetune', 'combine', 'lwf', 'ewc'] as const;
type Stage = (typeof STAGES)[number];
const USAGE = `usage: npm run crosscheck -- [flags]
  --net <mlp|conv4> (default mlp)   --width <x> hidden-layer scale (default 1; conv4 on cpu: 0.25 keeps it quick)
  --backend <cpu|wasm> (default cpu)   --stages <comma list of ${STAGES.join(', ')}> (default all)
  --train-limit <n per task> (default 4000)   --test-limit <n> (default 2000)   --epochs <n> (default 2)
  --seed <n> (default 1)   --loss-rtol <x> (default 1e-4, over the first --loss-steps 50 steps)
  --acc-tol <points> (default 0.2)   --out <dir> (default repro-out/crosscheck-<net>-<backend>)
  --siblings <k> (default 4) float32 replays with each batch's examples and every dot product's inputs
               in a seeded random order, besides the trace's order and the reversed batches: the float32
               floor of the verdict (scripts/crosscheckVerdict.ts, docs/CROSSCHECK.md)
  --init <he|torch-default> (default he) the nets' initialisation (src/core/init.ts)
  --dump-steps <n> (default 0) source/fine-tune/LwF/EWC: write every variable after each of the first n steps,
               lab and every replay, for scripts/crosscheck_diff.py and crosscheck_drift.py <out> <stage>
  --stock 1   tfjs's own kernels only (no src/kernels replacements)
  --data-only 1   only write the task data (<task>-<split>-x.u8 / -y.u8) to --out, for scripts/finetune_gap.py
  --python <exe> (default: python3 if it has torch, else /usr/bin/python3; needs PyTorch: apt-get install -y python3-torch)`;

/** One stage's record in summary.json: the judgement (crosscheckVerdict.ts) plus the stock-Adam comparison. */
interface StageResult extends StageJudgement {
  stage: Stage;
  /** lab vs a replay with torch.optim.Adam (float64 bias corrections): for comparison, not judged */
  labVsTorchAdam: number;
  pass: boolean;
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
    siblings: { kind: 'int', min: 0, max: 50, default: 4 },
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
  // the float32 replays: the trace's batch order (the one 'exact' compares with), each batch reversed,
  // and --siblings seeded permutations of the examples within each batch and of the inputs of every
  // dot product (crosscheck_torch.py, CROSSCHECK_ORDER and CROSSCHECK_SUMS)
  const orders = ['forward', 'reversed', ...Array.from({ length: flags.siblings as number }, (_, k) => `perm:${k + 1}`)];
  const results: StageResult[] = [];
  /** Writes the trace, runs the lab's stage and the PyTorch replay, and compares them. */
  const check = async (stage: Stage, trace: StageTrace, runLab: () => Promise<{ losses: number[]; acc: Record<string, number> }>) => {
    const tracePath = path.join(out, `${stage}.trace.json`);
    writeFileSync(tracePath, traceToJson(trace));
    const labStarted = Date.now();
    const lab = await runLab();
    const labSeconds = (Date.now() - labStarted) / 1000;
    let replaySeconds = 0;
    // adam 'tfjs': the replay's Adam with the lab's float32 constants (the check); 'torch':
    // torch.optim.Adam, shown for comparison only (docs/CROSSCHECK.md: why the two part).
    // order: which float32 replay ('forward', 'reversed', 'perm:k'; crosscheck_torch.py, CROSSCHECK_ORDER/SUMS).
    const replay = (dtype: 'float32' | 'float64', adam: 'tfjs' | 'torch' = 'tfjs', order = 'forward'): Run => {
      const file = path.join(out, `${stage}.torch-${dtype}${adam === 'torch' ? '-torchadam' : ''}${order === 'forward' ? '' : `-${order.replace(':', '')}`}.json`);
      // --dump-steps: every tfjs-Adam replay writes its variables too (forward: torch-dump.npz, for
      // crosscheck_diff.py; the others torch-dump-<float64|order>.npz, for crosscheck_drift.py)
      const dumpName = dtype === 'float64' ? '-float64' : order === 'forward' ? '' : `-${order.replace(':', '')}`;
      const dump = dumpSteps && adam === 'tfjs'
        ? { CROSSCHECK_DUMP: path.join(out, `${stage}.torch-dump${dumpName}.npz`), CROSSCHECK_DUMP_STEPS: String(dumpSteps) } : {};
      // a 'perm:k' sibling permutes both the examples of each batch and the inputs of every dot product
      const sums = order.startsWith('perm:') ? order : 'forward';
      const env = { ...process.env, CROSSCHECK_DTYPE: dtype, CROSSCHECK_ADAM: adam, CROSSCHECK_ORDER: order, CROSSCHECK_SUMS: sums, ...dump };
      const started = Date.now();
      const run = spawnSync(python, [path.join('scripts', 'crosscheck_torch.py'), tracePath, out, file], { stdio: 'inherit', env });
      if (run.status !== 0) throw new Error(`crosscheck_torch.py failed on ${stage} in ${dtype}, order ${order} (exit ${run.status})`);
      replaySeconds += (Date.now() - started) / 1000;
      const r = JSON.parse(readFileSync(file, 'utf8')) as Run;
      return { losses: r.losses, acc: Object.fromEntries(Object.entries(r.acc).map(([id, a]) => [id, 100 * a])) };
    };
    const exact = replay('float64');
    const replays: NamedRun[] = orders.map((order) => ({ name: order, ...replay('float32', 'tfjs', order) }));
    const stockAdam = replay('float32', 'torch');
    const labPct: Run = { losses: lab.losses, acc: Object.fromEntries(Object.entries(lab.acc).map(([id, a]) => [id, 100 * a])) };
    const judged = judgeStage(labPct, exact, replays, { rtol, accTol, steps: lossSteps });
    const pass = judged.verdict !== 'fail';
    const result: StageResult = { stage, ...judged, labVsTorchAdam: maxRelDiff(lab.losses, stockAdam.losses, judged.compared).max, pass };
    results.push(result);
    writeFileSync(path.join(out, `${stage}.lab.json`), JSON.stringify(lab));
    const e = (x: number) => x.toExponential(2);
    const f = judged.floor;
    console.log(`${pass ? 'PASS' : 'FAIL'} (${judged.verdict}) ${stage.padEnd(8)} ${judged.steps} steps (lab ${labSeconds.toFixed(0)} s, ${orders.length + 2} replays ${replaySeconds.toFixed(0)} s); `
      + `first ${judged.compared}: lab/torch float32 ${e(judged.maxRel)} (step ${judged.worstStep}), within ${rtol} up to step ${judged.firstOverRtol - 1}; lab/float64 ${e(judged.labVsFloat64)}\n`
      + `  float32 floor ${e(f.spread)} (${f.spreadFrom}); replays vs float64: ${f.vsFloat64.map((x) => `${x.name} ${e(x.d)}`).join(', ')}; largest pair ${f.pairMax.a}/${f.pairMax.b} ${e(f.pairMax.d)}\n`
      + `  leave-one-out (replay vs float64 / floor of the others; > 2 would fail a float32 run): ${f.leaveOneOut.map((x) => `${x.name} ${x.ratio.toFixed(2)}${x.accOk ? '' : ' (accuracy off)'}`).join(', ')}\n`
      + `  lab/torch.optim.Adam ${e(result.labVsTorchAdam)}; accuracy lab / float64 / float32 ${orders.join(', ')}: `
      + Object.entries(judged.acc).map(([id, a]) => `${id} ${a.lab.toFixed(2)} / ${a.float64.toFixed(2)} / ${a.replays.map((x) => x.toFixed(2)).join(', ')}`).join('; ')
      + `\n  verdict: ${judged.reason}`);
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
  writeFileSync(path.join(out, 'summary.json'), JSON.stringify({
    net: netKind, width: flags.width, backend, rule: { rtol, accTol, steps: lossSteps, float32Replays: orders }, results,
  }, null, 2));
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
