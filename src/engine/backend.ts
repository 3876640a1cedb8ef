/**
 * (~510 lines: the backend policy in one place: the order, every backend's preparation and smoke
 * check, and the software-GPU rule, which only make sense read together.)
 *
 * Backend selection for the engine (worker side; also runs in Node, where it ends on `wasm` when
 * given the binaries' directory, else on `cpu`).
 *
 * Order: WebGPU -> WebGL -> WASM -> CPU. A backend counts as selected only when
 *   1. `tf.setBackend(name)` resolves true,
 *   2. `tf.getBackend()` then reports that name (tfjs otherwise falls back silently), and
 *   3. a tiny smoke computation (2x2 matMul and an AddN) returns the exact expected numbers.
 * Every backend tried and not used is reported with a human-readable reason.
 *
 * A software GPU — WebGPU or WebGL emulated on the CPU by SwiftShader or llvmpipe, what a browser
 * offers on a machine without a usable GPU — is refused unless that backend was asked for by name:
 * there, tfjs-wasm trains convnets 30–70x faster (SOFTWARE_GPU_REASON).
 *
 * WebGPU: we request the adapter and the device ourselves instead of using tfjs-backend-webgpu's
 * default factory, because we want (a) the adapter's own limits on the device — the spec default
 * maxStorageBuffersPerShaderStage is 8, and an AddN of 8+ tensors then fails validation and
 * silently returns garbage — and (b) `uncapturederror` / `device.lost` listeners, so a broken
 * device is reported instead of producing wrong numbers.
 *
 * WASM: tfjs-backend-wasm (XNNPACK) on the CPU. It loads one of three `.wasm` binaries, chosen by
 * feature detection (SIMD; threads only where SharedArrayBuffer exists, i.e. a cross-origin
 * isolated page). The caller says where they are served (`wasmPaths`): the app serves them from
 * its own origin, and this module stays free of bundler-only `?url` imports so Node can run it.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { errorMessage } from './errors';
import type {
  BackendName,
  BackendPreference,
  BackendRefusal,
  BackendSmoke,
  GpuAdapterSummary,
  WasmSummary,
} from './protocol';

export interface BackendSelection {
  backend: BackendName;
  refused: BackendRefusal[];
  adapterInfo?: GpuAdapterSummary;
  /** Limits the WebGPU device was created with (webgpu only). */
  limits?: Record<string, number>;
  /** Which tfjs-wasm binary runs and on how many threads (wasm only). */
  wasm?: WasmFlavour;
  smoke: BackendSmoke;
}

/** The three binaries tfjs-backend-wasm 4.22 can load; it picks one by feature detection. */
export const WASM_BINARY_NAMES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
] as const;
export type WasmBinaryName = (typeof WASM_BINARY_NAMES)[number];

/**
 * Where the tfjs-wasm binaries are served: a directory URL/path ending in `/` that holds all three,
 * or one URL per binary (what the worker passes: Vite `?url` imports, served from the app's origin).
 */
export type WasmPaths = string | Record<WasmBinaryName, string>;

/** What tfjs-wasm runs with (protocol's `WasmSummary`), its binary named exactly. */
export type WasmFlavour = WasmSummary & { binary: WasmBinaryName };

export interface SelectBackendOptions {
  /**
   * Called when the WebGPU device reports an uncaptured error or is lost (not when we destroy it).
   * After this, results on that device cannot be trusted.
   */
  onFatalGpuError?: (message: string) => void;
  /** The WebGPU entry point; defaults to `navigator.gpu`. Injectable for tests. */
  gpu?: Pick<GPU, 'requestAdapter'> | null;
  /**
   * Overrides the WebGL availability probe (tests). Returns null if usable, else the reason;
   * `allowSoftware` is false unless webgl was asked for by name.
   */
  probeWebGL?: (allowSoftware: boolean) => string | null;
  /**
   * Where the tfjs-wasm binaries are served (see `WasmPaths`). Needed for `wasm` unless tfjs-wasm
   * was already initialised in this context (e.g. by a script); without it `wasm` is refused.
   * In the browser: `{ 'tfjs-backend-wasm.wasm': url, 'tfjs-backend-wasm-simd.wasm': url,
   * 'tfjs-backend-wasm-threaded-simd.wasm': url }` with same-origin URLs (engine.worker.ts).
   */
  wasmPaths?: WasmPaths;
  /** Backends not to try (recovery after one broke; see engine/recovery.ts). cpu is never skipped. */
  exclude?: readonly BackendName[];
}

