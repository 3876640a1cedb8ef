import type { BackendName, DeviceStats, ReadyEvent } from '../engine/protocol';
import { useLabStore, type EngineStatus } from '../store/labStore';

const LABELS: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' };

/** One line per backend: what it computes on. */
const WHAT: Record<BackendName, string> = {
  webgpu: 'the GPU, through WebGPU compute shaders',
  webgl: 'the GPU, through WebGL graphics shaders',
  wasm: 'WebAssembly on the CPU; used when there is no GPU',
  cpu: 'plain JavaScript on the CPU; the slowest, the last resort',
};

function badgeText(status: EngineStatus, ready: ReadyEvent | null): string {
  if (ready) return LABELS[ready.backend];
  if (status === 'failed') return 'no backend';
  return 'starting…';
}

/** The live training line: ms per step, and on webgpu GPU dispatches and queue submits per step. */
function stepText(d: DeviceStats): string {
  const parts = [`${d.msPerStep! < 10 ? d.msPerStep!.toFixed(1) : Math.round(d.msPerStep!)} ms per step`];
  if (d.dispatchesPerStep !== undefined) parts.push(`${Math.round(d.dispatchesPerStep)} GPU dispatches`);
  if (d.submitsPerStep !== undefined) parts.push(`${Math.round(d.submitsPerStep * 10) / 10} queue submit${d.submitsPerStep === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/** Which tfjs backend the engine worker got, what it computed, and why others were refused. */
export function BackendPanel({ notice }: { notice?: string }) {
  const status = useLabStore((s) => s.status);
  const requested = useLabStore((s) => s.requested);
  const ready = useLabStore((s) => s.ready);
  const errors = useLabStore((s) => s.errors);
  const device = useLabStore((s) => s.deviceStats);

  return (
    <section className="card" aria-labelledby="backend-title">
      <div className="card-head">
        <h2 id="backend-title">Compute backend</h2>
        <span
          className={`badge badge-${ready?.backend ?? status}`}
          data-testid="backend.badge"
          data-backend={ready?.backend ?? ''}
          data-state={status}
          aria-live="polite"
        >
          {badgeText(status, ready)}
        </span>
      </div>

      {notice && (
        <p className="notice" role="status" data-testid="backend.notice">
          {notice}
        </p>
      )}

      <dl className="facts">
        <dt>Requested</dt>
        <dd data-testid="backend.requested">{requested ?? '—'}</dd>
        {ready && (
          <>
            <dt>Runs on</dt>
            <dd data-testid="backend.what">{WHAT[ready.backend]}</dd>
          </>
        )}
        {ready?.adapterInfo && (
          <>
            <dt>GPU adapter</dt>
            <dd data-testid="backend.adapter">
              {[ready.adapterInfo.vendor, ready.adapterInfo.architecture, ready.adapterInfo.description]
                .filter(Boolean)
                .join(' · ') || 'unknown'}
            </dd>
          </>
        )}
        {ready?.wasm && (
          <>
            <dt>WebAssembly</dt>
            <dd data-testid="backend.wasm">
              {ready.wasm.simd ? 'SIMD' : 'no SIMD'}, {ready.wasm.threads} thread{ready.wasm.threads === 1 ? '' : 's'}
              <span className="muted"> ({ready.wasm.binary})</span>
            </dd>
          </>
        )}
        {ready?.limits && (
          <>
            <dt>Storage buffers / shader</dt>
            <dd>{ready.limits.maxStorageBuffersPerShaderStage ?? '—'}</dd>
          </>
        )}
        {ready && (
          <>
            <dt>Smoke test</dt>
            <dd data-testid="backend.smoke" data-ok={String(ready.smoke.ok)}>
              {ready.smoke.ok ? '✓ ' : '✗ '}
              matMul 2×2 = [{ready.smoke.matMul.join(', ')}], sum of {ready.smoke.addNCount} = {ready.smoke.addNValue}
              <span className="muted"> ({ready.smoke.ms} ms)</span>
              {ready.smoke.detail && <span className="muted"> — {ready.smoke.detail}</span>}
            </dd>
          </>
        )}
        {device?.msPerStep !== undefined && (
          <>
            <dt>Training now</dt>
            <dd data-testid="backend.step" data-dispatches={device.dispatchesPerStep ?? ''}>
              {stepText(device)}
              <span className="muted"> (live evaluation not counted)</span>
            </dd>
          </>
        )}
        {device?.compileMs !== undefined && (
          <>
            <dt>Pipeline warm-up</dt>
            <dd data-testid="backend.compile">
              {Math.round(device.compileMs)} ms
              <span className="muted"> (every GPU program of a step compiled in parallel before its first step)</span>
            </dd>
          </>
        )}
      </dl>

      {ready && ready.refused.length > 0 && (
        <div className="refused">
          <h3>Not used</h3>
          <ul data-testid="backend.refused">
            {ready.refused.map((r) => (
              <li key={r.name} data-backend={r.name}>
                <strong>{LABELS[r.name]}</strong>: {r.reason}
              </li>
            ))}
          </ul>
        </div>
      )}

      {errors.length > 0 && (
        <div className="errors" role="alert">
          <h3>Engine errors</h3>
          <ul>
            {errors.map((e, i) => (
              <li key={i} data-testid="engine.error" data-code={e.code}>
                <code>{e.code}</code> {e.message}
                {!e.recoverable && <span className="muted"> (reload to recover)</span>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
