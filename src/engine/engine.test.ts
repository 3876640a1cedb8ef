import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFetchBytes } from '../data/loadNode';
import type { BackendSelection } from './backend';
import { Engine } from './engine';
import {
  PROTOCOL_VERSION, type EngineEvent, type EventType, type ExportArtifactsEvent, type OutgoingCommand, type RunConfig,
} from './protocol';
import { MemoryStorage } from './storage';

const CPU: BackendSelection = { backend: 'cpu', refused: [], smoke: { ok: true, matMul: [19, 22, 43, 50], addNCount: 9, addNValue: 9, ms: 1 } };

const CONFIG: RunConfig = {
  net: 'mlp', epochs: 1, batchSize: 64, learningRate: 2e-3, alphaLearningRate: 2e-2, weightDecay: 1e-4, headWarmupSteps: 1,
  seed: 1, lambda: 1e-3, methods: ['rescl', 'ft'], sweep: { rescl: [0, 1e-2] }, maxStepsPerStage: 3,
};

interface Harness {
  engine: Engine;
  events: EngineEvent[];
  storage: MemoryStorage;
  send: (cmd: OutgoingCommand | Record<string, unknown>) => Promise<void>;
  of: <T extends EventType>(type: T) => Extract<EngineEvent, { type: T }>[];
  waitFor: <T extends EventType>(type: T, pred?: (e: Extract<EngineEvent, { type: T }>) => boolean, from?: number) => Promise<Extract<EngineEvent, { type: T }>>;
  selects: string[];
}

const engines: Engine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) { await e.handle({ type: 'stop', v: PROTOCOL_VERSION }); await e.idle(); e.dispose(); }
});

function harness(storage = new MemoryStorage(), reportIntervalMs = 0, fetchBytes = nodeFetchBytes('public/data')): Harness {
  const events: EngineEvent[] = [];
  const selects: string[] = [];
  const engine = new Engine({
    post: (e) => events.push(e),
    fetchBytes,
    storage,
    selectBackend: async (pref) => { selects.push(pref); return CPU; },
    reportIntervalMs,
    evalEveryMs: 0,
    evalSubset: 64,
  });
  engines.push(engine);
  const of = <T extends EventType>(type: T) => events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);
  return {
    engine, events, storage, selects, of,
    send: (cmd) => engine.handle({ v: PROTOCOL_VERSION, ...cmd }),
    waitFor: async (type, pred = () => true, from = 0) => {
      for (let i = 0; i < 6000; i++) {
        const hit = events.slice(from).find((e) => e.type === type && pred(e as never));
        if (hit) return hit as never;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`no ${type} event`);
    },
  };
}

async function loaded(h: Harness, config: RunConfig = CONFIG): Promise<void> {
  await h.send({ type: 'hello', backend: 'cpu' });
  await h.send({ type: 'loadScenario', scenario: 'split-mnist', seed: 1, trainLimit: 200, testLimit: 100 });
  await h.send({ type: 'configure', config });
}

function errorsOf(h: Harness) {
  return h.of('error').map((e) => `${e.code}: ${e.message}`);
}

