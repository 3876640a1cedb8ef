/**
 * Loads the bundled datasets that scripts/prepare-data.mjs wrote to public/data/, through a
 * caller-supplied `fetchBytes` (the engine passes one built on fetch, Node code uses
 * {@link ../loadNode.nodeFetchBytes}). No DOM, no fetch and no node: imports here (docs/ARCHITECTURE.md).
 */
import { BUNDLED_DATASETS, DATA_FORMAT_VERSION, DATA_INDEX_FILE, isBundledDatasetName } from './registry';
import type { BundledDatasetName, SplitName } from './registry';
import { IMAGE_PIXELS } from './types';
import type { DatasetSplits, LabeledImages } from './types';

/** Reads a file relative to the data root and resolves to its whole contents. */
export type FetchBytes = (relativePath: string) => Promise<ArrayBuffer>;

/** One data file as listed in index.json. */
export interface DataFileEntry {
  file: string;
  bytes: number;
  sha256: string;
}

/** One split as listed in index.json. */
export interface DataSplitEntry {
  count: number;
  images: DataFileEntry;
  labels: DataFileEntry;
  classCounts: number[];
}

/** One dataset as listed in index.json. */
export interface DataIndexDataset {
  name: string;
  classNames: string[];
  imageShape: [number, number, number];
  splits: Record<SplitName, DataSplitEntry>;
}

/** The contents of public/data/index.json. */
export interface DataIndex {
  formatVersion: number;
  generator: { script?: string; version: string; sources: Record<string, string> };
  datasets: Partial<Record<BundledDatasetName, DataIndexDataset>>;
}

/** Why loading failed. */
export type DataLoadErrorCode =
  | 'fetch-failed'
  | 'bad-index'
  | 'format-version'
  | 'unknown-dataset'
  | 'size-mismatch'
  | 'checksum-mismatch'
  | 'bad-labels';

/** A loading failure; the message names the file and what was expected vs found. */
export class DataLoadError extends Error {
  /** Machine-readable reason. */
  readonly code: DataLoadErrorCode;
  /** The file (relative to the data root) concerned, if any. */
  readonly file?: string;

  /**
   * @param code machine-readable reason
   * @param message a sentence for people
   * @param file the file concerned
   * @param options.cause the underlying error
   */
  constructor(code: DataLoadErrorCode, message: string, file?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DataLoadError';
    this.code = code;
    this.file = file;
  }
}

