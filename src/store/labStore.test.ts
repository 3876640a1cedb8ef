import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEngineClient } from '../engine/client';
import { PROTOCOL_VERSION, makeError, type ReadyEvent, type TradeoffPointEvent } from '../engine/protocol';
import { FakeWorker } from '../testing/fakeWorker';
import { EngineConnection } from './connection';
import { MAX_WORKER_REPLACEMENTS } from './engineSlice';
import { canResumeInterrupted, createLabStore, runConfigOf } from './labStore';
import { DEFAULT_SETUP } from './urlConfig';
import { TRAINING_DEFAULTS } from '../core/trainingDefaults';
import { loadKeyOf } from './setupSlice';

/** A store whose engine client runs over a fake worker. */
function storeOverFakeWorker(requestTimeoutMs?: number) {
  const worker = new FakeWorker();
  const store = createLabStore(new EngineConnection({ createClient: () => createEngineClient({ createWorker: () => worker.asWorker(), requestTimeoutMs }) }));
  return { worker, store };
}

/** A store whose connection starts a fresh fake worker each time (`workers`, in order). */
function storeOverFakeWorkers() {
  const workers: FakeWorker[] = [];
  const store = createLabStore(new EngineConnection({
    createClient: () => createEngineClient({ createWorker: () => { const w = new FakeWorker(); workers.push(w); return w.asWorker(); } }),
  }));
  return { workers, store };
}

const READY = { type: 'ready', v: PROTOCOL_VERSION, id: 'hello', backend: 'cpu', refused: [], smoke: {} } as unknown as ReadyEvent;
const flush = () => new Promise<void>((r) => setTimeout(r, 0));

afterEach(() => {
  vi.useRealTimers();
});

