/**
 * `npm run bench -- [--backend cpu|wasm|webgpu] [--net mlp,conv4,resnet8] [--stage plain,combined]
 *                   [--batch 128] [--steps 10] [--warmup 2] [--width 1] [--top N] [--stock]`
 *
 * Times training steps of the core's own stage loops (trainSource for 'plain', trainCombined for
 * 'combined') on random inputs, and prints one JSON line per case: ms per step (median and min,
 * each step synchronised by reading its loss back), samples/s, and tfjs kernels per step. A last
 * line per net gives the combined/plain ratio (target ≤ 2.2: two branches cost ~2x).
 * `--stock` keeps tfjs's own kernels (the baseline); by default src/kernels' replacements are
 * registered. `--top N` adds the N kernels that took longest in the profiled step (per-kernel time
 * as tf.profile reports it: wall time on cpu/wasm, GPU timestamps on webgpu where available).
 * Numbers are only comparable within one run on one machine.
 */
import * as tf from '@tensorflow/tfjs';
import { makeResident, disposeResident } from '../src/core/batches';
import { buildCombined, disposeCombinedAlphas } from '../src/core/combine';
import { isNetKind, type NetKind } from '../src/core/names';
import { addHead, buildNet, cloneNet, disposeNet, type Net } from '../src/core/nets';
import { trainCombined, trainSource, type StageOptions, type StageProgress } from '../src/core/train';
import { parseFlags, UsageError } from './cli';
import { useBackend, type ScriptBackend } from './backend';

const USAGE = `usage: npm run bench -- [--backend cpu|wasm|webgpu] [--net mlp,conv4,resnet8] [--stage plain,combined]
                       [--batch N] [--steps N] [--warmup N] [--width W] [--top N] [--stock]`;

type StageKind = 'plain' | 'combined';

interface Case { net: NetKind; stage: StageKind }

/** Time one kernel name took in the profiled step (summed over its calls). */
interface KernelTime { kernel: string; ms: number; calls: number; slowestMs: number; slowestShapes: string }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeSteps(
  makeStage: (options: StageOptions) => AsyncGenerator<StageProgress, void, undefined>,
  batch: number, warmup: number, steps: number,
): Promise<{ msPerStep: number[]; kernelsPerStep: number; top: KernelTime[] }> {
  const options: StageOptions = { epochs: 1000, batchSize: batch, learningRate: 1e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 0, maxSteps: warmup + steps + 1 };
  const stage = makeStage(options);
  for (let i = 0; i < warmup; i++) await stage.next();
  const msPerStep: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await stage.next();
    msPerStep.push(performance.now() - t0);
  }
  const profile = await tf.profile(async () => { await stage.next(); });
  await stage.return();
  const byName = new Map<string, KernelTime>();
  for (const k of profile.kernels) {
    const t = byName.get(k.name) ?? { kernel: k.name, ms: 0, calls: 0, slowestMs: 0, slowestShapes: '' };
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    t.ms += ms;
    t.calls += 1;
    if (ms >= t.slowestMs) {
      t.slowestMs = +ms.toFixed(2);
      t.slowestShapes = k.inputShapes.map((sh) => `[${sh.join(',')}]`).join(' ');
    }
    byName.set(k.name, t);
  }
  const top = [...byName.values()].sort((a, b) => b.ms - a.ms).map((t) => ({ ...t, ms: +t.ms.toFixed(2) }));
  return { msPerStep, kernelsPerStep: profile.kernels.length, top };
}

async function main(): Promise<void> {
  // `--stock` is a bare switch (the flag parser takes `--name value` only).
  const argv = process.argv.slice(2);
  const stock = argv.includes('--stock');
  const flags = parseFlags(argv.filter((a) => a !== '--stock'), {
    backend: { kind: 'choice', choices: ['cpu', 'wasm', 'webgpu'], default: 'cpu' },
    net: { kind: 'list', default: 'mlp,conv4' },
    stage: { kind: 'list', default: 'plain,combined' },
    batch: { kind: 'int', min: 1, max: 4096, default: 128 },
    steps: { kind: 'int', min: 1, max: 1000, default: 10 },
    warmup: { kind: 'int', min: 0, max: 100, default: 2 },
    width: { kind: 'number', min: 0.01, max: 4, default: 1 },
    top: { kind: 'int', min: 0, max: 100, default: 0 },
  }, USAGE);
  const nets = (flags.net as string[]).map((n) => {
    if (!isNetKind(n)) throw new UsageError(`--net: unknown network '${n}' (mlp, conv4, resnet8)`, USAGE);
    return n;
  });
  const stages = (flags.stage as string[]).map((s) => {
    if (s !== 'plain' && s !== 'combined') throw new UsageError(`--stage: unknown stage '${s}' (plain, combined)`, USAGE);
    return s as StageKind;
  });
  const backend = await useBackend(flags.backend as ScriptBackend, { stock });
  const batch = flags.batch as number;
  const count = batch * 4;
  const images = new Uint8Array(count * 784).map((_, i) => (i * 2654435761) >>> 24);
  const labels = new Uint8Array(count).map((_, i) => i % 10);
  const data = makeResident({ images, labels, count, numClasses: 10 });
  const cases: Case[] = nets.flatMap((net) => stages.map((stage) => ({ net, stage })));
  const medians = new Map<string, number>();
  for (const c of cases) {
    const source: Net = buildNet(c.net, 1, flags.width as number);
    addHead(source, 'a', 10, 1);
    let result;
    if (c.stage === 'plain') {
      result = await timeSteps((o) => trainSource(source, 'a', data, o), batch, flags.warmup as number, flags.steps as number);
    } else {
      const target = cloneNet(source);
      addHead(target, 'b', 10, 2);
      const combined = buildCombined(source, target);
      result = await timeSteps((o) => trainCombined(combined, data, { ...o, lambda: 1e-3, alphaLearningRate: 1e-2, targetBatchNorm: 'inference' }), batch, flags.warmup as number, flags.steps as number);
      disposeCombinedAlphas(combined);
      disposeNet(target);
    }
    disposeNet(source);
    const ms = median(result.msPerStep);
    medians.set(`${c.net}/${c.stage}`, ms);
    console.log(JSON.stringify({
      name: `${c.net}-${c.stage}`, backend, net: c.net, stage: c.stage, batch, width: flags.width,
      msPerStepMedian: +ms.toFixed(2), msPerStepMin: +Math.min(...result.msPerStep).toFixed(2),
      samplesPerSec: Math.round(batch / (ms / 1000)), kernelsPerStep: result.kernelsPerStep, kernels: stock ? 'stock' : 'fast',
      ...(flags.top ? { topKernels: result.top.slice(0, flags.top as number) } : {}),
    }));
  }
  for (const net of nets) {
    const plain = medians.get(`${net}/plain`);
    const combined = medians.get(`${net}/combined`);
    if (plain && combined) console.log(JSON.stringify({ name: `${net}-combined-vs-plain`, backend, ratio: +(combined / plain).toFixed(2), target: 2.2 }));
  }
  disposeResident(data);
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    console.error(e.message);
    process.exit(2);
  }
  console.error(e);
  process.exit(1);
});
