import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { REQUESTED_LIMITS, SMOKE_MATMUL_EXPECTED, backendOrder, runBackendSmoke, selectBackend } from './backend';

/** A fake navigator.gpu whose adapter records the device descriptor and then refuses the device. */
function fakeGpu(limits: Record<string, number>, requestDevice: (d: GPUDeviceDescriptor) => Promise<GPUDevice>) {
  const adapter = {
    limits,
    features: new Set<string>(),
    info: { vendor: 'fake', architecture: 'test', device: '', description: '' },
    requestDevice,
  };
  return { requestAdapter: async () => adapter as unknown as GPUAdapter };
}

describe('backendOrder', () => {
  it('tries webgpu, webgl, cpu for auto; a forced backend falls through to the later ones', () => {
    expect(backendOrder('auto')).toEqual(['webgpu', 'webgl', 'cpu']);
    expect(backendOrder('webgpu')).toEqual(['webgpu', 'webgl', 'cpu']);
    expect(backendOrder('webgl')).toEqual(['webgl', 'cpu']);
    expect(backendOrder('cpu')).toEqual(['cpu']);
  });
});

describe('selectBackend (Node: no WebGPU, no WebGL)', () => {
  it('auto ends on cpu and says why webgpu and webgl were refused', async () => {
    const s = await selectBackend('auto');
    expect(s.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(s.refused.map((r) => r.name)).toEqual(['webgpu', 'webgl']);
    expect(s.refused[0].reason).toMatch(/no navigator\.gpu/);
    expect(s.refused[1].reason).toMatch(/no OffscreenCanvas and no DOM/);
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
    expect(s.refused).toEqual([{ name: 'webgl', reason: 'WebGL context failed: test (requested explicitly; falling back to cpu)' }]);
    const g = await selectBackend('webgpu', { gpu: null, probeWebGL: () => 'no webgl' });
    expect(g.refused[0].reason).toMatch(/^no navigator\.gpu.*requested explicitly; falling back to webgl\)$/);
    expect(g.refused[1]).toEqual({ name: 'webgl', reason: 'no webgl' });
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

describe('runBackendSmoke', () => {
  it('computes the expected matMul and AddN on cpu without leaking tensors', async () => {
    await tf.setBackend('cpu');
    await runBackendSmoke();
    const before = tf.memory().numTensors;
    const smoke = await runBackendSmoke();
    expect(smoke).toMatchObject({ ok: true, matMul: SMOKE_MATMUL_EXPECTED, addNCount: 9, addNValue: 9 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
