import { describe, expect, it } from 'vitest';
import type { EngineClient, EngineListener } from '../engine/client';
import { PROTOCOL_VERSION, type EngineEvent, type OutgoingCommand, type ReadyEvent } from '../engine/protocol';
import { EngineConnection } from './connection';
import { createLabStore } from './labStore';

/** An engine client that records commands and lets the test send events. */
function fakeClient() {
  const sent: OutgoingCommand[] = [];
  const listeners = new Set<EngineListener>();
  let terminated = false;
  const client: EngineClient = {
    send: (c) => void sent.push(c),
    subscribe: (l) => { listeners.add(l); return () => listeners.delete(l); },
    terminate: () => { terminated = true; listeners.clear(); },
  };
  return { client, sent, emit: (e: EngineEvent) => { for (const l of [...listeners]) l(e); }, isTerminated: () => terminated };
}

const READY = { type: 'ready', v: PROTOCOL_VERSION, id: 'hello', backend: 'cpu', refused: [], smoke: {} } as unknown as ReadyEvent;

describe('lab store (slices composed over one connection)', () => {
  it('starts the worker, restores, loads the scenario and answers the load by its id', async () => {
    const fake = fakeClient();
    const store = createLabStore(new EngineConnection({ createClient: () => fake.client }));
    store.getState().start('cpu');
    expect(store.getState().status).toBe('starting');
    expect(fake.sent.map((c) => c.type)).toEqual(['hello']);

    fake.emit(READY);
    expect(store.getState().status).toBe('ready');
    expect(fake.sent.map((c) => c.type)).toEqual(['hello', 'restore', 'loadScenario']);
    expect(store.getState().loading).toBe(true);

    const load = fake.sent[2];
    fake.emit({ type: 'scenarioLoaded', v: PROTOCOL_VERSION, id: load.id, scenario: store.getState().setup.scenario, tasks: [] });
    await Promise.resolve();
    const s = store.getState();
    expect(s.loading).toBe(false);
    expect(s.loadedKey).toBe(`${s.setup.scenario}|${s.setup.seed}|${s.setup.trainLimit ?? 'all'}`);
  });

  it('stop terminates the worker and ignores its late events; a second store has its own connection', () => {
    const a = fakeClient();
    const b = fakeClient();
    const storeA = createLabStore(new EngineConnection({ createClient: () => a.client }));
    const storeB = createLabStore(new EngineConnection({ createClient: () => b.client }));
    storeA.getState().start('cpu');
    storeB.getState().start('cpu');
    storeA.getState().stop();
    expect(a.isTerminated()).toBe(true);
    expect(storeA.getState().status).toBe('idle');
    a.emit(READY);
    expect(storeA.getState().status).toBe('idle');
    b.emit(READY);
    expect(storeB.getState().status).toBe('ready');
    expect(b.isTerminated()).toBe(false);
  });
});