/** Adapter limits we copy onto the device (when the adapter reports them). */
export const REQUESTED_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
] as const;

/** Priority given to our webgpu factory (tfjs' own registers at 3; only matters for tfjs' auto pick). */
const WEBGPU_PRIORITY = 3;

/**
 * The backends to try for a preference, in order. A forced backend falls through to the ones after
 * it: auto/webgpu: webgpu → webgl → wasm → cpu; webgl: webgl → wasm → cpu; wasm: wasm → cpu.
 */
export function backendOrder(preference: BackendPreference): BackendName[] {
  switch (preference) {
    case 'auto':
    case 'webgpu':
      return ['webgpu', 'webgl', 'wasm', 'cpu'];
    case 'webgl':
      return ['webgl', 'wasm', 'cpu'];
    case 'wasm':
      return ['wasm', 'cpu'];
    case 'cpu':
      return ['cpu'];
  }
}

/** Thrown (internally) when a backend is refused; `message` is the reason shown to the user. */
class Refusal extends Error {}

/** A refusal only because the GPU is a software emulation (see SOFTWARE_GPU_REASON). */
class SoftwareRefusal extends Refusal {}

interface Attempt {
  adapterInfo?: GpuAdapterSummary;
  limits?: Record<string, number>;
  /** Read once the backend is active (wasm only). */
  describe?: () => Promise<WasmFlavour>;
  /** Undo what the attempt set up (destroy the device, unregister the backend). */
  cleanup: () => void;
  /** Uncaptured GPU errors raised before `commit` (webgpu only): the smoke must run clean. */
  gpuErrors?: () => string[];
  /** Waits until errors from the work submitted so far have been delivered (webgpu only). */
  settle?: () => Promise<void>;
  /** Called once the backend is selected: from then on GPU errors go to `onFatalGpuError`. */
  commit?: () => void;
}

/**
 * Selects, initialises and verifies a tfjs backend. Never throws for an unavailable backend:
 * `cpu` is the last resort and always there. Throws only if even `cpu` fails its smoke test.
 */
export async function selectBackend(
  preference: BackendPreference,
  options: SelectBackendOptions = {},
): Promise<BackendSelection> {
  const order = backendOrder(preference).filter((name) => name === 'cpu' || !options.exclude?.includes(name));
  // A software GPU (SwiftShader, llvmpipe) is used only when asked for by name: on a machine without
  // a GPU it trains far slower than WebAssembly (SOFTWARE_GPU_REASON). One skipped for that reason
  // is tried again, software allowed, just before cpu (still faster than tfjs-cpu when wasm failed).
  const queue: { name: BackendName; allowSoftware: boolean; lastResort?: boolean }[] =
    order.map((name) => ({ name, allowSoftware: name === preference }));
  const refused: BackendRefusal[] = [];
  for (let i = 0; i < queue.length; i++) {
    const { name, allowSoftware } = queue[i];
    let attempt: Attempt | undefined;
    try {
      attempt = await prepare(name, options, allowSoftware);
      await activate(name);
      const smoke = await runBackendSmoke();
      await attempt.settle?.();
      const gpuErrors = attempt.gpuErrors?.() ?? [];
      if (gpuErrors.length > 0) {
        throw new Refusal(`smoke test raised ${gpuErrors.length} uncaptured WebGPU error(s), first: ${gpuErrors[0]}`);
      }
      if (!smoke.ok) throw new Refusal(`smoke test failed: ${smoke.detail ?? 'wrong result'}`);
      attempt.commit?.();
      // used after all (as the last resort): its earlier "software" refusal no longer applies
      const selection: BackendSelection = { backend: name, refused: refused.filter((r) => r.name !== name), smoke };
      if (attempt.adapterInfo) selection.adapterInfo = attempt.adapterInfo;
      if (attempt.limits) selection.limits = attempt.limits;
      if (attempt.describe) selection.wasm = await attempt.describe();
      return selection;
    } catch (err) {
      attempt?.cleanup();
      let reason = errorMessage(err);
      const next = queue[i + 1]?.name;
      if (name === preference) {
        reason += next ? ` (requested explicitly; falling back to ${next})` : ' (requested explicitly)';
      }
      if (err instanceof SoftwareRefusal) {
        // before cpu; software WebGL before software WebGPU (measured faster on SwiftShader)
        const cpuAt = queue.findIndex((q, j) => j > i && q.name === 'cpu');
        const webgpuRetryAt = name === 'webgl' ? queue.findIndex((q, j) => j > i && q.lastResort && q.name === 'webgpu') : -1;
        const at = webgpuRetryAt >= 0 ? webgpuRetryAt : cpuAt < 0 ? queue.length : cpuAt;
        queue.splice(at, 0, { name, allowSoftware: true, lastResort: true });
        reason += '; tried again before cpu if nothing faster works';
      }
      const earlier = refused.findIndex((r) => r.name === name);
      if (earlier >= 0) refused[earlier] = { name, reason: `${refused[earlier].reason}; then: ${reason}` };
      else refused.push({ name, reason });
    }
  }
  const summary = refused.map((r) => `${r.name}: ${r.reason}`).join('; ');
  throw new Error(`no usable tfjs backend (${summary})`);
}

