/**
 * `node scripts/run-ts.mjs scripts/combineDecayStudy.ts -- [flags]`: does α_t's L1 get dodged in
 * ResCL's combine stage when only kernels are decayed (docs/RESULTS.md, "Decay in the combine stage
 * (issue #13)")? Trains one source and one fine-tuned net_t, then ResCL's combine stage for every
 * λ under each `CombineDecay` setting from that same start, and prints per-layer measures of the
 * target branch read from the trained net_c (before folding):
 *
 *   |α_t|   = mean_c |α_t,c|
 *   γ/b ×   = ‖γ_t‖ (BN) or ‖b_t‖ (plain units with bias) after the stage / after fine-tuning
 *   amp ×   = mean_c |k_t,c|·‖W_t[:,c]‖ after / after fine-tuning  (k_t = γ_t/√(σ²_t+ε), 1 without BN)
 *   gain    = mean_c |α_t,c|·|k_t,c|·‖W_t[:,c]‖, the folded target-branch kernel's column norm
 *   shift   = mean_c |α_t,c·c_t,c|, the folded target-branch bias (c_t as in core/fold.ts)
 *
 * A dodge shows as 'kernels' giving a smaller |α_t| than 'all' at the same λ while γ/b × and amp ×
 * grow, so that gain and shift stay.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Experiment } from '../src/core/experiment';
import type { CombinedNet } from '../src/core/combine';
import { isNetKind } from '../src/core/names';
import { BN_EPSILON, cloneNet, disposeNet, type Net, type UnitParams } from '../src/core/nets';
import type { CombineDecay } from '../src/core/train';
import { TRAINING_DEFAULTS as D } from '../src/core/trainingDefaults';
import { loadScenarioTasks } from '../src/data/scenarioNode';
import { useBackend, type ScriptBackend } from './backend';
import { parseFlags, parseNumberList, UsageError } from './cli';

const USAGE = `usage: node scripts/run-ts.mjs scripts/combineDecayStudy.ts -- [flags]
  --scenario <id> (default mnist-fashion)  --net <mlp|conv4|resnet8> (default mlp)  --width <x> (default 1)
  --lambdas <comma list> (default 1e-3,1e-2,1e-1)  --decays <kernels,all> (default both)
  --epochs <n> (default 2)  --train-limit <n> (default 3000)  --test-limit <n> (default 2000)  --seed <n> (default ${D.seed})
  --backend <cpu|wasm|webgpu> (default wasm)  --out <file.json> (default repro-out/combine-decay-<net>.json)`;

interface UnitStats { unit: string; alphaT: number; paramRatio: number | null; ampRatio: number; gain: number; shift: number }

/** Per output channel: |k|, ‖W[:,c]‖, c (folded shift) and the γ-or-bias vector of a target unit. */
interface Branch { k: Float32Array; colNorm: Float32Array; shift: Float32Array; param: Float32Array | null }
function branchOf(u: UnitParams): Branch {
  let out: Branch | null = null;
  tf.tidy(() => {
    const c = u.spec.outChannels;
    const bias = u.bias ?? tf.zeros([c]);
    const k = u.bn ? tf.div(u.bn.gamma, tf.sqrt(tf.add(u.bn.movingVariance, BN_EPSILON))) : tf.ones([c]);
    const shift = u.bn ? tf.sub(u.bn.beta, tf.mul(k, tf.sub(u.bn.movingMean, bias))) : bias;
    const kernel = u.kernel ? tf.reshape(u.kernel, [-1, c]) : tf.ones([1, c]);
    const colNorm = tf.sqrt(tf.sum(tf.square(kernel), 0));
    const param = u.bn ? u.bn.gamma : u.bias ?? null;
    out = {
      k: tf.abs(k).dataSync() as Float32Array, colNorm: colNorm.dataSync() as Float32Array,
      shift: shift.dataSync() as Float32Array, param: param ? (param.dataSync() as Float32Array).slice() : null,
    };
  });
  return out!;
}

const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

