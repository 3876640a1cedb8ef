import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type RunConfig } from './protocol';
import { pointKey, sessionKey, SessionStore, type PointRecord, type RunRecord } from './sessions';
import { MemoryStorage } from './storage';

const CONFIG: RunConfig = {
  net: 'mlp', epochs: 1, batchSize: 64, learningRate: 2e-3, alphaLearningRate: 2e-2, weightDecay: 1e-4, headWarmupSteps: 1,
  seed: 1, lambda: 1e-3, methods: ['rescl'], sweep: {}, maxStepsPerStage: 3,
};
const SPEC = { scenario: 'split-mnist' as const, seed: 1, trainLimit: 200, testLimit: 100 };

function run(session: string): RunRecord {
  return { ...SPEC, session, config: CONFIG, mode: 'rescl', lastStage: 'start' };
}

function record(knob: number): PointRecord {
  return { event: { type: 'tradeoffPoint', v: PROTOCOL_VERSION, method: 'rescl', knob, accByTask: {}, source: 0.5, target: 0.5, accMatrix: [], paramCount: 1 } };
}

describe('sessionKey / pointKey', () => {
  it('changes with what is trained, not with λ or the method list', () => {
    const k = sessionKey(SPEC, CONFIG);
    expect(sessionKey(SPEC, { ...CONFIG, lambda: 5, methods: ['ft'] })).toBe(k);
    expect(sessionKey(SPEC, { ...CONFIG, batchSize: 128 })).not.toBe(k);
    expect(sessionKey({ ...SPEC, seed: 2 }, CONFIG)).not.toBe(k);
    // custom names count only for custom scenarios
    expect(sessionKey(SPEC, CONFIG, ['a'])).toBe(k);
    const custom = { ...SPEC, scenario: 'custom' as const };
    expect(sessionKey(custom, CONFIG, ['a'])).not.toBe(sessionKey(custom, CONFIG, ['b']));
  });

  it('changes with a comparison setting away from its default; a default one keeps the key it had before they existed', () => {
    const k = sessionKey(SPEC, CONFIG);
    expect(sessionKey(SPEC, { ...CONFIG, budget: 'equal', baselineBatchNorm: 'batch', combineDecay: 'kernels' })).toBe(k);
    expect(k).not.toMatch(/baselineBatchNorm|combineDecay/);
    const frozen = sessionKey(SPEC, { ...CONFIG, baselineBatchNorm: 'frozen-source' });
    expect(frozen).not.toBe(k);
    expect(sessionKey(SPEC, { ...CONFIG, combineDecay: 'all' })).not.toBe(k);
    expect(sessionKey(SPEC, { ...CONFIG, combineDecay: 'all' })).not.toBe(frozen);
  });

  it('pointKey rounds λ to 9 significant digits and marks knob-less methods', () => {
    expect(pointKey('rescl', 0.1 + 0.2)).toBe(pointKey('rescl', 0.3));
    expect(pointKey('ft', null)).toBe('ft|-');
  });
});

describe('SessionStore', () => {
  it('keeps a run resumable until it finishes, then remembers it as the last session', async () => {
    const st = new SessionStore(new MemoryStorage());
    const r = run('s1');
    await st.saveRun(r, 'source');
    expect((await st.current())?.lastStage).toBe('source');
    await st.savePoint('s1', 'rescl|1', record(1));
    await st.savePoint('s2', 'rescl|2', record(2));
    let restored = await st.restoredEvent(false, 'x');
    expect(restored.interrupted?.lastStage).toBe('source');
    expect(restored.points.map((p) => p.knob)).toEqual([1]);
    expect(restored.id).toBe('x');
    expect((await st.restoredEvent(true)).interrupted).toBeNull();
    await st.finish(r, 'failed');
    expect(await st.current()).toBeDefined();
    await st.finish(r, 'finished');
    expect(await st.current()).toBeUndefined();
    restored = await st.restoredEvent(false);
    expect(restored.interrupted).toBeNull();
    expect(restored.session?.scenario).toBe('split-mnist');
    expect([...(await st.points('s1')).keys()]).toEqual(['rescl|1']);
  });

  it('a stopped run stays resumable and becomes the last session', async () => {
    const st = new SessionStore(new MemoryStorage());
    const r = run('s1');
    await st.saveRun(r, 'a');
    await st.finish(r, 'stopped');
    expect(await st.current()).toBeDefined();
    expect((await st.restoredEvent(false)).session).not.toBeNull();
  });

  it('saveNetOnce keeps the first network saved', async () => {
    const st = new SessionStore(new MemoryStorage());
    let calls = 0;
    const serialize = async () => { calls += 1; return { calls } as never; };
    await st.saveNetOnce('s', 'source', serialize);
    await st.saveNetOnce('s', 'source', serialize);
    expect(calls).toBe(1);
    expect(await st.net('s', 'finetune1')).toBeUndefined();
  });

  it('finish ignores a storage that refuses writes', async () => {
    const storage = new MemoryStorage();
    storage.put = async () => { throw new Error('QuotaExceededError'); };
    await expect(new SessionStore(storage).finish(run('s'), 'finished')).resolves.toBeUndefined();
  });
});
