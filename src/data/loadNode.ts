/**
 * Node-only companion of load.ts: a {@link FetchBytes} that reads from disk, for tests, scripts and the
 * CLI. Kept out of load.ts so the browser bundle never pulls in node:fs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FetchBytes } from './load';

/** Default data root, relative to the working directory (the repository root). */
export const DEFAULT_NODE_DATA_DIR = 'public/data';

/**
 * Returns a {@link FetchBytes} that reads `relativePath` under `rootDir` with node:fs.
 * Refuses absolute paths and paths that leave `rootDir`. Resolves to an ArrayBuffer holding exactly
 * the file (never a slice of Node's shared Buffer pool).
 *
 * @param rootDir the data root (default 'public/data', resolved against the working directory)
 */
export function nodeFetchBytes(rootDir: string = DEFAULT_NODE_DATA_DIR): FetchBytes {
  const root = path.resolve(rootDir);
  return async (relativePath: string): Promise<ArrayBuffer> => {
    const full = path.resolve(root, relativePath);
    if (path.isAbsolute(relativePath) || (full !== root && !full.startsWith(root + path.sep))) {
      throw new Error(`path "${relativePath}" is outside the data root ${root}`);
    }
    let buf: Buffer;
    try {
      buf = await readFile(full);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${full} not found`, { cause: err });
      throw err;
    }
    if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer) {
      return buf.buffer;
    }
    const copy = new ArrayBuffer(buf.byteLength);
    new Uint8Array(copy).set(buf);
    return copy;
  };
}
