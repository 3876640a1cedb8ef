/**
 * The tfjs-wasm binaries as URLs on the app's own origin (bundler-only: Vite `?url` imports copy
 * each `.wasm` into the build with a content hash and give its URL; the dev server serves it from
 * node_modules). Pass `WASM_BINARY_URLS` as `selectBackend(..., { wasmPaths })` in a worker.
 * Kept out of backend.ts so that module still runs in Node.
 */
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { WasmBinaryName } from './backend';

/** One same-origin URL per tfjs-wasm binary; tfjs picks one by feature detection (SIMD, threads). */
export const WASM_BINARY_URLS: Record<WasmBinaryName, string> = {
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
};
