import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, BACKEND_PREFERENCES, DEFAULT_RUN_CONFIG, PROTOCOL_VERSION, isBackendPreference, validateCommand } from './protocol';

function expectError(raw: unknown, code: string, message: RegExp) {
  const result = validateCommand(raw);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.type).toBe('error');
  expect(result.error.v).toBe(PROTOCOL_VERSION);
  expect(result.error.code).toBe(code);
  expect(result.error.message).toMatch(message);
  return result.error;
}

describe('validateCommand', () => {
  it('accepts a hello for every backend preference, keeping the id', () => {
    for (const backend of ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const) {
      const result = validateCommand({ type: 'hello', v: PROTOCOL_VERSION, id: 'h1', backend });
      expect(result).toEqual({ ok: true, command: { type: 'hello', v: PROTOCOL_VERSION, id: 'h1', backend } });
    }
  });

  it('accepts a command without id', () => {
    expect(validateCommand({ type: 'hello', v: 1, backend: 'cpu' }).ok).toBe(true);
  });

  it('rejects non-objects', () => {
    for (const raw of [null, undefined, 42, 'hello', [1, 2]]) {
      expectError(raw, 'bad-message', /must be an object/);
    }
  });

  it('rejects a missing or non-string type', () => {
    expectError({ v: 1 }, 'bad-message', /no string "type"/);
    expectError({ type: 3, v: 1 }, 'bad-message', /no string "type" \(got 3\)/);
  });

  it('rejects an unknown type, echoing the id', () => {
    const error = expectError({ type: 'train', v: 1, id: 'x' }, 'unknown-type', /unknown command type "train"/);
    expect(error?.id).toBe('x');
    expect(error?.recoverable).toBe(true);
  });

  it('does not treat inherited keys as command types', () => {
    expectError({ type: 'toString', v: 1 }, 'unknown-type', /"toString"/);
    expectError({ type: '__proto__', v: 1 }, 'unknown-type', /"__proto__"/);
  });

  it('rejects a wrong or missing protocol version as unrecoverable', () => {
    const error = expectError({ type: 'hello', v: 2, backend: 'cpu' }, 'version-mismatch', /worker speaks v1.*v=2/);
    expect(error?.recoverable).toBe(false);
    expectError({ type: 'hello', backend: 'cpu' }, 'version-mismatch', /v=undefined/);
    expectError({ type: 'hello', v: '1', backend: 'cpu' }, 'version-mismatch', /v="1"/);
  });

  it('rejects bad fields', () => {
    expectError({ type: 'hello', v: 1, backend: 'metal' }, 'bad-field', /hello.backend must be one of auto, webgpu, webgl, wasm, cpu \(got "metal"\)/);
    expectError({ type: 'hello', v: 1 }, 'bad-field', /got undefined/);
    expectError({ type: 'hello', v: 1, backend: 'cpu', id: 7 }, 'bad-field', /id must be a string/);
  });
});

describe('configure: the comparison settings', () => {
  const configure = (fields: Record<string, unknown>) => ({ type: 'configure', v: PROTOCOL_VERSION, id: 'c1', config: { ...DEFAULT_RUN_CONFIG, ...fields } });

  it('accepts each one\'s names, and a config without them (their defaults)', () => {
    expect(validateCommand(configure({})).ok).toBe(true);
    const all = { budget: 'stage', jointInit: 'scratch', init: 'torch-default', fisher: 'empirical', baselineBatchNorm: 'frozen-source', combineDecay: 'all' };
    expect(validateCommand(configure(all))).toEqual({ ok: true, command: configure(all) });
  });

  it('refuses a name it does not know, saying which it knows', () => {
    const error = expectError(configure({ baselineBatchNorm: 'frozen' }), 'bad-field', /^config.baselineBatchNorm must be one of batch, frozen-source \(got "frozen"\)$/);
    expect(error).toMatchObject({ id: 'c1', recoverable: true });
    expectError(configure({ combineDecay: 'ALL' }), 'bad-field', /^config.combineDecay must be one of kernels, all \(got "ALL"\)$/);
    expectError(configure({ budget: null }), 'bad-field', /^config.budget must be one of equal, stage \(got null\)$/);
    expectError(configure({ init: 1 }), 'bad-field', /^config.init must be one of he, torch-default \(got 1\)$/);
  });
});

describe('isBackendPreference', () => {
  it('knows the five preferences, auto first, then the backends in the order auto tries them', () => {
    expect(BACKEND_NAMES).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(BACKEND_PREFERENCES).toEqual(['auto', 'webgpu', 'webgl', 'wasm', 'cpu']);
    expect(['auto', 'webgpu', 'webgl', 'wasm', 'cpu'].every(isBackendPreference)).toBe(true);
    expect(isBackendPreference('WEBGPU')).toBe(false);
    expect(isBackendPreference('webassembly')).toBe(false);
    expect(isBackendPreference(undefined)).toBe(false);
  });
});
