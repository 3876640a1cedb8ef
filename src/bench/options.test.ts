import { describe, expect, it } from 'vitest';
import { BenchOptionError, benchOptionsFromSearch, benchSearch, parseBenchOptions } from './options';

describe('bench options', () => {
  it('takes the documented defaults', () => {
    expect(parseBenchOptions({})).toEqual({
      backend: 'cpu', nets: ['mlp', 'conv4'], stages: ['plain', 'combined'], batch: 128, steps: 10, warmup: 2, width: 1, top: 0, stock: false, check: false,
    });
  });

  it('reads a page URL and writes it back unchanged', () => {
    const options = benchOptionsFromSearch('?bench&backend=webgl&net=conv4,mlp&stage=combined&batch=64&steps=3&warmup=0&width=0.5&top=5&stock=1&check=1');
    expect(options).toEqual({ backend: 'webgl', nets: ['conv4', 'mlp'], stages: ['combined'], batch: 64, steps: 3, warmup: 0, width: 0.5, top: 5, stock: true, check: true });
    expect(benchOptionsFromSearch(benchSearch(options))).toEqual(options);
    expect(benchOptionsFromSearch('?bench&stock=false').stock).toBe(false);
    expect(benchOptionsFromSearch('?bench&stock').stock).toBe(true);
  });

  it.each([
    [{ backend: 'metal' }, /backend must be one of cpu, wasm, webgpu, webgl/],
    [{ net: 'vgg' }, /net: unknown value 'vgg'/],
    [{ net: ',' }, /net: give at least one/],
    [{ stage: 'plain,finetune' }, /stage: unknown value 'finetune'/],
    [{ batch: '0' }, /batch must be between 1 and 4096/],
    [{ batch: '12.5' }, /batch must be a whole number/],
    [{ steps: '' }, /steps must be a whole number/],
    [{ width: 'wide' }, /width must be a number/],
    [{ epochs: '3' }, /unknown option 'epochs'/],
  ])('refuses %o with a message naming it', (raw, message) => {
    expect(() => parseBenchOptions(raw)).toThrow(BenchOptionError);
    expect(() => parseBenchOptions(raw)).toThrow(message);
  });
});