async function fetchFile(fetchBytes: FetchBytes, file: string): Promise<ArrayBuffer> {
  try {
    const buf = await fetchBytes(file);
    if (!(buf instanceof ArrayBuffer)) throw new TypeError('fetchBytes did not resolve to an ArrayBuffer');
    return buf;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new DataLoadError(
      'fetch-failed',
      `could not read data file ${file}: ${why} (were the data files prepared? run npm run prepare-data)`,
      file,
      { cause: err },
    );
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function checkFileEntry(x: unknown, where: string): DataFileEntry {
  if (!isObj(x) || typeof x.file !== 'string' || !isCount(x.bytes) || typeof x.sha256 !== 'string') {
    throw new DataLoadError('bad-index', `${DATA_INDEX_FILE}: ${where} must be {file, bytes, sha256}`, DATA_INDEX_FILE);
  }
  if (x.file.includes('..') || x.file.startsWith('/') || x.file.includes('\\')) {
    throw new DataLoadError('bad-index', `${DATA_INDEX_FILE}: ${where}.file "${x.file}" must be a plain file name`, DATA_INDEX_FILE);
  }
  return { file: x.file, bytes: x.bytes, sha256: x.sha256 };
}

/**
 * Validates parsed index.json contents.
 * @param json the parsed JSON
 * @throws DataLoadError 'format-version' when the layout version differs from
 *   {@link DATA_FORMAT_VERSION}, 'bad-index' when the structure is wrong
 */
export function parseDataIndex(json: unknown): DataIndex {
  const bad = (what: string): never => {
    throw new DataLoadError('bad-index', `${DATA_INDEX_FILE}: ${what}`, DATA_INDEX_FILE);
  };
  if (!isObj(json)) return bad('expected a JSON object');
  if (json.formatVersion !== DATA_FORMAT_VERSION) {
    throw new DataLoadError(
      'format-version',
      `${DATA_INDEX_FILE}: format version ${String(json.formatVersion)}, but this build reads version ${DATA_FORMAT_VERSION}; run npm run prepare-data`,
      DATA_INDEX_FILE,
    );
  }
  const gen = json.generator;
  if (!isObj(gen) || typeof gen.version !== 'string' || !isObj(gen.sources)) bad('generator must be {version, sources}');
  if (!isObj(json.datasets)) return bad('datasets must be an object');
  const datasets: DataIndex['datasets'] = {};
  for (const [key, ds] of Object.entries(json.datasets)) {
    if (!isBundledDatasetName(key)) continue; // unknown extra datasets are ignored
    if (!isObj(ds) || typeof ds.name !== 'string' || !Array.isArray(ds.classNames) || !isObj(ds.splits)) {
      return bad(`datasets.${key} must be {name, classNames, imageShape, splits}`);
    }
    if (!ds.classNames.every((c) => typeof c === 'string') || ds.classNames.length < 1 || ds.classNames.length > 256) {
      return bad(`datasets.${key}.classNames must be 1..256 strings`);
    }
    const shape = ds.imageShape;
    if (!Array.isArray(shape) || shape[0] !== 28 || shape[1] !== 28 || shape[2] !== 1) {
      return bad(`datasets.${key}.imageShape must be [28, 28, 1], found ${JSON.stringify(shape)}`);
    }
    const splits = {} as Record<SplitName, DataSplitEntry>;
    for (const split of ['train', 'test'] as const) {
      const s = ds.splits[split];
      const where = `datasets.${key}.splits.${split}`;
      if (!isObj(s) || !isCount(s.count)) return bad(`${where} must have a count`);
      const counts = Array.isArray(s.classCounts) && s.classCounts.every(isCount) ? (s.classCounts as number[]) : [];
      splits[split] = {
        count: s.count,
        images: checkFileEntry(s.images, `${where}.images`),
        labels: checkFileEntry(s.labels, `${where}.labels`),
        classCounts: counts,
      };
    }
    datasets[key] = {
      name: ds.name,
      classNames: ds.classNames as string[],
      imageShape: [28, 28, 1],
      splits,
    };
  }
  const g = gen as Record<string, unknown>;
  return {
    formatVersion: DATA_FORMAT_VERSION,
    generator: {
      script: typeof g.script === 'string' ? g.script : undefined,
      version: g.version as string,
      sources: g.sources as Record<string, string>,
    },
    datasets,
  };
}

/**
 * Reads and validates index.json through `fetchBytes`.
 * @throws DataLoadError 'fetch-failed', 'bad-index' or 'format-version'
 */
export async function loadDataIndex(fetchBytes: FetchBytes): Promise<DataIndex> {
  const buf = await fetchFile(fetchBytes, DATA_INDEX_FILE);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(buf));
  } catch (err) {
    throw new DataLoadError('bad-index', `${DATA_INDEX_FILE} is not valid JSON: ${(err as Error).message}`, DATA_INDEX_FILE, {
      cause: err,
    });
  }
  return parseDataIndex(json);
}

/**
 * SHA-256 of `bytes` as lowercase hex, via Web Crypto (`crypto.subtle`, in browsers, workers and Node ≥ 20).
 * @param bytes the data to hash
 */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const input: BufferSource = bytes instanceof Uint8Array ? (bytes as Uint8Array<ArrayBuffer>) : bytes;
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', input));
  let hexOut = '';
  for (let i = 0; i < digest.length; i++) hexOut += digest[i].toString(16).padStart(2, '0');
  return hexOut;
}

