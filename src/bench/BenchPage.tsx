/**
 * The `?bench` page: runs src/bench/cases.ts (what `npm run bench` runs in Node) in a worker on
 * the backend the URL names — including WebGL, which Node lacks — and shows one row per case.
 * Each JSON line is also logged as `BENCH_LINE {...}` so scripts/bench-browser.mjs can print it.
 * A bad URL gets a message and runs nothing.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { NET_KINDS } from '../core/names';
import { startBench, type BenchRun } from './client';
import {
  BENCH_BACKENDS, BENCH_STAGES, BenchOptionError, benchOptionsFromSearch, benchSearch,
  type BenchCaseLine, type BenchLine, type BenchOptions,
} from './options';
import type { BenchEvent } from './protocol';
import { StepChart } from './StepChart';
import './bench.css';

type Status =
  | { kind: 'starting' }
  | { kind: 'running'; backend: string; adapter?: string; cases: number; startedAt: number }
  | { kind: 'done'; stopped: boolean }
  | { kind: 'error'; message: string };

function readOptions(search: string): { options: BenchOptions | null; error: string | null } {
  try {
    return { options: benchOptionsFromSearch(search), error: null };
  } catch (e) {
    const message = e instanceof BenchOptionError ? e.message : String(e);
    return { options: null, error: `This benchmark URL is not valid: ${message}. Nothing was run.` };
  }
}

function isCase(line: BenchLine): line is BenchCaseLine {
  return 'msPerStepMedian' in line;
}

export function BenchPage({ search }: { search: string }) {
  const { options, error } = useMemo(() => readOptions(search), [search]);
  const [status, setStatus] = useState<Status>(error ? { kind: 'error', message: error } : { kind: 'starting' });
  const [lines, setLines] = useState<BenchLine[]>([]);
  const [now, setNow] = useState(() => performance.now());
  const runRef = useRef<BenchRun | null>(null);

  useEffect(() => {
    if (!options) return undefined;
    const onEvent = (event: BenchEvent): void => {
      switch (event.type) {
        case 'started':
          console.log(`BENCH_STARTED ${JSON.stringify(event)}`);
          setStatus({ kind: 'running', backend: event.backend, adapter: event.adapter, cases: event.cases, startedAt: performance.now() });
          break;
        case 'line':
          console.log(`BENCH_LINE ${JSON.stringify(event.line)}`);
          setLines((previous) => [...previous, event.line]);
          break;
        case 'done':
          console.log(`BENCH_DONE ${JSON.stringify(event)}`);
          setStatus({ kind: 'done', stopped: event.stopped });
          break;
        case 'error':
          console.log(`BENCH_ERROR ${event.message}`);
          setStatus({ kind: 'error', message: event.message });
          break;
      }
    };
    const run = startBench(benchSearch(options), onEvent);
    runRef.current = run;
    return () => run.terminate();
  }, [options]);

  useEffect(() => {
    if (status.kind !== 'running') return undefined;
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, [status.kind]);

  const cases = lines.filter(isCase);
  const ratios = lines.filter((l) => 'ratio' in l);
  const checks = lines.filter((l) => 'maxRelDiff' in l);
  const running = status.kind === 'running' ? status : null;
  // ETA: the mean time of the finished cases times the cases left (cases differ; it is a rough guide).
  const elapsedS = running ? (now - running.startedAt) / 1000 : 0;
  const etaS = running && cases.length > 0 ? (elapsedS / cases.length) * (running.cases - cases.length) : null;

  return (
    <div className="app bench">
      <header className="app-header">
        <div>
          <h1>ResCL Lab — training-step benchmark</h1>
          <p className="subtitle">
            Times training steps of the lab&apos;s own stage loops on synthetic batches in a worker on this
            browser&apos;s backend: the same code as <code>npm run bench</code>. <a href="./">Back to the lab</a>
          </p>
        </div>
      </header>
      <section className="card">
        <BenchForm initial={options} />
        {status.kind === 'error' && <p className="notice" role="alert" data-testid="bench.error">{status.message}</p>}
        <p data-testid="bench.status" role="status">
          {status.kind === 'starting' && 'Starting the backend…'}
          {running && `Running on ${running.backend}${running.adapter ? ` (${running.adapter})` : ''}: case ${Math.min(cases.length + 1, running.cases)} of ${running.cases}, ${elapsedS.toFixed(0)} s${etaS !== null ? `, about ${etaS.toFixed(0)} s left` : ''}.`}
          {status.kind === 'done' && (status.stopped ? `Stopped after ${cases.length} case(s).` : `Done: ${cases.length} case(s).`)}
          {' '}
          {running && <button type="button" data-testid="bench.stop" onClick={() => runRef.current?.stop()}>Stop after this case</button>}
        </p>
        {cases.length > 0 && <StepChart cases={cases} />}
        {cases.length > 0 && (
          <table className="bench-table" data-testid="bench.table">
            <thead>
              <tr><th>case</th><th>backend</th><th>kernels</th><th>ms/step (median)</th><th>min</th><th>samples/s</th><th>tfjs kernels/step</th><th>GPU dispatches/step</th><th>GPU submits/step</th></tr>
            </thead>
            <tbody>
              {cases.map((c) => (
                <tr key={c.name}>
                  <td>{c.name}</td><td>{c.backend}</td><td>{c.kernels}</td><td>{c.msPerStepMedian}</td><td>{c.msPerStepMin}</td>
                  <td>{c.samplesPerSec}</td><td>{c.kernelsPerStep}</td><td>{c.gpuDispatchesPerStep ?? '–'}</td><td>{c.deviceSubmissionsPerStep ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {ratios.map((r) => 'ratio' in r && (
          <p key={r.name}>{r.name}: {r.ratio} (target ≤ {r.target})</p>
        ))}
        {checks.map((c) => 'maxRelDiff' in c && (
          <p key={c.name} data-testid="bench.check">
            {c.name}: training losses with tfjs&apos;s kernels and the lab&apos;s differ by at most {c.maxRelDiff ?? '∞'} (relative){' '}
            — {c.ok ? 'same within 1e-3' : 'NOT the same within 1e-3'}
          </p>
        ))}
        <h3>JSON lines</h3>
        <pre data-testid="bench.output">{lines.map((l) => JSON.stringify(l)).join('\n')}</pre>
      </section>
    </div>
  );
}

/** Edits the options and reloads the page with them (a run always starts from its URL). */
function BenchForm({ initial }: { initial: BenchOptions | null }) {
  const start = initial ?? benchOptionsFromSearch('');
  const [draft, setDraft] = useState<BenchOptions>(start);
  const toggle = <T extends string>(list: T[], item: T): T[] => (list.includes(item) ? list.filter((x) => x !== item) : [...list, item]);
  const number = (value: string, fallback: number): number => (Number.isFinite(Number(value)) && value !== '' ? Number(value) : fallback);
  return (
    <form
      className="bench-form"
      onSubmit={(e) => {
        e.preventDefault();
        window.location.search = benchSearch(draft);
      }}
    >
      <label>backend{' '}
        <select value={draft.backend} onChange={(e) => setDraft({ ...draft, backend: e.target.value as BenchOptions['backend'] })}>
          {BENCH_BACKENDS.map((b) => <option key={b} value={b}>{b}</option>)}
        </select>
      </label>
      <fieldset><legend>networks</legend>
        {NET_KINDS.map((n) => (
          <label key={n}><input type="checkbox" checked={draft.nets.includes(n)} onChange={() => setDraft({ ...draft, nets: toggle(draft.nets, n) })} /> {n}</label>
        ))}
      </fieldset>
      <fieldset><legend>stages</legend>
        {BENCH_STAGES.map((s) => (
          <label key={s}><input type="checkbox" checked={draft.stages.includes(s)} onChange={() => setDraft({ ...draft, stages: toggle(draft.stages, s) })} /> {s}</label>
        ))}
      </fieldset>
      <label>batch <input type="number" min={1} max={4096} value={draft.batch} onChange={(e) => setDraft({ ...draft, batch: number(e.target.value, draft.batch) })} /></label>
      <label>steps <input type="number" min={1} max={1000} value={draft.steps} onChange={(e) => setDraft({ ...draft, steps: number(e.target.value, draft.steps) })} /></label>
      <label>warm-up <input type="number" min={0} max={100} value={draft.warmup} onChange={(e) => setDraft({ ...draft, warmup: number(e.target.value, draft.warmup) })} /></label>
      <label><input type="checkbox" checked={draft.stock} onChange={() => setDraft({ ...draft, stock: !draft.stock })} /> tfjs&apos;s own kernels (--stock)</label>
      <label><input type="checkbox" checked={draft.check} onChange={() => setDraft({ ...draft, check: !draft.check })} /> compare losses with tfjs&apos;s kernels (--check)</label>
      <button type="submit" disabled={draft.nets.length === 0 || draft.stages.length === 0}>Run with these settings</button>
    </form>
  );
}