async function prepare(name: BackendName, options: SelectBackendOptions, allowSoftware: boolean): Promise<Attempt> {
  switch (name) {
    case 'webgpu':
      return prepareWebGPU(options, allowSoftware);
    case 'webgl': {
      const problem = (options.probeWebGL ?? probeWebGL)(allowSoftware);
      if (problem !== null) throw problem.startsWith(SOFTWARE_RENDERER_PREFIX) ? new SoftwareRefusal(problem) : new Refusal(problem);
      return { cleanup: () => disposeBackend('webgl') };
    }
    case 'wasm':
      return prepareWasm(options);
    case 'cpu':
      return { cleanup: () => {} };
  }
}

/** `tf.setBackend` + check that tfjs really switched (it can fall back silently). */
async function activate(name: BackendName): Promise<void> {
  if (!tf.findBackendFactory(name)) throw new Refusal(`tfjs has no "${name}" backend registered in this build`);
  const warnings: string[] = [];
  const ok = await withConsoleWarnCaptured(warnings, () => tf.setBackend(name));
  if (!ok) {
    // tfjs logs the init error with console.warn and returns false; surface it as the reason.
    const detail = warnings.filter((w) => !/^Initialization of backend/.test(w))[0] ?? warnings[0];
    throw new Refusal(`tfjs failed to initialise the ${name} backend${detail ? `: ${firstLine(detail)}` : ''}`);
  }
  await tf.ready();
  const active = tf.getBackend();
  if (active !== name) throw new Refusal(`tf.setBackend('${name}') succeeded but tf.getBackend() is "${active}"`);
}

// ---------------------------------------------------------------------------------------------
// WebGPU

async function prepareWebGPU(options: SelectBackendOptions, allowSoftware: boolean): Promise<Attempt> {
  const gpu = options.gpu !== undefined ? options.gpu : defaultGpu();
  if (!gpu) {
    throw new Refusal(
      'no navigator.gpu: this browser or context does not expose WebGPU (Chrome/Edge 113+, a secure context such as https or http://127.0.0.1; Linux Chromium needs --enable-unsafe-webgpu)',
    );
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    throw new Refusal(`adapter request failed: ${errorMessage(err)}`);
  }
  if (!adapter) {
    throw new Refusal('no adapter: navigator.gpu.requestAdapter() returned null (WebGPU disabled, blocklisted GPU or no driver)');
  }

  const adapterDescription = describeAdapter(adapter);
  if (!allowSoftware && adapterDescription.software) {
    throw new SoftwareRefusal(`software adapter (${adapterDescription.name}): ${SOFTWARE_GPU_REASON}`);
  }

  const requiredLimits: Record<string, number> = {};
  const adapterLimits = adapter.limits as unknown as Record<string, number | undefined>;
  for (const key of REQUESTED_LIMITS) {
    const value = adapterLimits[key];
    if (typeof value === 'number') requiredLimits[key] = value;
  }
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (err) {
    throw new Refusal(`device request failed: ${errorMessage(err)}`);
  }

  const info = adapter.info as GPUAdapterInfo | undefined;
  const adapterInfo: GpuAdapterSummary = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
  const limits: Record<string, number> = {};
  const deviceLimits = device.limits as unknown as Record<string, number | undefined>;
  for (const key of REQUESTED_LIMITS) {
    const value = deviceLimits[key];
    if (typeof value === 'number') limits[key] = value;
  }

  // Until the backend is selected, errors are collected (they refuse the backend); after, they
  // are fatal for the run and reported through onFatalGpuError.
  let committed = false;
  let destroyedByUs = false;
  const earlyErrors: string[] = [];
  const report = (message: string) => {
    if (committed) options.onFatalGpuError?.(message);
    else earlyErrors.push(message);
  };
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    report(`WebGPU ${error.constructor?.name ?? 'error'}: ${error.message}`);
  });
  void device.lost.then((lost) => {
    if (destroyedByUs) return;
    report(`WebGPU device lost (${lost.reason}): ${lost.message}`);
  });

  // Replace tfjs' default webgpu factory (which creates its own device with default limits).
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  // WebGPUBackend keeps only vendor/architecture from the info (for Intel tuning).
  tf.registerBackend('webgpu', () => new WebGPUBackend(device, info), WEBGPU_PRIORITY);

  return {
    adapterInfo,
    limits,
    gpuErrors: () => earlyErrors,
    settle: async () => {
      await device.queue.onSubmittedWorkDone();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
    commit: () => {
      committed = true;
    },
    cleanup: () => {
      destroyedByUs = true;
      disposeBackend('webgpu');
      device.destroy();
    },
  };
}

