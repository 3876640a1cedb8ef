import { describe, expect, it } from 'vitest';
import { readBackendParam } from './backendParam';

describe('readBackendParam', () => {
  it('defaults to auto', () => {
    expect(readBackendParam('')).toEqual({ preference: 'auto' });
    expect(readBackendParam('?backend=')).toEqual({ preference: 'auto' });
    expect(readBackendParam('?other=1')).toEqual({ preference: 'auto' });
  });

  it('reads a valid backend, case-insensitively', () => {
    expect(readBackendParam('?backend=cpu')).toEqual({ preference: 'cpu' });
    expect(readBackendParam('?x=1&backend=WebGL')).toEqual({ preference: 'webgl' });
    expect(readBackendParam('?backend=wasm')).toEqual({ preference: 'wasm' });
    expect(readBackendParam('?backend=WASM&net=conv4')).toEqual({ preference: 'wasm' });
  });

  it('falls back to auto with a notice for an unknown value', () => {
    const p = readBackendParam('?backend=metal');
    expect(p.preference).toBe('auto');
    expect(p.notice).toBe('Unknown backend "metal" in the URL; using auto. Valid values: auto, webgpu, webgl, wasm, cpu.');
    expect(readBackendParam('?backend=webassembly').notice).toMatch(/Unknown backend "webassembly"/);
  });
});