describe('lab store (slices composed over one connection)', () => {
  it('starts the worker, restores, loads the scenario and answers the load by its id', async () => {
    const { worker, store } = storeOverFakeWorker();
    store.getState().start('cpu');
    expect(store.getState().status).toBe('starting');
    expect(worker.posted.map((c) => c.type)).toEqual(['hello']);

    worker.emit(READY);
    expect(store.getState().status).toBe('ready');
    expect(worker.posted.map((c) => c.type)).toEqual(['hello', 'restore', 'loadScenario']);
    expect(store.getState().loading).toBe(true);

    worker.emit({ type: 'scenarioLoaded', v: PROTOCOL_VERSION, id: worker.last('loadScenario')!.id, scenario: store.getState().setup.scenario, tasks: [] });
    await flush();
    const s = store.getState();
    expect(s.loading).toBe(false);
    expect(s.loadedKey).toBe(loadKeyOf(s.setup));
  });

  it('a refused load ends loading, keeps the engine error and loads nothing', async () => {
    const { worker, store } = storeOverFakeWorker();
    store.getState().start('cpu');
    worker.emit(READY);
    worker.emit(makeError('bad-file', 'train-images: truncated', true, worker.last('loadScenario')!.id));
    await flush();
    expect(store.getState()).toMatchObject({ loading: false, loadedKey: null });
    expect(store.getState().errors.map((e) => e.message)).toEqual(['train-images: truncated']);
  });

  it('stop while a load waits: the load settles (false), the worker is gone, its late events are ignored', async () => {
    const { worker, store } = storeOverFakeWorker();
    store.getState().start('cpu');
    worker.emit(READY);
    const second = store.getState().loadScenario();
    store.getState().stop();
    expect(await second).toBe(false);
    await flush();
    expect(worker.terminated).toBe(true);
    expect(store.getState()).toMatchObject({ status: 'idle', loading: false, loadedKey: null, errors: [] });
  });

  it('a load the engine never answers times out with a notice', async () => {
    vi.useFakeTimers();
    const { worker, store } = storeOverFakeWorker(1_000);
    store.getState().start('cpu');
    worker.emit(READY);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(store.getState().loading).toBe(false);
    expect(store.getState().errors).toMatchObject([{ code: 'timeout', message: expect.stringMatching(/did not answer loadScenario \(c\d+\) within 1 s/) }]);
  });

  it('two stores have their own connections', () => {
    const a = storeOverFakeWorker();
    const b = storeOverFakeWorker();
    a.store.getState().start('cpu');
    b.store.getState().start('cpu');
    a.store.getState().stop();
    b.worker.emit(READY);
    expect(a.store.getState().status).toBe('idle');
    expect(b.store.getState().status).toBe('ready');
    expect(b.worker.terminated).toBe(false);
  });

  it('runs with the batch of the setup (from the URL) and the shared training defaults', () => {
    expect(runConfigOf(DEFAULT_SETUP)).toMatchObject({ batchSize: TRAINING_DEFAULTS.live.batchSize, epochs: TRAINING_DEFAULTS.live.epochs, learningRate: TRAINING_DEFAULTS.learningRate, weightDecay: TRAINING_DEFAULTS.weightDecay });
    const { store } = storeOverFakeWorker();
    store.getState().setSetup({ batchSize: 32 });
    expect(runConfigOf(store.getState().setup).batchSize).toBe(32);
  });

  it('sends the setup\'s comparison settings with the run, and a resumed run brings its own back into the setup', async () => {
    const v = PROTOCOL_VERSION;
    const { worker, store } = storeOverFakeWorker();
    store.getState().start('cpu');
    worker.emit(READY);
    worker.emit({ type: 'scenarioLoaded', v, id: worker.last('loadScenario')!.id, scenario: store.getState().setup.scenario, tasks: [] });
    await flush();
    store.getState().setSetup({ baselineBatchNorm: 'frozen-source', combineDecay: 'all' });
    await store.getState().runFull();
    const sent = worker.last('configure');
    expect(sent?.type === 'configure' && sent.config).toMatchObject({ baselineBatchNorm: 'frozen-source', combineDecay: 'all', budget: 'equal', init: 'he' });

    // an interrupted run with other settings: resuming it puts them in the setup (and the link)
    const base = runConfigOf(DEFAULT_SETUP);
    const resumeWith = (config: typeof base) => {
      worker.emit({ type: 'state', v, state: 'idle', detail: '' });
      worker.emit({ type: 'restored', v, points: [], session: null, interrupted: { scenario: 'mnist-fashion', config, lastStage: 'source', seed: 1, trainLimit: null, testLimit: null, mode: 'full' } });
      expect(canResumeInterrupted(store.getState())).toBe(true);
      store.getState().resumeInterrupted();
      return store.getState().setup;
    };
    expect(resumeWith({ ...base, budget: 'stage', baselineBatchNorm: 'frozen-source', combineDecay: 'kernels', fisher: 'empirical' }))
      .toMatchObject({ budget: 'stage', baselineBatchNorm: 'frozen-source', combineDecay: 'kernels', fisher: 'empirical', init: 'he', jointInit: 'source' });
    // a run record saved before these settings existed ran at their defaults
    const { budget: _b, baselineBatchNorm: _bn, combineDecay: _cd, fisher: _f, init: _i, jointInit: _j, ...old } = base;
    expect(resumeWith(old)).toMatchObject({ budget: 'equal', baselineBatchNorm: 'batch', combineDecay: 'kernels', fisher: 'true' });
  });

  describe('a worker that crashes', () => {
    const v = PROTOCOL_VERSION;
    const point: TradeoffPointEvent = { type: 'tradeoffPoint', v, method: 'rescl', knob: 0, source: 0.5, target: 0.99, accByTask: {}, accMatrix: [[0.9], [0.5, 0.99]], paramCount: 10 };
    /** A ready worker that has loaded the setup's scenario. */
    const readyAndLoaded = async (w: FakeWorker, scenario: ReturnType<typeof createLabStore>['getState']) => {
      w.emit(READY);
      w.emit({ type: 'scenarioLoaded', v, id: w.last('loadScenario')!.id, scenario: scenario().setup.scenario, tasks: [] });
      await flush();
    };

    it('mid-run is replaced on the same backend; the page keeps its results and curves and offers to resume', async () => {
      const { workers, store } = storeOverFakeWorkers();
      store.getState().start('wasm');
      await readyAndLoaded(workers[0], store.getState);
      await store.getState().runFull();
      const [w] = workers;
      expect(w.posted.map((c) => c.type).slice(-2)).toEqual(['configure', 'run']);
      w.emit({ type: 'state', v, state: 'running', detail: 'full run' });
      w.emit({ type: 'stageStarted', v, method: 'rescl', knob: 1e-5, taskIndex: 1, stage: 'combine', totalSteps: 20 });
      w.emit({ type: 'progress', v, method: 'rescl', knob: 1e-5, taskIndex: 1, stage: 'combine', step: 3, totalSteps: 20, epoch: 0, epochs: 1, loss: 0.9, samplesPerSec: 1, elapsedMs: 1, etaMs: 9 });
      w.emit(point);
      const before = store.getState();

      w.crash('Uncaught Error: boom');
      expect(w.terminated).toBe(true);
      expect(workers).toHaveLength(2);
      const fresh = workers[1];
      expect(fresh.posted).toMatchObject([{ type: 'hello', backend: 'wasm' }]);
      let s = store.getState();
      expect(s).toMatchObject({ status: 'starting', requested: 'wasm', runState: 'error', loadedKey: null });
      expect(s.points).toBe(before.points);
      expect(s.curves).toBe(before.curves);
      expect(s.errors).toMatchObject([{ code: 'worker-crashed', recoverable: true, message: expect.stringMatching(/boom.*A fresh engine worker was started \(backend: wasm\)/) }]);

      // the fresh worker: ready → restore (the run record from IndexedDB) and the setup's scenario
      fresh.emit(READY);
      expect(fresh.posted.map((c) => c.type)).toEqual(['hello', 'restore', 'loadScenario']);
      const interrupted = { scenario: store.getState().setup.scenario, config: runConfigOf(store.getState().setup), lastStage: 'source', seed: 1, trainLimit: null, testLimit: null, mode: 'full' as const };
      fresh.emit({ type: 'restored', v, points: [point], interrupted, session: null });
      fresh.emit({ type: 'scenarioLoaded', v, id: fresh.last('loadScenario')!.id, scenario: store.getState().setup.scenario, tasks: [] });
      await flush();
      s = store.getState();
      expect(s.status).toBe('ready');
      expect(s.points).toHaveLength(1); // the page's own point, not a second "restored" copy
      expect(s.restoredCount).toBeNull(); // nothing "restored from an earlier session"
      expect(s.interrupted).toEqual(interrupted);
      expect(canResumeInterrupted(s)).toBe(true);

      // resuming goes through the one resume path (the engine's resumeInterrupted)
      store.getState().resumeInterrupted();
      expect(fresh.last('resumeInterrupted')).toBeDefined();
      expect(store.getState().interrupted).toBeNull();
      // the crashed worker's late events reach nothing
      w.emit({ type: 'state', v, state: 'done', detail: 'late' });
      expect(store.getState().runState).toBe('error');
    });

    it('before it was ready is not replaced: the engine has failed', () => {
      const { workers, store } = storeOverFakeWorkers();
      store.getState().start('cpu');
      workers[0].crash('SyntaxError: bad script');
      expect(workers).toHaveLength(1);
      expect(store.getState().status).toBe('failed');
      expect(store.getState().errors).toMatchObject([{ code: 'worker-crashed', recoverable: false }]);
    });

    it(`again and again without finishing anything is replaced ${MAX_WORKER_REPLACEMENTS} times, then the engine has failed`, async () => {
      const { workers, store } = storeOverFakeWorkers();
      store.getState().start('cpu');
      for (let i = 0; i <= MAX_WORKER_REPLACEMENTS; i++) {
        workers[i].emit(READY);
        workers[i].crash('Uncaught RangeError: out of memory');
      }
      expect(workers).toHaveLength(MAX_WORKER_REPLACEMENTS + 1);
      expect(store.getState().status).toBe('failed');
      expect(store.getState().errors.at(-1)).toMatchObject({ code: 'worker-crashed', recoverable: false });

      // a worker that loads a scenario between crashes resets the count
      const again = storeOverFakeWorkers();
      again.store.getState().start('cpu');
      for (let i = 0; i <= MAX_WORKER_REPLACEMENTS; i++) {
        await readyAndLoaded(again.workers[i], again.store.getState);
        again.workers[i].crash('Uncaught Error: boom');
      }
      expect(again.workers).toHaveLength(MAX_WORKER_REPLACEMENTS + 2);
      expect(again.store.getState().status).toBe('starting');
    });
  });
});
