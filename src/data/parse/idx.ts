/**
 * Parser for the IDX format used by MNIST, Fashion-MNIST, KMNIST and EMNIST (http://yann.lecun.com/exdb/mnist/):
 *
 *   bytes 0-1   zero
 *   byte  2     dtype code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *   byte  3     number of dimensions d (1..{@link IDX_MAX_DIMS})
 *   4*d bytes   the dimension sizes, unsigned 32-bit big-endian
 *   then        prod(dims) values, big-endian, row-major (last dimension fastest)
 *
 * Works on bytes only (no fetch, no DOM, no node:fs) so it runs in Node, workers and the browser.
 * Every refusal is an {@link IdxError} whose message says which file, what was expected and what was found.
 */
import { IMAGE_PIXELS, IMAGE_SIDE } from '../types';
import type { LabeledImages } from '../types';

/** Default largest accepted file: 256 MiB (EMNIST "byclass" train images are ~550 MB raw; MNIST ~47 MB). */
export const IDX_DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Most dimensions accepted in a header (the format allows 255; real files use 1-3). */
export const IDX_MAX_DIMS = 8;
/** Default most classes accepted by {@link parseIdxPair} (EMNIST byclass has 62). */
export const IDX_DEFAULT_MAX_CLASSES = 100;

/** Why an IDX file was refused. */
export type IdxErrorCode =
  | 'empty'
  | 'gzip'
  | 'too-large'
  | 'too-small'
  | 'bad-magic'
  | 'bad-dtype'
  | 'bad-dims'
  | 'length-mismatch'
  | 'shape'
  | 'count-mismatch'
  | 'label-range'
  | 'bad-option';

/** A refused IDX input; `code` is for programs, `message` for people, `file` names the input. */
export class IdxError extends Error {
  /** Machine-readable reason. */
  readonly code: IdxErrorCode;
  /** The file name the caller gave (or a default such as 'IDX file'). */
  readonly file: string;

  /**
   * @param code machine-readable reason
   * @param file name of the offending input
   * @param message a sentence for people, without the file name (it is prefixed)
   */
  constructor(code: IdxErrorCode, file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'IdxError';
    this.code = code;
    this.file = file;
  }
}

/** Element type names, by IDX dtype code. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array a dtype parses into. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file. `data.length === product(dims)`. */
export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  data: IdxData;
}

/** Options of {@link parseIdx}. */
export interface ParseIdxOptions {
  /** Refuse inputs larger than this many bytes (default {@link IDX_DEFAULT_MAX_BYTES}). */
  maxBytes?: number;
  /** Name used in error messages (default 'IDX file'). */
  fileName?: string;
}

const DTYPES: Record<number, { dtype: IdxDtype; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function toBytes(input: ArrayBuffer | Uint8Array, file: string): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  throw new IdxError('bad-option', file, 'expected an ArrayBuffer or Uint8Array of the file contents');
}

function checkMaxBytes(value: number | undefined, fallback: number, file: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new IdxError('bad-option', file, `maxBytes must be a non-negative number, got ${String(v)}`);
  return v;
}

/**
 * Parses one IDX file.
 *
 * For uint8 and int8 files `data` is a view into the input's buffer (no copy); wider types are
 * decoded from big-endian into a new array.
 *
 * @param bytes the whole file
 * @param options size limit and a name for messages
 * @throws IdxError (and only IdxError) when the input is empty, gzip-compressed, larger than
 *   `maxBytes`, has a bad magic number, unknown dtype, bad dimensions, or its length is not exactly
 *   header + product(dims) * element size (truncated or with trailing bytes)
 */