/**
 * Why a software GPU is skipped unless asked for: measured on a 2-core machine without a GPU, in
 * Chromium, batch 32 (`npm run bench -- --browser --backend <b> --net mlp,conv4 --stage plain`):
 * conv4 step 215 ms on wasm vs 7.0 s on SwiftShader WebGL and 16 s on SwiftShader WebGPU; mlp
 * 32 ms vs 94 ms and 287 ms.
 */
export const SOFTWARE_GPU_REASON =
  'it emulates the GPU on the CPU, where WebAssembly trains much faster (conv4 step: 0.2 s on wasm vs 7–16 s measured); ask for it by name (?backend=webgpu or webgl) to use it anyway';

/** How `probeWebGL`'s refusal of a software renderer starts (so selectBackend can tell it apart). */
export const SOFTWARE_RENDERER_PREFIX = 'software renderer ';

/** Renderer names of GPU emulations on the CPU. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render driver/i;

/** Whether a WebGPU adapter is a CPU emulation (the spec's fallback flag, or a known software renderer). */
export function describeAdapter(adapter: GPUAdapter): { software: boolean; name: string } {
  const info = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  const fallbackFlag = info?.isFallbackAdapter === true || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const name = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return { software: fallbackFlag || SOFTWARE_RENDERER.test(name), name };
}

function defaultGpu(): GPU | null {
  return typeof navigator !== 'undefined' && navigator.gpu ? navigator.gpu : null;
}

// ---------------------------------------------------------------------------------------------
// WebGL

/**
 * Returns null if a WebGL context can be created here (on a hardware GPU, unless `allowSoftware`),
 * else why not. Works in a worker.
 */
