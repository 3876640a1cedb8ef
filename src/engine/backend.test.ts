import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  REQUESTED_LIMITS, SMOKE_MATMUL_EXPECTED, WASM_BINARY_NAMES, backendOrder, runBackendSmoke, selectBackend, wasmBinaryName,
} from './backend';

/** The tfjs-wasm binaries in node_modules (Node reads them from disk). */
const WASM_DIR = decodeURIComponent(new URL('../../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url).pathname);

/** A fake navigator.gpu whose adapter records the device descriptor and then refuses the device. */
function fakeGpu(
  limits: Record<string, number>, requestDevice: (d: GPUDeviceDescriptor) => Promise<GPUDevice>,
  info: Record<string, unknown> = { vendor: 'fake', architecture: 'test', device: '', description: '' },
) {
  const adapter = {
    limits,
    features: new Set<string>(),
    info,
    requestDevice,
  };
  return { requestAdapter: async () => adapter as unknown as GPUAdapter };
}

describe('backendOrder', () => {
  it('tries webgpu, webgl, wasm, cpu for auto; a forced backend falls through to the later ones', () => {
    expect(backendOrder('auto')).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(backendOrder('webgpu')).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(backendOrder('webgl')).toEqual(['webgl', 'wasm', 'cpu']);
    expect(backendOrder('wasm')).toEqual(['wasm', 'cpu']);
    expect(backendOrder('cpu')).toEqual(['cpu']);
  });
});

describe('wasmBinaryName', () => {
  it('names the binary tfjs-wasm loads: threaded only with SIMD and threads', () => {
    expect(wasmBinaryName(false, false)).toBe('tfjs-backend-wasm.wasm');
    expect(wasmBinaryName(false, true)).toBe('tfjs-backend-wasm.wasm');
    expect(wasmBinaryName(true, false)).toBe('tfjs-backend-wasm-simd.wasm');
    expect(wasmBinaryName(true, true)).toBe('tfjs-backend-wasm-threaded-simd.wasm');
  });
});

// The tests run in order: tfjs-wasm starts once per module instance (one per test file).
describe('selectBackend (Node: no WebGPU, no WebGL)', () => {
  afterEach(async () => {
    vi.restoreAllMocks();
    await tf.setBackend('cpu');
  });

  it('auto without wasmPaths ends on cpu and says why webgpu, webgl and wasm were refused', async () => {
    const s = await selectBackend('auto');
    expect(s.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(s.refused.map((r) => r.name)).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(s.refused[0].reason).toMatch(/no navigator\.gpu/);
    expect(s.refused[1].reason).toMatch(/no OffscreenCanvas and no DOM/);
    expect(s.refused[2].reason).toBe('no location given for the WebAssembly binaries (selectBackend option wasmPaths), so tfjs-wasm cannot load them');
    expect(s.wasm).toBeUndefined();
    expect(s.smoke.ok).toBe(true);
    expect(s.smoke.matMul).toEqual(SMOKE_MATMUL_EXPECTED);
    expect(s.adapterInfo).toBeUndefined();
  });

  it('cpu is chosen without refusals', async () => {
    const s = await selectBackend('cpu');
    expect(s).toMatchObject({ backend: 'cpu', refused: [] });
  });

  it('a forced backend that fails is reported as requested and falls through', async () => {
    const s = await selectBackend('webgl', { probeWebGL: () => 'WebGL context failed: test' });
    expect(s.backend).toBe('cpu');
    expect(s.refused.map((r) => r.name)).toEqual(['webgl', 'wasm']);
    expect(s.refused[0]).toEqual({ name: 'webgl', reason: 'WebGL context failed: test (requested explicitly; falling back to wasm)' });
    const g = await selectBackend('webgpu', { gpu: null, probeWebGL: () => 'no webgl' });
    expect(g.refused[0].reason).toMatch(/^no navigator\.gpu.*requested explicitly; falling back to webgl\)$/);
    expect(g.refused[1]).toEqual({ name: 'webgl', reason: 'no webgl' });
    const w = await selectBackend('wasm');
    expect(w.backend).toBe('cpu');
    expect(w.refused).toEqual([{ name: 'wasm', reason: expect.stringMatching(/^no location given for the WebAssembly binaries.*\(requested explicitly; falling back to cpu\)$/) }]);
  });

  it('refuses a wasmPaths map that misses a binary, naming it, before loading anything', async () => {
    const paths = { 'tfjs-backend-wasm.wasm': `${WASM_DIR}tfjs-backend-wasm.wasm`, 'tfjs-backend-wasm-simd.wasm': `${WASM_DIR}tfjs-backend-wasm-simd.wasm` };
    const s = await selectBackend('wasm', { wasmPaths: paths as unknown as Record<(typeof WASM_BINARY_NAMES)[number], string> });
    expect(s.backend).toBe('cpu');
    expect(s.refused[0].reason).toMatch(/^tfjs-wasm refused the binary paths: There were no entries found for the following binaries: tfjs-backend-wasm-threaded-simd\.wasm\./);
    expect(tf.engine().registry.wasm).toBeUndefined();
  });

  it('reports a null adapter as "no adapter"', async () => {
    const s = await selectBackend('auto', { gpu: { requestAdapter: async () => null }, probeWebGL: () => 'x' });
    expect(s.refused[0]).toEqual({ name: 'webgpu', reason: expect.stringMatching(/^no adapter/) });
  });

  it("requests the device with the adapter's own limits, and reports a failed device request", async () => {
    const adapterLimits: Record<string, number> = {
      maxStorageBuffersPerShaderStage: 10,
      maxStorageBufferBindingSize: 1 << 30,
      maxBufferSize: 1 << 31,
      maxComputeWorkgroupStorageSize: 32768,
      maxComputeInvocationsPerWorkgroup: 1024,
      maxComputeWorkgroupsPerDimension: 65535,
      maxComputeWorkgroupSizeX: 1024,
      maxComputeWorkgroupSizeY: 1024,
      maxComputeWorkgroupSizeZ: 64,
      maxTextureDimension2D: 16384, // not requested
    };
    let descriptor: GPUDeviceDescriptor | undefined;
    const gpu = fakeGpu(adapterLimits, async (d) => {
      descriptor = d;
      throw new Error('OperationError: limit too high');
    });
    const s = await selectBackend('auto', { gpu, probeWebGL: () => 'x' });
    expect(s.backend).toBe('cpu');
    expect(s.refused[0].reason).toBe('device request failed: OperationError: limit too high');
    const expected = Object.fromEntries(REQUESTED_LIMITS.map((k) => [k, adapterLimits[k]]));
    expect(descriptor?.requiredLimits).toEqual(expected);
    expect(descriptor?.requiredLimits).toMatchObject({ maxStorageBuffersPerShaderStage: 10 });
  });
});

describe('software GPUs (SwiftShader, llvmpipe) are used only when asked for by name', () => {
  const refuseDevice = async (): Promise<GPUDevice> => { throw new Error('no device in this test'); };
  const swiftShader = { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero', description: 'SwiftShader driver 5.0.0' };

  it('auto skips a SwiftShader WebGPU adapter before asking it for a device, saying why', async () => {
    const attempts: string[] = [];
    const gpu = fakeGpu({}, async () => { attempts.push('webgpu device'); return refuseDevice(); }, swiftShader);
    const probe = (allowSoftware: boolean) => { attempts.push(`webgl probe allowSoftware=${allowSoftware}`); return 'x'; };
    const s = await selectBackend('auto', { gpu, probeWebGL: probe });
    // the device is requested only as the last resort, after webgl (and wasm, refused here) failed
    expect(attempts).toEqual(['webgl probe allowSoftware=false', 'webgpu device']);
    expect(s.refused[0].name).toBe('webgpu');
    expect(s.refused[0].reason).toMatch(/^software adapter \(google swiftshader SwiftShader driver 5.0.0\): it emulates the GPU on the CPU/);
    expect(s.refused[0].reason).toContain('?backend=webgpu');
  });

  it('the spec\'s isFallbackAdapter flag counts as software too', async () => {
    const gpu = fakeGpu({}, refuseDevice, { vendor: 'x', architecture: 'y', device: '', description: '', isFallbackAdapter: true });
    const s = await selectBackend('auto', { gpu, probeWebGL: () => 'x' });
    expect(s.refused[0].reason).toMatch(/^software adapter/);
  });

  it('?backend=webgpu uses the same adapter (it goes on to request the device)', async () => {
    let deviceRequested = false;
    const gpu = fakeGpu({}, async () => { deviceRequested = true; return refuseDevice(); }, swiftShader);
    const s = await selectBackend('webgpu', { gpu, probeWebGL: () => 'x' });
    expect(deviceRequested).toBe(true);
    expect(s.refused[0].reason).toMatch(/^device request failed/);
  });

  it('the WebGL probe is told whether a software renderer is acceptable', async () => {
    const asked: boolean[] = [];
    const probe = (allowSoftware: boolean) => { asked.push(allowSoftware); return 'x'; };
    await selectBackend('auto', { gpu: null, probeWebGL: probe });
    await selectBackend('webgpu', { gpu: null, probeWebGL: probe });
    await selectBackend('webgl', { gpu: null, probeWebGL: probe });
    expect(asked).toEqual([false, false, true]);
  });

  it('when wasm fails too, a skipped software GPU is tried again before cpu (WebGL first)', async () => {
    const attempts: string[] = [];
    const gpu = fakeGpu({}, async () => { attempts.push('webgpu device'); return refuseDevice(); }, swiftShader);
    const probe = (allowSoftware: boolean) => {
      attempts.push(`webgl probe allowSoftware=${allowSoftware}`);
      return allowSoftware ? 'WebGL context failed: test' : 'software renderer (SwiftShader): slow';
    };
    // no wasmPaths: wasm is refused, so the last resorts run
    const s = await selectBackend('auto', { gpu, probeWebGL: probe });
    expect(s.backend).toBe('cpu');
    expect(attempts).toEqual(['webgl probe allowSoftware=false', 'webgl probe allowSoftware=true', 'webgpu device']);
    const reasons = Object.fromEntries(s.refused.map((r) => [r.name, r.reason]));
    expect(Object.keys(reasons)).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(reasons.webgpu).toMatch(/^software adapter .*tried again before cpu.*; then: device request failed/);
    expect(reasons.webgl).toMatch(/^software renderer .*; then: WebGL context failed: test/);
  });
});

describe('selectBackend with exclude (recovery)', () => {
  it('never tries an excluded backend and never excludes cpu', async () => {
    const attempts: string[] = [];
    const gpu = fakeGpu({}, async () => { attempts.push('webgpu device'); throw new Error('refused'); });
    const probe = (allowSoftware: boolean) => { attempts.push(`webgl probe ${allowSoftware}`); return 'no webgl'; };
    const s = await selectBackend('auto', { gpu, probeWebGL: probe, exclude: ['webgpu', 'cpu'] });
    expect(s.backend).toBe('cpu');
    expect(attempts).toEqual(['webgl probe false']);
    expect(s.refused.map((r) => r.name)).toEqual(['webgl', 'wasm']);
  });
});

// After the tests above (which must see tfjs-wasm not yet started): these start it.
describe('selectBackend on wasm (Node: tfjs-wasm reads the binaries from node_modules)', () => {
  afterEach(async () => {
    vi.restoreAllMocks();
    await tf.setBackend('cpu');
  });

  it('wasm with wasmPaths: selected, smoke exact, SIMD binary on one thread (Node has no wasm threads)', async () => {
    const s = await selectBackend('wasm', { wasmPaths: WASM_DIR });
    expect(s.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(s.refused).toEqual([]);
    expect(s.smoke).toMatchObject({ ok: true, matMul: SMOKE_MATMUL_EXPECTED, addNCount: 9, addNValue: 9 });
    expect(s.wasm).toEqual({ binary: 'tfjs-backend-wasm-simd.wasm', simd: true, multithread: false, threads: 1 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) expect((await runBackendSmoke()).ok).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('auto and webgl fall through to wasm when there is no GPU; an initialised wasm needs no paths again', async () => {
    const a = await selectBackend('auto', { wasmPaths: WASM_DIR });
    expect(a.backend).toBe('wasm');
    expect(a.refused.map((r) => r.name)).toEqual(['webgpu', 'webgl']);
    const g = await selectBackend('webgl', { probeWebGL: () => 'no webgl' });
    expect(g.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(g.refused).toEqual([{ name: 'webgl', reason: 'no webgl (requested explicitly; falling back to wasm)' }]);
  });

  it('a binary that cannot be loaded refuses wasm with the loader\'s reason, and a retry says it cannot', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    // Start tfjs-wasm afresh (public API): drop the instance and its factory, register the factory again.
    const factory = tf.findBackendFactory('wasm');
    expect(factory).not.toBeNull();
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', factory!, 2);
    const nowhere = Object.fromEntries(WASM_BINARY_NAMES.map((n) => [n, `/nonexistent-rescl-dir/${n}`])) as Record<(typeof WASM_BINARY_NAMES)[number], string>;
    const s = await selectBackend('wasm', { wasmPaths: nowhere });
    expect(s.backend).toBe('cpu');
    expect(s.refused[0].reason).toMatch(/^tfjs failed to initialise the wasm backend: .*ENOENT.*\/nonexistent-rescl-dir\/tfjs-backend-wasm-simd\.wasm.*\(requested explicitly; falling back to cpu\)$/);
    const again = await selectBackend('wasm', { wasmPaths: WASM_DIR });
    expect(again.backend).toBe('cpu');
    expect(again.refused[0].reason).toMatch(/^tfjs-wasm failed to start earlier in this worker and cannot retry \(reload the page\)/);
  });
});

describe('runBackendSmoke', () => {
  it('computes the expected matMul and AddN on cpu without leaking tensors', async () => {
    await tf.setBackend('cpu');
    await runBackendSmoke();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const smoke = await runBackendSmoke();
      expect(smoke).toMatchObject({ ok: true, matMul: SMOKE_MATMUL_EXPECTED, addNCount: 9, addNValue: 9 });
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

