import { useState } from 'react';
import type { BackendPreference } from '../engine/protocol';
import { BACKEND_PREFERENCES, METHOD_KNOBS, METHOD_LABELS, METHOD_NAMES, NET_KINDS, SCENARIOS, getScenarioInfo, type MethodName, type NetKind } from '../store/catalog';
import { useLabStore } from '../store/labStore';
import { EPOCH_RANGE, SEED_RANGE, TRAIN_LIMIT_RANGE, parseSeedList, type BundledScenarioId } from '../store/urlConfig';
import { ComparisonSettingsPanel } from './ComparisonSettings';
import { CustomFiles } from './CustomFiles';
import { Help } from './Help';
import { SampleGrid } from './SampleGrid';

const NET_HELP: Record<NetKind, string> = {
  mlp: 'MLP 784-400-400 with ReLU; fastest. Each dense layer gets its own α_s, α_t per unit.',
  conv4: 'Conv-4: 3×3 convs with 32, 32, 64, 64 channels (BN, ReLU, two max-pools), then dense 256; α per output channel.',
  resnet8: 'ResNet-8: a stem conv and three pre-activation residual blocks (16, 32, 64 channels); the BN before each block is combined too. Slowest.',
};

const METHOD_HELP: Record<MethodName, string> = {
  rescl: 'ResCL: combines source and fine-tuned nets layer by layer with α, trained by distillation + λ·L1(α); folds back to the original size.',
  lwf: 'LwF: fine-tunes with distillation on the old heads (knob λ_o). No source data.',
  ewc: 'EWC: Fisher-weighted pull to the old weights (knob λ_ewc). Needs source data at the end of the source task to compute the Fisher.',
  ft: 'Fine-tuning: the new task alone; the source accuracy collapses (lower bound).',
  fe: 'Feature extraction: frozen trunk, new head only; keeps the source exactly.',
  joint: 'Joint: trains on every task’s data at once, warm-started from the source with ResCL’s budget; a reference that should bound the others (the report says when it does not), not continual learning.',
};

/** One plain line per backend choice (the selected one is shown under the selector). */
const BACKEND_HELP: Record<BackendPreference, string> = {
  auto: 'auto: the first that works of WebGPU, WebGL, wasm, cpu; a GPU emulated on the CPU (SwiftShader) is skipped for wasm, which is faster there.',
  webgpu: 'webgpu: the GPU through WebGPU; the fastest.',
  webgl: 'webgl: the GPU through WebGL.',
  wasm: 'wasm: WebAssembly on the CPU; used when there is no GPU.',
  cpu: 'cpu: plain JavaScript on the CPU; the slowest (use the mlp).',
};

/** The seed list as typed (kept while it is being typed); what cannot be used is said under it. */
function SeedsField({ seeds, onChange }: { seeds: number[]; onChange: (seeds: number[]) => void }) {
  const [text, setText] = useState(seeds.join(','));
  const [problems, setProblems] = useState<string[]>([]);
  const [shown, setShown] = useState(seeds);
  if (shown !== seeds) {
    // a change from elsewhere (resume): show it, unless it is what the text already says
    setShown(seeds);
    if (parseSeedList(text).seeds.join(',') !== seeds.join(',')) setText(seeds.join(','));
  }
  return (
    <label className="field">
      <span>Seeds</span>
      <input type="text" inputMode="numeric" value={text} placeholder="one run" aria-describedby="help-budget seeds-problems" data-testid="setup.seeds"
        onChange={(e) => {
          setText(e.target.value);
          const parsed = parseSeedList(e.target.value);
          setProblems(parsed.problems);
          onChange(parsed.seeds);
        }} />
      {problems.length > 0 && <small id="seeds-problems" className="field-problem" role="alert">Left out: {problems.join('; ')}.</small>}
    </label>
  );
}

