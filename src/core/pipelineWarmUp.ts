/**
 * Pipeline warm-up. A backend that compiles its GPU programs on first use (webgpu: one pipeline per
 * program and shape class, ~100 in a training step) can instead compile them all in parallel
 * before the first step: the step's forward and backward run once in a compile-only mode, which
 * compiles every program and dispatches nothing. src/kernels installs the runner for webgpu (core
 * never imports kernels); on other backends there is none and `warmUpPipelines` does nothing.
 *
 * A dry run must have no effect beyond compiling: no optimiser step, no BN running-statistics
 * update, nothing read back; every tensor it makes is disposed.
 */

/** Runs `dryRun` in the backend's compile-only mode and resolves once every program compiled. */
export type CompileOnlyRunner = (dryRun: () => void) => Promise<void>;

const runners = new Map<string, CompileOnlyRunner>();

/** Installs (or, with null, removes) the compile-only runner of `backendName`. */
export function setCompileOnlyRunner(backendName: string, runner: CompileOnlyRunner | null): void {
  if (runner) runners.set(backendName, runner);
  else runners.delete(backendName);
}

/** Whether `backendName` has a compile-only runner. */
export function hasCompileOnlyRunner(backendName: string): boolean {
  return runners.has(backendName);
}

/**
 * Compiles what `dryRun` would run, on `backendName`, in parallel: the milliseconds it took, or null
 * where the backend has no runner (then `dryRun` is not called).
 */
export async function warmUpPipelines(backendName: string, dryRun: () => void): Promise<number | null> {
  const runner = runners.get(backendName);
  if (!runner) return null;
  const start = performance.now();
  await runner(dryRun);
  return performance.now() - start;
}