/** Options of {@link loadBundledDataset}. */
export interface LoadOptions {
  /** Also check each file's SHA-256 against index.json (≈0.1 s for MNIST). Default false: sizes only. */
  verify?: boolean;
  /** An index already loaded with {@link loadDataIndex} (saves re-reading it for the second dataset). */
  index?: DataIndex;
}

/** A loaded bundled dataset. The typed arrays own whole ArrayBuffers (transferable). */
export interface LoadedDataset extends DatasetSplits {
  name: BundledDatasetName;
  displayName: string;
}

async function loadFile(fetchBytes: FetchBytes, entry: DataFileEntry, expectedBytes: number, verify: boolean): Promise<Uint8Array> {
  const buf = await fetchFile(fetchBytes, entry.file);
  if (entry.bytes !== expectedBytes) {
    throw new DataLoadError(
      'bad-index',
      `${DATA_INDEX_FILE}: ${entry.file} is listed with ${entry.bytes} bytes, but its count implies ${expectedBytes}`,
      DATA_INDEX_FILE,
    );
  }
  if (buf.byteLength !== entry.bytes) {
    throw new DataLoadError(
      'size-mismatch',
      `${entry.file}: expected ${entry.bytes} bytes (from ${DATA_INDEX_FILE}), got ${buf.byteLength}; run npm run prepare-data`,
      entry.file,
    );
  }
  if (verify) {
    const got = await sha256Hex(buf);
    if (got !== entry.sha256.toLowerCase()) {
      throw new DataLoadError(
        'checksum-mismatch',
        `${entry.file}: SHA-256 ${got} does not match ${entry.sha256} from ${DATA_INDEX_FILE}; run npm run prepare-data`,
        entry.file,
      );
    }
  }
  return new Uint8Array(buf);
}

/**
 * Loads one bundled dataset: reads index.json (unless given), then its four files in parallel, checks
 * byte sizes (and SHA-256 with `verify: true`) and that every label is below the number of classes.
 *
 * @param name 'mnist' or 'fashion'
 * @param fetchBytes reads a path relative to the data root, e.g.
 *   `path => fetch('/data/' + path).then(r => r.arrayBuffer())` in the engine
 * @param options `verify` checksums; a preloaded `index`
 * @returns train and test {@link LabeledImages} and the class names from index.json
 * @throws DataLoadError naming the file, the expected and the found value
 */
export async function loadBundledDataset(name: BundledDatasetName, fetchBytes: FetchBytes, options: LoadOptions = {}): Promise<LoadedDataset> {
  if (!isBundledDatasetName(name)) {
    throw new DataLoadError('unknown-dataset', `unknown bundled dataset "${String(name)}"; expected one of: mnist, fashion`);
  }
  const index = options.index ?? (await loadDataIndex(fetchBytes));
  const ds = index.datasets[name];
  if (!ds) {
    throw new DataLoadError('bad-index', `${DATA_INDEX_FILE} does not list dataset "${name}"; run npm run prepare-data`, DATA_INDEX_FILE);
  }
  const numClasses = ds.classNames.length;
  const verify = options.verify ?? false;
  const loadSplit = async (split: SplitName): Promise<LabeledImages> => {
    const s = ds.splits[split];
    const [images, labels] = await Promise.all([
      loadFile(fetchBytes, s.images, s.count * IMAGE_PIXELS, verify),
      loadFile(fetchBytes, s.labels, s.count, verify),
    ]);
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] >= numClasses) {
        throw new DataLoadError(
          'bad-labels',
          `${s.labels.file}: label ${labels[i]} at index ${i}, but ${name} has ${numClasses} classes (expected 0..${numClasses - 1})`,
          s.labels.file,
        );
      }
    }
    return { images, labels, count: s.count, numClasses };
  };
  const [train, test] = await Promise.all([loadSplit('train'), loadSplit('test')]);
  return {
    name,
    displayName: BUNDLED_DATASETS[name].displayName,
    classNames: [...ds.classNames],
    train,
    test,
  };
}