export function probeWebGL(allowSoftware = true): string | null {
  let canvas: OffscreenCanvas | HTMLCanvasElement;
  if (typeof OffscreenCanvas !== 'undefined') {
    canvas = new OffscreenCanvas(1, 1);
  } else if (typeof document !== 'undefined') {
    canvas = document.createElement('canvas');
  } else {
    return 'no OffscreenCanvas and no DOM: WebGL is unavailable in this context';
  }
  try {
    const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
    if (!gl) return 'WebGL context failed: getContext("webgl2") and getContext("webgl") returned null';
    const context = gl as WebGLRenderingContext;
    const debugInfo = context.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(context.getParameter(debugInfo ? debugInfo.UNMASKED_RENDERER_WEBGL : context.RENDERER) ?? '');
    context.getExtension('WEBGL_lose_context')?.loseContext();
    if (!allowSoftware && SOFTWARE_RENDERER.test(renderer)) return `${SOFTWARE_RENDERER_PREFIX}(${renderer}): ${SOFTWARE_GPU_REASON}`;
    return null;
  } catch (err) {
    return `WebGL context failed: ${errorMessage(err)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// WASM

function prepareWasm(options: SelectBackendOptions): Attempt {
  if (typeof WebAssembly === 'undefined') throw new Refusal('no WebAssembly in this browser or context');
  const attempt: Attempt = { cleanup: () => disposeBackend('wasm'), describe: describeWasm };
  // Already initialised here (a script set it up, or an earlier selection in this worker): tfjs
  // reuses that instance and reads no binary, so no paths are needed.
  if (tf.engine().registry.wasm) return attempt;
  if (options.wasmPaths === undefined) {
    throw new Refusal('no location given for the WebAssembly binaries (selectBackend option wasmPaths), so tfjs-wasm cannot load them');
  }
  try {
    setWasmPaths(options.wasmPaths);
  } catch (err) {
    const message = errorMessage(err);
    // tfjs-wasm keeps a failed start for the life of the worker and refuses new paths after it.
    if (/already initialized/i.test(message)) {
      throw new Refusal('tfjs-wasm failed to start earlier in this worker and cannot retry (reload the page)');
    }
    throw new Refusal(`tfjs-wasm refused the binary paths: ${firstLine(message)}`);
  }
  return attempt;
}

async function describeWasm(): Promise<WasmFlavour> {
  const env = tf.env();
  const simd = Boolean(await env.getAsync('WASM_HAS_SIMD_SUPPORT'));
  const multithread = simd && Boolean(await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return { binary: wasmBinaryName(simd, multithread), simd, multithread, threads: getThreadsCount() };
}

/** The binary tfjs-wasm 4.22 loads for these features (its `getPathToWasmBinary`). */
export function wasmBinaryName(simd: boolean, multithread: boolean): WasmBinaryName {
  if (simd && multithread) return 'tfjs-backend-wasm-threaded-simd.wasm';
  return simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
}

// ---------------------------------------------------------------------------------------------
// Smoke

/** Expected values of the matMul smoke: [[1,2],[3,4]] x [[5,6],[7,8]]. */
export const SMOKE_MATMUL_EXPECTED = [19, 22, 43, 50];
/** AddN over this many tensors needs this+1 storage buffers in one WebGPU shader. */
export const SMOKE_ADDN_COUNT = 9;

/**
 * Runs a tiny computation on the active backend: a 2x2 matMul and an AddN of up to 9 tensors
 * (on WebGPU, capped so it fits the device's storage-buffer limit). Exact comparison: these are
 * small integers, exactly representable in float16/float32.
 */
export async function runBackendSmoke(): Promise<BackendSmoke> {
  const t0 = performance.now();
  const addNCount = smokeAddNCount();
  const matMul = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])));
  const addN = tf.tidy(() => tf.addN(Array.from({ length: addNCount }, () => tf.ones([4, 4]))));
  try {
    const mm = Array.from(await matMul.data());
    const sum = Array.from(await addN.data());
    const ms = Math.round(performance.now() - t0);
    const addNValue = sum[0];
    let detail: string | undefined;
    if (!mm.every(Number.isFinite)) detail = `matMul returned non-finite values [${mm.join(', ')}]`;
    else if (mm.some((x, i) => x !== SMOKE_MATMUL_EXPECTED[i])) detail = `matMul returned [${mm.join(', ')}], expected [${SMOKE_MATMUL_EXPECTED.join(', ')}]`;
    else if (sum.some((x) => x !== addNCount)) detail = `addN of ${addNCount} ones returned ${sum.slice(0, 4).join(', ')}…, expected ${addNCount}`;
    const smoke: BackendSmoke = { ok: detail === undefined, matMul: mm, addNCount, addNValue, ms };
    if (detail !== undefined) smoke.detail = detail;
    return smoke;
  } finally {
    matMul.dispose();
    addN.dispose();
  }
}

function smokeAddNCount(): number {
  if (tf.getBackend() !== 'webgpu') return SMOKE_ADDN_COUNT;
  const backend = tf.backend() as unknown as { device?: GPUDevice };
  const maxBuffers = backend.device?.limits.maxStorageBuffersPerShaderStage ?? 8;
  // AddN binds every input plus the output as storage buffers.
  return Math.max(2, Math.min(SMOKE_ADDN_COUNT, maxBuffers - 1));
}

// ---------------------------------------------------------------------------------------------
// helpers

/** Frees a backend we tried and will not use. WebGPU's factory is ours, so it is removed too. */
function disposeBackend(name: BackendName): void {
  try {
    if (name === 'webgpu') {
      if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
      return;
    }
    const engine = tf.engine();
    const instance = engine.registry[name];
    if (instance) {
      delete engine.registry[name];
      instance.dispose();
    }
  } catch {
    // best effort: a half-initialised backend may fail to dispose
  }
}

async function withConsoleWarnCaptured<T>(sink: string[], fn: () => Promise<T>): Promise<T> {
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    sink.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
    original.apply(console, args);
  };
  try {
    return await fn();
  } finally {
    console.warn = original;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}
