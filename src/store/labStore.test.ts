import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEngineClient } from '../engine/client';
import { PROTOCOL_VERSION, makeError, type ReadyEvent } from '../engine/protocol';
import { FakeWorker } from '../testing/fakeWorker';
import { EngineConnection } from './connection';
import { createLabStore, runConfigOf } from './labStore';
import { DEFAULT_SETUP } from './urlConfig';
import { TRAINING_DEFAULTS } from '../core/trainingDefaults';
import { loadKeyOf } from './setupSlice';

/** A store whose engine client runs over a fake worker. */
function storeOverFakeWorker(requestTimeoutMs?: number) {
  const worker = new FakeWorker();
  const store = createLabStore(new EngineConnection({ createClient: () => createEngineClient({ createWorker: () => worker.asWorker(), requestTimeoutMs }) }));
  return { worker, store };
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
});
