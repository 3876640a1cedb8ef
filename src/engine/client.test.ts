import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeWorker } from '../testing/fakeWorker';
import { createEngineClient, EngineRequestError } from './client';
import { PROTOCOL_VERSION, makeError, type EngineEvent } from './protocol';

function setup(requestTimeoutMs?: number) {
  const worker = new FakeWorker();
  const client = createEngineClient({ createWorker: () => worker.asWorker(), requestTimeoutMs });
  return { worker, client };
}

const loaded = (id?: string): EngineEvent => ({ type: 'scenarioLoaded', v: PROTOCOL_VERSION, scenario: 'split-mnist', tasks: [], ...(id ? { id } : {}) });
const load = { type: 'loadScenario', scenario: 'split-mnist', seed: 1, trainLimit: 100, testLimit: null } as const;

/** The request's outcome: the event, or the EngineRequestError it rejected with. */
async function outcome(p: Promise<EngineEvent>): Promise<EngineEvent | EngineRequestError> {
  return p.then((e) => e, (e: unknown) => {
    if (!(e instanceof EngineRequestError)) throw e;
    return e;
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('engine client requests', () => {
  it('stamps v and a fresh id on every command, keeping a given id', () => {
    const { worker, client } = setup();
    expect(client.send({ type: 'pause' })).toBe('c1');
    expect(client.send({ type: 'hello', id: 'hello', backend: 'cpu' })).toBe('hello');
    expect(worker.posted).toEqual([{ type: 'pause', id: 'c1', v: PROTOCOL_VERSION }, { type: 'hello', id: 'hello', backend: 'cpu', v: PROTOCOL_VERSION }]);
  });

  it('resolves with the event of its id, or an id-less event of the answer type', async () => {
    const { worker, client } = setup();
    const a = client.request(load, 'scenarioLoaded');
    const b = client.request(load, 'scenarioLoaded');
    const idA = worker.posted[0].id!;
    worker.emit(loaded('someone-else'));
    expect(client.pending).toBe(2);
    worker.emit(loaded(idA));
    expect(await a).toMatchObject({ type: 'scenarioLoaded', id: idA });
    worker.emit(loaded());
    expect(await b).toMatchObject({ type: 'scenarioLoaded' });
    expect(client.pending).toBe(0);
  });

  it('rejects on an error event for that request, with the engine message', async () => {
    const { worker, client } = setup();
    const p = outcome(client.request(load, 'scenarioLoaded'));
    const other = outcome(client.request(load, 'scenarioLoaded'));
    worker.emit(makeError('bad-field', 'unknown scenario "x"', true, worker.posted[0].id));
    const e = await p;
    expect(e).toBeInstanceOf(EngineRequestError);
    expect(e).toMatchObject({ reason: 'error', message: 'loadScenario failed: unknown scenario "x"' });
    expect(client.pending).toBe(1); // a recoverable error of another request leaves this one waiting
    worker.emit(loaded(worker.posted[1].id));
    expect(await other).toMatchObject({ type: 'scenarioLoaded' });
  });

  it('rejects every waiting request when the worker crashes or the engine fails for good', async () => {
    const { worker, client } = setup();
    const p = outcome(client.request(load, 'scenarioLoaded'));
    const seen: EngineEvent[] = [];
    client.subscribe((e) => seen.push(e));
    worker.crash('SyntaxError: boom');
    expect(await p).toMatchObject({ reason: 'failed', message: expect.stringMatching(/loadScenario failed: the engine stopped \(engine worker failed: SyntaxError: boom/) });
    expect(seen.map((e) => e.type === 'error' && e.code)).toEqual(['worker-crashed']);

    const q = outcome(client.request(load, 'scenarioLoaded'));
    worker.emit(makeError('internal', 'unhandled rejection in engine worker: x', false));
    expect(await q).toMatchObject({ reason: 'failed' });
    expect(client.pending).toBe(0);
  });

  it('terminate rejects waiting requests, and requests after it reject at once', async () => {
    const { worker, client } = setup();
    const p = outcome(client.request(load, 'scenarioLoaded'));
    client.terminate();
    expect(worker.terminated).toBe(true);
    expect(await p).toMatchObject({ reason: 'terminated', message: 'loadScenario cancelled: the engine was stopped' });
    expect(await outcome(client.request(load, 'scenarioLoaded'))).toMatchObject({ reason: 'terminated' });
    expect(() => client.send({ type: 'pause' })).toThrow(/terminated/);
  });

  it('rejects with a clear message when no answer comes in time, and ignores a late answer', async () => {
    vi.useFakeTimers();
    const { worker, client } = setup(5_000);
    const p = outcome(client.request(load, 'scenarioLoaded'));
    const q = outcome(client.request({ type: 'pause' }, 'state', { timeoutMs: 60_000 }));
    vi.advanceTimersByTime(5_000);
    expect(await p).toMatchObject({ reason: 'timeout', message: 'the engine did not answer loadScenario (c1) within 5 s' });
    expect(client.pending).toBe(1);
    worker.emit(loaded('c1'));
    vi.advanceTimersByTime(55_000);
    expect(await q).toMatchObject({ reason: 'timeout', message: 'the engine did not answer pause (c2) within 60 s' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a second request with an id that is already waiting', async () => {
    const { client } = setup();
    void outcome(client.request({ ...load, id: 'x' }, 'scenarioLoaded'));
    expect(await outcome(client.request({ ...load, id: 'x' }, 'scenarioLoaded'))).toMatchObject({ reason: 'error', message: expect.stringMatching(/already waiting/) });
    client.terminate();
  });
});
