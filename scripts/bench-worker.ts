/**
 * Engine overhead benchmark (Node, tfjs cpu): the same ResCL run (source → fine-tune → combine, mlp,
 * split-mnist subsets) consumed directly from core's Experiment and driven through the Engine with
 * its throttled events, live accuracies, α histograms, persistence and event-loop yields.
 * Reports ms per training step per stage for both, the engine's overhead in percent, and the events
 * per second the engine posted. Usage: [EVAL_EVERY_MS=ms] node scripts/run-ts.mjs scripts/bench-worker.ts [steps=40]
 */
import * as tf from '@tensorflow/tfjs';
import { Experiment } from '../src/core/experiment';
import { disposeNet } from '../src/core/nets';
import { nodeFetchBytes } from '../src/data/loadNode';
import { Engine } from '../src/engine/engine';
import { PROTOCOL_VERSION, type EngineEvent, type RunConfig } from '../src/engine/protocol';
import { MemoryStorage } from '../src/engine/storage';
import { loadBundledDataset } from '../src/data/load';
import { buildScenario } from '../src/data/tasks';

const steps = Number(process.argv[2] ?? 40);
const config: RunConfig = {
  net: 'mlp', epochs: 1, batchSize: 64, learningRate: 1e-3, alphaLearningRate: 1e-2, weightDecay: 1e-4, headWarmupSteps: 5,
  seed: 1, lambda: 1e-3, methods: ['rescl'], sweep: {}, maxStepsPerStage: steps,
};
const scenario = { scenario: 'split-mnist' as const, seed: 1, trainLimit: 64 * steps, testLimit: 500 };

await tf.setBackend('cpu');
await tf.ready();

/** ms per step of each stage, from the last progress report of the stage */
function perStep(reports: { stage: string; step: number; elapsedMs: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reports) out[r.stage] = r.elapsedMs / r.step;
  return out;
}

// 1. core alone
const mnist = await loadBundledDataset('mnist', nodeFetchBytes('public/data'));
const tasks = buildScenario(scenario.scenario, { mnist }, { seed: 1, trainLimit: scenario.trainLimit, testLimit: scenario.testLimit });
const exp = new Experiment(tasks, {
  net: 'mlp', seed: 1, headWarmupSteps: config.headWarmupSteps, alphaLearningRate: config.alphaLearningRate,
  stage: { epochs: 1, batchSize: 64, learningRate: 1e-3, weightDecay: 1e-4, seed: 1, reportIntervalMs: 0, maxSteps: steps },
});
const coreReports: { stage: string; step: number; elapsedMs: number }[] = [];
for await (const e of exp.runMethod('rescl', config.lambda)) {
  if (e.type === 'progress') coreReports.push(e.progress);
  if (e.type === 'result') disposeNet(e.result.net);
}
exp.dispose();

// 2. the engine
const events: { t: number; e: EngineEvent }[] = [];
const engine = new Engine({
  post: (e) => events.push({ t: performance.now(), e }),
  fetchBytes: nodeFetchBytes('public/data'),
  storage: new MemoryStorage(),
  selectBackend: async () => ({ backend: 'cpu', refused: [], smoke: { ok: true, matMul: [], addNCount: 0, addNValue: 0, ms: 0 } }),
  // EVAL_EVERY_MS=1e9 turns the live accuracies / α histograms off, to see what they cost
  ...(process.env.EVAL_EVERY_MS ? { evalEveryMs: Number(process.env.EVAL_EVERY_MS) } : {}),
});
const send = (cmd: Record<string, unknown>) => engine.handle({ v: PROTOCOL_VERSION, ...cmd });
await send({ type: 'hello', backend: 'cpu' });
await send({ type: 'loadScenario', ...scenario });
await send({ type: 'configure', config });
const t0 = performance.now();
await send({ type: 'run', mode: 'rescl' });
await engine.idle();
const seconds = (performance.now() - t0) / 1000;
engine.dispose();
const runEvents = events.filter((x) => x.t >= t0);
const engineReports = runEvents.map((x) => x.e).filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress');

const core = perStep(coreReports);
const eng = perStep(engineReports);
console.log(`steps per stage: ${steps}; run ${seconds.toFixed(1)} s; events ${runEvents.length} (${(runEvents.length / seconds).toFixed(1)}/s, max 1 s window ${maxPerSecond(runEvents.map((x) => x.t))})`);
for (const stage of Object.keys(core)) {
  const overhead = ((eng[stage] - core[stage]) / core[stage]) * 100;
  console.log(`${stage.padEnd(9)} core ${core[stage].toFixed(1)} ms/step   engine ${eng[stage].toFixed(1)} ms/step   overhead ${overhead.toFixed(1)}%`);
}

function maxPerSecond(times: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] > 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
