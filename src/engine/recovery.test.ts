import { describe, expect, it } from 'vitest';
import { recoveryChoice } from './recovery';

describe('recoveryChoice', () => {
  it('after WebGPU: the auto order without webgpu (so a software WebGL still comes after wasm)', () => {
    expect(recoveryChoice('webgpu')).toEqual({ preference: 'auto', exclude: ['webgpu'] });
  });
  it('after WebGL: wasm, then cpu', () => {
    expect(recoveryChoice('webgl')).toEqual({ preference: 'auto', exclude: ['webgpu', 'webgl'] });
  });
  it('after wasm: cpu only; after cpu: cpu again; before any selection: the default policy', () => {
    expect(recoveryChoice('wasm')).toEqual({ preference: 'auto', exclude: ['webgpu', 'webgl', 'wasm'] });
    expect(recoveryChoice('cpu')).toEqual({ preference: 'cpu', exclude: [] });
    expect(recoveryChoice(null)).toEqual({ preference: 'auto', exclude: [] });
  });
});