describe('Engine (in-process, cpu, split-mnist subsets)', () => {
  it('runs a full tiny pipeline, streams small throttled events, exports both forms and imports them back, without leaking tensors', async () => {
    const h = harness();
    await loaded(h);
    expect(h.of('ready')[0].backend).toBe('cpu');
    expect(h.of('scenarioLoaded')[0].tasks.map((t) => t.id)).toEqual(['mnist-0-4', 'mnist-5-9']);
    await h.send({ type: 'run', mode: 'full' });
    await h.engine.idle();
    expect(errorsOf(h)).toEqual([]);
    const points = h.of('tradeoffPoint');
    expect(points.map((p) => `${p.method}:${p.knob}`)).toEqual(['rescl:0.001', 'rescl:0', 'rescl:0.01', 'ft:null']);
    for (const p of points) {
      expect(p.accMatrix.length).toBe(2);
      expect(Object.keys(p.accByTask)).toEqual(['mnist-0-4', 'mnist-5-9']);
    }
    expect(points[0].foldMaxAbsDiff).toBeLessThan(1e-3);
    expect(points[0].alphas?.[0].alphaSource.length).toBe(30);
    expect(points[0].paramCount).toBe(points[3].paramCount);
    const stages = h.of('stageStarted').map((s) => s.stage);
    expect(stages.slice(0, 3)).toEqual(['source', 'finetune', 'combine']);
    // the fine-tuned net of task 1 is shared: later ResCL points do not fine-tune again; fine-tuning
    // itself trains its own under the default equal budget (as many steps as ResCL's two stages)
    expect(stages.filter((s) => s === 'finetune').length).toBe(2);
    const combineProgress = h.of('progress').filter((p) => p.stage === 'combine');
    expect(combineProgress.every((p) => typeof p.lambda === 'number')).toBe(true);
    expect(combineProgress.some((p) => p.accByTask && Object.keys(p.accByTask).length === 2)).toBe(true);
    expect(h.of('alphaHistogram').length).toBeGreaterThan(0);
    // α trajectories: combine progress carries mean |α_s|, |α_t| per unit
    expect(combineProgress.some((p) => (p.alphas?.length ?? 0) > 0)).toBe(true);
    const crit = h.of('criteria').at(-1);
    expect(crit?.tauFrom).toBe('ft');
    expect(crit?.byMethod.rescl?.maxAvgAcc).toBeGreaterThan(0);
    expect(h.of('foldReport').length).toBe(3);
    expect(h.of('samplePredictions').length).toBe(8);
    expect(h.of('state').at(-1)?.state).toBe('done');
    // small events: nothing but samples carries more than a few KB
    for (const e of h.events) if (e.type !== 'samplePredictions' && e.type !== 'scenarioLoaded') expect(JSON.stringify(e).length).toBeLessThan(8000);

    // fold: the fold check of a finished λ, on demand
    await h.send({ type: 'fold', lambda: 1e-3, id: 'f1' });
    const fold = h.of('foldReport').find((e) => e.id === 'f1');
    expect(fold?.maxAbsDiff).toBeLessThan(1e-4 * Math.max(1, fold?.logitScale ?? 1));
    expect(fold?.paramCount.folded).toBe(points[0].paramCount);

        // export tfjs: loads with stock tf.loadLayersModel
    await h.send({ type: 'export', lambda: 1e-3, format: 'tfjs', id: 'x1' });
    const tfjs = h.of('exportArtifacts').find((e) => e.id === 'x1') as ExportArtifactsEvent;
    expect(tfjs.files.map((f) => f.name)).toEqual(['model.json', 'weights.bin']);
    const mj = JSON.parse(new TextDecoder().decode(tfjs.files[0].data));
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: mj.weightsManifest[0].weights, weightData: tfjs.files[1].data }));
    expect(model.outputs.length).toBe(2);
    model.dispose();
    // export json, then import both forms: same accuracies as the point
    await h.send({ type: 'export', lambda: 1e-3, format: 'json', id: 'x2' });
    const json = h.of('exportArtifacts').find((e) => e.id === 'x2') as ExportArtifactsEvent;
    const text = new TextDecoder().decode(json.files[0].data);
    expect(JSON.parse(text)).toMatchObject({ format: 'rescl-folded', version: 1, provenance: { lambda: 1e-3, net: 'mlp' } });
    await h.send({ type: 'importModel', fileName: 'a.json', json: text, id: 'i1' });
    await h.send({ type: 'importModel', fileName: 'model.json', json: new TextDecoder().decode(tfjs.files[0].data), weights: tfjs.files[1].data, id: 'i2' });
    expect(errorsOf(h)).toEqual([]);
    for (const r of h.of('importResult')) {
      for (const [task, acc] of Object.entries(points[0].accByTask)) expect(Math.abs(r.accByTask[task] - acc)).toBeLessThanOrEqual(0.011);
    }

    // no leaks: a second λ (warm-started) and an export leave the tensor count unchanged
    const before = tf.memory().numTensors;
    await h.send({ type: 'trainLambda', lambda: 3e-3 });
    await h.engine.idle();
    await h.send({ type: 'export', lambda: 3e-3, format: 'json' });
    expect(errorsOf(h)).toEqual([]);
    expect(h.of('tradeoffPoint').at(-1)?.knob).toBe(3e-3);
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000); // ~45 s alone; over 60 s when the 2-core machine is shared

  it('runs the plan once per seed, reports mean ± sd over seeds, says which seed trains, and stops in the second seed', async () => {
    const h = harness();
    await loaded(h, { ...CONFIG, methods: ['rescl', 'ft'], sweep: {}, maxStepsPerStage: 3, seeds: [1, 2] });
    await h.send({ type: 'run', mode: 'full' });
    await h.engine.idle();
    expect(errorsOf(h)).toEqual([]);
    const ft = h.of('tradeoffPoint').filter((p) => p.method === 'ft');
    expect(ft.map((p) => p.spread?.seeds)).toEqual([1, 2]);
    expect(ft[1].spread?.target).toBeGreaterThanOrEqual(0);
    expect(h.of('progress').some((p) => p.seed?.index === 1 && p.seed.count === 2 && p.seed.value === 2)).toBe(true);
    // the run's ETA covers the second seed once the first is measured
    expect(h.of('progress').filter((p) => p.seed?.index === 0 && p.stage !== 'source').every((p) => p.runEtaMs === undefined)).toBe(true);
    expect(h.of('progress').some((p) => p.seed?.index === 1 && p.runEtaMs !== undefined)).toBe(true);
    expect(h.of('criteria').at(-1)?.byMethod.ft?.seeds).toBe(2);
    expect(h.of('state').some((e) => /seed 2 \(2 of 2\)/.test(e.detail))).toBe(true);

    // stop inside the second seed of a new 2-seed run: idle, nothing reported after it
    await h.send({ type: 'configure', config: { ...CONFIG, methods: ['rescl'], sweep: {}, maxStepsPerStage: 20, seeds: [3, 4] } });
    await h.send({ type: 'run', mode: 'full' });
    await h.waitFor('progress', (p) => p.seed?.value === 4);
    await h.send({ type: 'stop' });
    await h.engine.idle();
    expect(h.of('state').at(-1)).toMatchObject({ state: 'idle', detail: 'stopped' });
    expect(h.of('tradeoffPoint').filter((p) => p.spread?.seeds === 2 && p.method === 'rescl').length).toBe(1);

    // a bad seed list is refused with what is wrong
    for (const [seeds, why] of [[[], /1 to 10 seeds/], [[1, 1], /must not repeat/], [[1, 2.5], /whole number/], [[-1], /between 0/]] as const) {
      await h.send({ type: 'configure', config: { ...CONFIG, seeds: [...seeds] } });
      expect(h.of('error').at(-1)?.message).toMatch(why);
    }
  }, 300_000);

  it('trains with the run\'s comparison settings: a new session each, seen in which stages run', async () => {
    const h = harness();
    const finetunes = () => h.of('stageStarted').filter((s) => s.stage === 'finetune').length;
    // budget 'stage': FT gets one stage and shares ResCL's fine-tuned network (no fine-tune of its own)
    await loaded(h, { ...CONFIG, sweep: {}, budget: 'stage' });
    await h.send({ type: 'run', mode: 'full' });
    await h.engine.idle();
    expect(errorsOf(h)).toEqual([]);
    expect(finetunes()).toBe(1);
    // + baselineBatchNorm 'frozen-source': FT trains unlike ResCL's stage 2 (source BN statistics), so it fine-tunes its own
    await h.send({ type: 'configure', config: { ...CONFIG, sweep: {}, budget: 'stage', baselineBatchNorm: 'frozen-source', combineDecay: 'all' } });
    await h.send({ type: 'run', mode: 'full' });
    await h.engine.idle();
    expect(errorsOf(h)).toEqual([]);
    expect(h.of('stageStarted').filter((s) => s.stage === 'source')).toHaveLength(2); // not the first run's session
    expect(finetunes()).toBe(3);
    expect(h.of('tradeoffPoint').map((p) => p.method)).toEqual(['rescl', 'ft', 'rescl', 'ft']);
    // the exported network says which settings it was trained under
    await h.send({ type: 'export', lambda: CONFIG.lambda, format: 'json', id: 'x' });
    const file = h.of('exportArtifacts').find((e) => e.id === 'x')?.files[0];
    expect(JSON.parse(new TextDecoder().decode(file?.data)).provenance.comparison).toEqual({
      budget: 'stage', jointInit: 'source', init: 'he', fisher: 'true', baselineBatchNorm: 'frozen-source', combineDecay: 'all',
    });
  }, 300_000);

  it('pauses, steps one step at a time, applies a new λ at the next step, and stops keeping finished results', async () => {
    const h = harness();
    await loaded(h, { ...CONFIG, maxStepsPerStage: 40, sweep: {} , methods: ['rescl'] });
    await h.send({ type: 'trainLambda', lambda: 1e-3 });
    await h.engine.idle();
    await h.send({ type: 'run', mode: 'rescl', knob: 0.02 });
    const first = await h.waitFor('progress', (p) => p.stage === 'combine' && p.knob === 0.02);
    expect(first.lambda).toBe(0.02);
    await h.send({ type: 'pause' });
    await new Promise((r) => setTimeout(r, 300));
    const n = h.of('progress').length;
    await new Promise((r) => setTimeout(r, 400));
    expect(h.of('progress').length).toBe(n); // paused: nothing moves
    expect(h.of('state').at(-1)?.state).toBe('paused');
    const last = h.of('progress').at(-1);
    await h.send({ type: 'step' });
    const stepped = await h.waitFor('progress', () => true, h.events.length);
    expect(stepped.step).toBe((last?.step ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.of('progress').length).toBe(n + 1);
    await h.send({ type: 'setLambda', lambda: 0.5 });
    const mark = h.events.length;
    await h.send({ type: 'resume' });
    const moved = await h.waitFor('progress', (p) => p.stage === 'combine', mark);
    expect(moved.lambda).toBe(0.5);
    await h.send({ type: 'stop' });
    await h.engine.idle();
    expect(h.of('state').at(-1)).toMatchObject({ state: 'idle', detail: 'stopped' });
    expect(h.of('tradeoffPoint').map((p) => p.knob)).toEqual([1e-3]);
    await h.send({ type: 'export', lambda: 1e-3, format: 'json' });
    expect(errorsOf(h)).toEqual([]);
    expect(h.of('exportArtifacts').length).toBe(1);
  });

  it('answers bad commands with an error event and keeps the run and results intact', async () => {
    const h = harness();
    await h.send({ type: 'hello', backend: 'cpu' });
    await h.send({ type: 'run', mode: 'full' });
    expect(h.of('error').at(-1)?.code).toBe('not-ready');
    await loaded(h, { ...CONFIG, sweep: {}, methods: ['rescl'] });
    await h.send({ type: 'run', mode: 'rescl' });
    await h.engine.idle();
    const pointsBefore = h.of('tradeoffPoint').length;
    expect(pointsBefore).toBe(1);
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ type: 'frobnicate' }, 'unknown-type', /unknown command type/],
      [{ type: 'pause', v: 99 }, 'version-mismatch', /version/],
      [{ type: 'configure', config: { ...CONFIG, epochs: 1000 } }, 'bad-field', /epochs must be between/],
      [{ type: 'configure', config: { ...CONFIG, baselineBatchNorm: 'frozen' } }, 'bad-field', /config.baselineBatchNorm must be one of batch, frozen-source \(got "frozen"\)/],
      [{ type: 'setLambda', lambda: -1 }, 'bad-field', /lambda/],
      [{ type: 'export', lambda: 0.123, format: 'tfjs' }, 'not-ready', /no finished ResCL network at λ=0.123/],
      [{ type: 'fold', lambda: 0.5 }, 'not-ready', /no finished ResCL network at λ=0.5/],
      [{ type: 'fold', lambda: 'x' }, 'bad-field', /fold.lambda must be a number/],
      [{ type: 'loadCustom', seed: 1, trainLimit: null, tasks: [1, 2].map((i) => ({ name: `t${i}`, trainImages: new ArrayBuffer(16), trainLabels: new ArrayBuffer(8), testImages: new ArrayBuffer(16), testLabels: new ArrayBuffer(8) })) }, 'bad-file', /magic|IDX|bytes/i],
      [{ type: 'importModel', fileName: 'x.json', json: '{not json' }, 'bad-file', /not valid JSON/],
      [{ type: 'importModel', fileName: 'x.json', json: JSON.stringify({ format: 'rescl-folded', version: 2 }) }, 'bad-file', /version 2/],
      [{ type: 'importModel', fileName: 'x.json', json: JSON.stringify({ format: 'something' }) }, 'bad-file', /neither/],
    ];
    for (const [cmd, code, message] of cases) {
      const mark = h.events.length;
      await h.engine.handle({ v: PROTOCOL_VERSION, ...cmd });
      const err = h.events.slice(mark).find((e) => e.type === 'error');
      expect(err, JSON.stringify(cmd).slice(0, 80)).toMatchObject({ code });
      expect((err as { message: string }).message).toMatch(message);
    }
    // corrupt variants of a real export
    await h.send({ type: 'export', lambda: 1e-3, format: 'json', id: 'good' });
    const good = JSON.parse(new TextDecoder().decode((h.of('exportArtifacts')[0]).files[0].data));
    const bytes = new Uint8Array(Buffer.from(good.weightData, 'base64'));
    const nan = new Float32Array(bytes.buffer.slice(0));
    nan[5] = Number.NaN;
    const variants: [unknown, RegExp][] = [
      [{ ...good, weightData: Buffer.from(bytes.subarray(0, bytes.length - 4)).toString('base64') }, /describe \d+ bytes but the weights hold/],
      [{ ...good, weightData: Buffer.from(new Uint8Array(nan.buffer)).toString('base64') }, /not a finite number/],
      [{ ...good, modelTopology: { class_name: 'Sequential' } }, /not a tfjs layers model/],
      [{ ...good, weightSpecs: good.weightSpecs.map((s: { dtype: string }) => ({ ...s, dtype: 'int32' })) }, /only float32/],
    ];
    for (const [file, message] of variants) {
      const mark = h.events.length;
      await h.send({ type: 'importModel', fileName: 'bad.json', json: JSON.stringify(file) });
      const err = h.events.slice(mark).find((e) => e.type === 'error');
      expect(err).toMatchObject({ code: 'bad-file' });
      expect((err as { message: string }).message).toMatch(message);
    }
    // a model with the wrong number of outputs for this scenario
    await h.send({ type: 'loadScenario', scenario: 'mnist-fashion-rotated', seed: 1, trainLimit: 50, testLimit: 50 });
    await h.send({ type: 'importModel', fileName: 'good.json', json: JSON.stringify(good) });
    expect(h.of('error').at(-1)?.message).toMatch(/good.json was exported for the tasks "mnist-0-4" \(5 classes\), "mnist-5-9" \(5 classes\); the loaded scenario has .*Load the scenario it was made for first/);
    // the same network without its task list (a tfjs model.json) is refused by its heads
    const tfjsJson = JSON.stringify({ format: 'layers-model', modelTopology: good.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: good.weightSpecs }] });
    await h.send({ type: 'importModel', fileName: 'model.json', json: tfjsJson, weights: bytes.buffer });
    expect(h.of('error').at(-1)?.message).toMatch(/2 outputs; the loaded scenario has 3 tasks/);
    // busy while running
    await h.send({ type: 'loadScenario', scenario: 'split-mnist', seed: 1, trainLimit: 200, testLimit: 100 });
    await h.send({ type: 'run', mode: 'rescl', knob: 0.5 });
    await h.send({ type: 'loadScenario', scenario: 'rotated-mnist', seed: 1, trainLimit: 20, testLimit: 20 });
    expect(h.of('error').at(-1)?.code).toBe('busy');
    await h.engine.idle();
    expect(h.of('error').every((e) => e.recoverable || e.code === 'version-mismatch')).toBe(true);
    expect(h.of('tradeoffPoint').map((p) => p.knob)).toEqual([1e-3, 0.5]);
    await h.send({ type: 'export', lambda: 1e-3, format: 'json' });
    expect(h.of('error').at(-1)?.code).not.toBe('internal');
    expect(h.of('exportArtifacts').length).toBe(2);
  });

  it('saves networks and points: a new engine on the same storage restores them and resumes an interrupted run', async () => {
    const storage = new MemoryStorage();
    const a = harness(storage);
    await loaded(a, { ...CONFIG, sweep: { rescl: [0] }, methods: ['rescl'] });
    await a.send({ type: 'run', mode: 'full' });
    await a.waitFor('tradeoffPoint');
    // "reload" mid-run: the engine goes away while the sweep point trains
    await a.waitFor('stageStarted', (s) => s.knob === 0);
    await a.send({ type: 'stop' });
    await a.engine.idle();

    const b = harness(storage);
    await b.send({ type: 'hello', backend: 'cpu' });
    await b.send({ type: 'restore' });
    const restored = b.of('restored')[0];
    expect(restored.points.map((p) => p.knob)).toEqual([1e-3]);
    expect(restored.interrupted).toMatchObject({ scenario: 'split-mnist', mode: 'full', trainLimit: 200 });
    await b.send({ type: 'resumeInterrupted' });
    await b.engine.idle();
    expect(errorsOf(b)).toEqual([]);
    // the source and the fine-tuned net came from storage: only the missing point trained
    expect(b.of('stageStarted').map((s) => `${s.stage}:${s.knob}`)).toEqual(['combine:0']);
    expect(b.of('tradeoffPoint').map((p) => p.knob)).toEqual([0]);
    await b.send({ type: 'restore' });
    expect(b.of('restored')[1].interrupted).toBeNull();
    // export of a point trained by the other engine, after a fresh load
    const c = harness(storage);
    await loaded(c, { ...CONFIG, sweep: { rescl: [0] }, methods: ['rescl'] });
    await c.send({ type: 'export', lambda: 1e-3, format: 'tfjs' });
    expect(errorsOf(c)).toEqual([]);
    expect(c.of('exportArtifacts').length).toBe(1);
  });

  it('does not resume an interrupted run on other tasks when its own scenario fails to load', async () => {
    const storage = new MemoryStorage();
    // an interrupted MNIST → Fashion-MNIST run, as engine.ts saves it at a finished stage
    await storage.put('runs', 'current', {
      scenario: 'mnist-fashion', seed: 1, trainLimit: 200, testLimit: 100, session: 'mnist-fashion|1|200|100|x',
      config: CONFIG, mode: 'full', lastStage: 'source',
    });
    const fetchMnistOnly = nodeFetchBytes('public/data');
    const h = harness(storage, 0, async (path) => {
      if (path.startsWith('fashion')) throw new Error('HTTP 404');
      return fetchMnistOnly(path);
    });
    await loaded(h); // split-mnist tasks are held
    await h.send({ type: 'resumeInterrupted' });
    await h.engine.idle();
    expect(errorsOf(h).join('\n')).toMatch(/cannot load scenario mnist-fashion: .*HTTP 404/);
    expect(h.of('stageStarted')).toEqual([]);
    expect(h.of('state').some((e) => e.state === 'running')).toBe(false);
  });

  it('recovers from a lost device: reports it, selects the next backend and finishes the run from the last saved stage', async () => {
    const h = harness();
    await loaded(h, { ...CONFIG, sweep: {}, methods: ['rescl'] });
    await h.send({ type: 'run', mode: 'rescl' });
    await h.waitFor('stageStarted', (s) => s.stage === 'finetune');
    h.engine.onBackendLost('GPU device lost: test');
    await h.waitFor('ready', () => true, 3);
    await h.engine.idle();
    await h.waitFor('tradeoffPoint');
    await h.engine.idle();
    expect(h.of('error')[0]).toMatchObject({ code: 'gpu-device-lost', recoverable: true });
    expect(h.selects).toEqual(['cpu', 'cpu']);
    expect(h.of('ready').length).toBe(2);
    expect(h.of('stageStarted').filter((s) => s.stage === 'source').length).toBe(1);
    expect(h.of('tradeoffPoint').length).toBe(1);
  });
});