function unitStats(c: CombinedNet, finetuned: Net): UnitStats[] {
  return [...c.target.units.entries()].map(([id, u]) => {
    const now = branchOf(u);
    const before = branchOf(finetuned.units.get(id)!);
    const at = c.alphaTarget.get(id)!.dataSync() as Float32Array;
    const amp = (b: Branch) => mean(b.k.map((k, i) => k * b.colNorm[i]));
    return {
      unit: id,
      alphaT: mean(at.map(Math.abs)),
      paramRatio: now.param && before.param && norm(before.param) > 0 ? norm(now.param) / norm(before.param) : null,
      ampRatio: amp(now) / amp(before),
      gain: mean(at.map((a, i) => Math.abs(a) * now.k[i] * now.colNorm[i])),
      shift: mean(at.map((a, i) => Math.abs(a * now.shift[i]))),
    };
  });
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), {
    scenario: { kind: 'string', default: 'mnist-fashion' },
    net: { kind: 'string', default: 'mlp' },
    width: { kind: 'number', min: 0.01, max: 4, default: 1 },
    lambdas: { kind: 'string', default: '1e-3,1e-2,1e-1' },
    decays: { kind: 'list', default: 'kernels,all' },
    epochs: { kind: 'int', min: 1, max: 1000, default: 2 },
    'train-limit': { kind: 'int', min: 10, max: 60000, default: 3000 },
    'test-limit': { kind: 'int', min: 10, max: 10000, default: 2000 },
    seed: { kind: 'int', min: 0, max: 2 ** 31 - 1, default: D.seed },
    backend: { kind: 'choice', choices: ['cpu', 'wasm', 'webgpu'], default: 'wasm' },
    out: { kind: 'optional-string' },
  }, USAGE);
  const net = flags.net as string;
  if (!isNetKind(net)) throw new UsageError(`--net: unknown network '${net}'`, USAGE);
  const decays = (flags.decays as string[]).map((d) => {
    if (d !== 'kernels' && d !== 'all') throw new UsageError(`--decays: unknown setting '${d}' (kernels, all)`, USAGE);
    return d as CombineDecay;
  });
  const lambdas = parseNumberList('lambdas', flags.lambdas as string, USAGE);
  const backend = await useBackend(flags.backend as ScriptBackend);
  const seed = flags.seed as number;
  const tasks = await loadScenarioTasks(flags.scenario as string, { seed, trainLimit: flags['train-limit'] as number, testLimit: flags['test-limit'] as number });
  const stage = { epochs: flags.epochs as number, batchSize: D.batchSize, learningRate: D.learningRate, weightDecay: D.weightDecay, seed, reportIntervalMs: 1000 };
  const started = performance.now();
  const rows: Record<string, unknown>[] = [];
  let first: Experiment | null = null;
  for (const decay of decays) {
    const exp = new Experiment(tasks, { net, width: flags.width as number, seed, stage, alphaLearningRate: D.alphaLearningRate, combineDecay: decay });
    if (first) {
      // the same source and fine-tuned net_t for every setting
      await exp.adoptSource(cloneNet(first.sourceNet));
      exp.adoptFirstFinetuned(cloneNet(first.firstFinetunedNet!));
    } else {
      for await (const e of exp.trainSourceNet()) void e;
    }
    for (const lambda of lambdas) {
      const t0 = performance.now();
      let combined: CombinedNet | null = null;
      let stats: UnitStats[] = [];
      let acc: Record<string, number> = {};
      for await (const e of exp.runMethod('rescl', lambda)) {
        if (e.type === 'combined') combined = e.combined;
        if (e.type === 'progress' && e.progress.stage === 'combine' && e.progress.done && combined) stats = unitStats(combined, exp.firstFinetunedNet!);
        if (e.type === 'result') {
          acc = e.result.accByTask;
          disposeNet(e.result.net);
        }
      }
      const seconds = Math.round((performance.now() - t0) / 100) / 10;
      const [src, tgt] = tasks.map((t) => acc[t.id]);
      rows.push({ decay, lambda, source: src, target: tgt, seconds, units: stats });
      console.log(`\n${net} w${flags.width} decay=${decay} λ=${lambda}: source ${(100 * src).toFixed(1)}%, target ${(100 * tgt).toFixed(1)}% (${seconds}s)`);
      console.log('unit        |α_t|   γ/b ×   amp ×   gain     shift');
      for (const s of stats) {
        console.log(`${s.unit.padEnd(10)}  ${s.alphaT.toFixed(4)}  ${s.paramRatio === null ? '  —   ' : s.paramRatio.toFixed(4)}  ${s.ampRatio.toFixed(4)}  ${s.gain.toFixed(4)}  ${s.shift.toFixed(4)}`);
      }
    }
    if (first && first !== exp) exp.dispose();
    else first = exp;
  }
  const ftAcc = await first!.evaluateRow(first!.firstFinetunedNet!, 1);
  console.log(`\nfine-tuned net_t (stage 2): source ${(100 * ftAcc[0]).toFixed(1)}%, target ${(100 * ftAcc[1]).toFixed(1)}%; total ${Math.round((performance.now() - started) / 1000)}s on ${backend}`);
  const out = (flags.out as string | undefined) ?? path.join('repro-out', `combine-decay-${net}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ net, width: flags.width, backend, settings: { ...stage, trainLimit: flags['train-limit'], testLimit: flags['test-limit'] }, finetuned: ftAcc, seconds: Math.round((performance.now() - started) / 1000), rows }, null, 2));
  first!.dispose();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(e instanceof UsageError ? 2 : 1);
});