export function parseIdx(bytes: ArrayBuffer | Uint8Array, options: ParseIdxOptions = {}): IdxArray {
  const file = options.fileName ?? 'IDX file';
  const maxBytes = checkMaxBytes(options.maxBytes, IDX_DEFAULT_MAX_BYTES, file);
  const u8 = toBytes(bytes, file);
  const n = u8.length;
  if (n === 0) throw new IdxError('empty', file, 'the file is empty (0 bytes)');
  if (n >= 2 && u8[0] === 0x1f && u8[1] === 0x8b) {
    throw new IdxError('gzip', file, 'this file is gzip-compressed (.gz): unzip it first, then load the raw IDX file');
  }
  if (n > maxBytes) {
    throw new IdxError('too-large', file, `the file has ${n} bytes, more than the limit of ${maxBytes} bytes`);
  }
  if (n < 4) throw new IdxError('too-small', file, `the file has ${plural(n, 'byte')}, too short for the 4-byte IDX magic number`);
  if (u8[0] !== 0 || u8[1] !== 0) {
    throw new IdxError(
      'bad-magic',
      file,
      `not an IDX file: the magic number must start with two zero bytes, found ${hex(u8[0])} ${hex(u8[1])}`,
    );
  }
  const type = DTYPES[u8[2]];
  if (!type) {
    throw new IdxError(
      'bad-dtype',
      file,
      `unknown IDX data type code ${hex(u8[2])} in the magic number; expected 0x08 (uint8), 0x09 (int8), 0x0b (int16), 0x0c (int32), 0x0d (float32) or 0x0e (float64)`,
    );
  }
  const ndims = u8[3];
  if (ndims < 1 || ndims > IDX_MAX_DIMS) {
    throw new IdxError('bad-dims', file, `the header declares ${ndims} dimensions; expected 1 to ${IDX_MAX_DIMS}`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (n < headerBytes) {
    throw new IdxError(
      'too-small',
      file,
      `the header of a ${ndims}-dimensional IDX file needs ${headerBytes} bytes, but the file has only ${n} (truncated)`,
    );
  }
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    count *= size; // exact while count * elementSize stays below 2^53; checked against n below
  }
  const expected = headerBytes + count * type.size;
  if (expected !== n) {
    const shape = `[${dims.join(', ')}] of ${type.dtype}`;
    const detail =
      expected > n
        ? `the file is truncated: ${plural(expected - n, 'byte')} missing`
        : `the file has ${plural(n - expected, 'trailing byte')} after the data`;
    throw new IdxError(
      'length-mismatch',
      file,
      `the header declares shape ${shape}, which needs ${expected} bytes, but the file has ${n}: ${detail}`,
    );
  }
  const offset = u8.byteOffset + headerBytes;
  /** Fills `out` with the big-endian values after the header, `type.size` bytes each (`get` reads one at a byte offset). */
  const readBigEndian = <T extends Int16Array | Int32Array | Float32Array | Float64Array>(out: T, get: (byteOffset: number) => number): T => {
    for (let i = 0; i < out.length; i++) out[i] = get(headerBytes + type.size * i);
    return out;
  };
  let data: IdxData;
  switch (type.dtype) {
    case 'uint8':
      data = new Uint8Array(u8.buffer, offset, count);
      break;
    case 'int8':
      data = new Int8Array(u8.buffer, offset, count);
      break;
    case 'int16':
      data = readBigEndian(new Int16Array(count), (o) => view.getInt16(o, false));
      break;
    case 'int32':
      data = readBigEndian(new Int32Array(count), (o) => view.getInt32(o, false));
      break;
    case 'float32':
      data = readBigEndian(new Float32Array(count), (o) => view.getFloat32(o, false));
      break;
    case 'float64':
      data = readBigEndian(new Float64Array(count), (o) => view.getFloat64(o, false));
      break;
  }
  return { dtype: type.dtype, dims, data };
}

/** Options of {@link parseIdxPair}. */
export interface ParseIdxPairOptions {
  /** Per-file size limit (default {@link IDX_DEFAULT_MAX_BYTES}). */
  maxBytes?: number;
  /** Largest accepted number of classes, max label + 1 (default {@link IDX_DEFAULT_MAX_CLASSES}, at most 256). */
  maxClasses?: number;
  /** Name of the images file in messages (default 'images file'). */
  imagesName?: string;
  /** Name of the labels file in messages (default 'labels file'). */
  labelsName?: string;
}

/**
 * Parses an images file and a labels file into {@link LabeledImages}.
 *
 * Requires uint8 images of shape [N, 28, 28], uint8 labels of shape [N] with the same N ≥ 1, and
 * labels in 0..numClasses-1 where numClasses = max label + 1 ≤ `maxClasses`.
 * The returned arrays are copies that own their buffers (byteOffset 0), so they can be transferred
 * to a worker.
 *
 * @param imagesBytes the whole images file (e.g. train-images-idx3-ubyte)
 * @param labelsBytes the whole labels file (e.g. train-labels-idx1-ubyte)
 * @param options limits and file names for messages
 * @throws IdxError with codes from {@link parseIdx}, or 'shape', 'bad-dtype', 'count-mismatch',
 *   'label-range', 'too-small' (no images), 'bad-option'
 */
export function parseIdxPair(
  imagesBytes: ArrayBuffer | Uint8Array,
  labelsBytes: ArrayBuffer | Uint8Array,
  options: ParseIdxPairOptions = {},
): LabeledImages {
  const imagesName = options.imagesName ?? 'images file';
  const labelsName = options.labelsName ?? 'labels file';
  const maxClasses = options.maxClasses ?? IDX_DEFAULT_MAX_CLASSES;
  if (!Number.isInteger(maxClasses) || maxClasses < 1 || maxClasses > 256) {
    throw new IdxError('bad-option', labelsName, `maxClasses must be an integer in 1..256, got ${String(maxClasses)}`);
  }
  const img = parseIdx(imagesBytes, { maxBytes: options.maxBytes, fileName: imagesName });
  const lab = parseIdx(labelsBytes, { maxBytes: options.maxBytes, fileName: labelsName });

  if (img.dtype !== 'uint8') {
    throw new IdxError('bad-dtype', imagesName, `images must be uint8 (IDX type 0x08) grayscale pixels, found ${img.dtype}`);
  }
  if (img.dims.length !== 3 || img.dims[1] !== IMAGE_SIDE || img.dims[2] !== IMAGE_SIDE) {
    throw new IdxError(
      'shape',
      imagesName,
      `found images of shape [${img.dims.join(', ')}]; the lab needs 28x28 grayscale images, shape [N, 28, 28]`,
    );
  }
  if (lab.dtype !== 'uint8') {
    throw new IdxError('bad-dtype', labelsName, `labels must be uint8 (IDX type 0x08), found ${lab.dtype}`);
  }
  if (lab.dims.length !== 1) {
    throw new IdxError('shape', labelsName, `found labels of shape [${lab.dims.join(', ')}]; expected one label per image, shape [N]`);
  }
  const count = img.dims[0];
  if (lab.dims[0] !== count) {
    throw new IdxError(
      'count-mismatch',
      labelsName,
      `has ${lab.dims[0]} labels but ${imagesName} has ${count} images; they must match one to one`,
    );
  }
  if (count === 0) throw new IdxError('too-small', imagesName, 'contains 0 images');

  const labels = (lab.data as Uint8Array).slice();
  let max = 0;
  for (let i = 0; i < count; i++) if (labels[i] > max) max = labels[i];
  const numClasses = max + 1;
  if (numClasses > maxClasses) {
    let at = 0;
    while (labels[at] !== max) at++;
    throw new IdxError(
      'label-range',
      labelsName,
      `label ${max} (at index ${at}) implies ${numClasses} classes; at most ${maxClasses} are allowed (labels must be 0..${maxClasses - 1})`,
    );
  }
  const images = (img.data as Uint8Array).slice();
  if (images.length !== count * IMAGE_PIXELS) {
    // Unreachable after the shape check; kept so the invariant is explicit.
    throw new IdxError('shape', imagesName, `expected ${count * IMAGE_PIXELS} pixels, found ${images.length}`);
  }
  return { images, labels, count, numClasses };
}