/** Everything that defines a run: tasks, network, methods, budget, seed, comparison settings, backend. */
export function SetupPanel() {
  const setup = useLabStore((s) => s.setup);
  const dataSource = useLabStore((s) => s.dataSource);
  const scenario = useLabStore((s) => s.scenario);
  const runState = useLabStore((s) => s.runState);
  const loadedKey = useLabStore((s) => s.loadedKey);
  const { setSetup, setDataSource, changeBackend, loadScenario } = useLabStore.getState();
  const locked = runState === 'running' || runState === 'paused';
  const info = getScenarioInfo(dataSource === 'custom' ? 'custom' : setup.scenario);

  const change = (patch: Parameters<typeof setSetup>[0]) => {
    setSetup(patch);
    if ('scenario' in patch || 'seed' in patch || 'trainLimit' in patch) void loadScenario();
  };

  const toggleMethod = (m: MethodName, on: boolean) => {
    const methods = METHOD_NAMES.filter((x) => (x === m ? on : setup.methods.includes(x)) || x === 'rescl');
    setSetup({ methods });
  };

  return (
    <section className="card setup" aria-labelledby="setup-title">
      <h2 id="setup-title">Set up a run</h2>
      <fieldset disabled={locked} className="plain">
        <label className="field">
          <span>Scenario</span>
          <select
            value={dataSource === 'custom' ? 'custom' : setup.scenario}
            onChange={(e) => {
              if (e.target.value === 'custom') setDataSource('custom');
              else {
                setDataSource('bundled');
                change({ scenario: e.target.value as BundledScenarioId });
              }
            }}
            aria-describedby="help-scenario"
            data-testid="setup.scenario"
          >
            {SCENARIOS.map((s) => <option key={s.id} value={s.id}>{s.displayName}</option>)}
          </select>
        </label>
        <Help id="help-scenario">
          {info?.description} Tasks arrive one after the other; when a task is learned, no data of earlier tasks is used (except by EWC's Fisher and joint training).
        </Help>
        {dataSource === 'custom' && <CustomFiles />}

        {scenario && (dataSource === 'custom' ? loadedKey === 'custom' : true) && (
          <div className="sample-row" data-testid="scenario.samples">
            {scenario.tasks.map((t, i) => (
              <SampleGrid key={t.id} images={t.sampleImages} labels={t.sampleLabels} classNames={t.classNames}
                title={`Task ${i + 1}: ${t.name} · ${t.trainCount} train / ${t.testCount} test`} />
            ))}
          </div>
        )}

        <label className="field">
          <span>Network</span>
          <select value={setup.net} onChange={(e) => setSetup({ net: e.target.value as NetKind })} aria-describedby="help-net" data-testid="setup.net">
            {NET_KINDS.map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        <Help id="help-net">{NET_HELP[setup.net]} The deployed (folded) ResCL network has exactly this size plus one head per task.</Help>

        <fieldset className="methods">
          <legend>Methods to compare</legend>
          {METHOD_NAMES.map((m) => (
            <label key={m} className="check" title={METHOD_HELP[m]}>
              <input type="checkbox" checked={setup.methods.includes(m)} disabled={m === 'rescl'} onChange={(e) => toggleMethod(m, e.target.checked)} />
              {METHOD_LABELS[m]}
              {METHOD_KNOBS[m] && <span className="muted"> ({METHOD_KNOBS[m]?.knob} sweep: {METHOD_KNOBS[m]?.defaults.length})</span>}
            </label>
          ))}
        </fieldset>
        <Help id="help-methods">
          Every method with a knob is swept over a grid; each value gives one point of the trade-off plane. The paper compares methods by their fronts, not by one setting.
        </Help>

        <div className="field-row">
          <label className="field">
            <span>Epochs</span>
            <input type="number" min={EPOCH_RANGE[0]} max={EPOCH_RANGE[1]} value={setup.epochs} aria-describedby="help-budget"
              onChange={(e) => { const v = Math.round(Number(e.target.value)); if (v >= EPOCH_RANGE[0] && v <= EPOCH_RANGE[1]) setSetup({ epochs: v }); }} />
          </label>
          <label className="field">
            <span>Train images / task</span>
            <input type="number" min={TRAIN_LIMIT_RANGE[0]} max={TRAIN_LIMIT_RANGE[1]} step={100} value={setup.trainLimit ?? ''} placeholder="all" aria-describedby="help-budget"
              onChange={(e) => {
                if (e.target.value === '') return change({ trainLimit: null });
                const v = Math.round(Number(e.target.value));
                if (v >= TRAIN_LIMIT_RANGE[0] && v <= TRAIN_LIMIT_RANGE[1]) change({ trainLimit: v });
              }} />
          </label>
          <label className="field">
            <span>Seed</span>
            <input type="number" min={SEED_RANGE[0]} max={SEED_RANGE[1]} value={setup.seed} aria-describedby="help-budget"
              onChange={(e) => { const v = Math.round(Number(e.target.value)); if (v >= SEED_RANGE[0] && v <= SEED_RANGE[1]) change({ seed: v }); }} />
          </label>
          <SeedsField seeds={setup.seeds} onChange={(seeds) => setSetup({ seeds })} />
        </div>
        <Help id="help-budget">
          Epochs per stage (source, fine-tune, combine, each baseline); a stratified subset of the training images per task (empty = all); the seed fixes subsets, initialisation and batch order, so a link reproduces a run.
          Seeds (e.g. 1,2,3): the whole plan runs once per seed (initialisation and batch order; the data subset stays the seed's above), and results show mean ± standard deviation over them; empty = one run.
        </Help>

        <ComparisonSettingsPanel />

        <label className="field">
          <span>Backend</span>
          <select value={setup.backend} onChange={(e) => changeBackend(e.target.value as BackendPreference)} aria-describedby="help-backend" data-testid="setup.backend">
            {BACKEND_PREFERENCES.map((b) => <option key={b} value={b} title={BACKEND_HELP[b]}>{b}</option>)}
          </select>
        </label>
        <Help id="help-backend">
          Where the worker trains. {BACKEND_HELP[setup.backend]} Changing it restarts the engine; saved results come back.
        </Help>
      </fieldset>
    </section>
  );
}
