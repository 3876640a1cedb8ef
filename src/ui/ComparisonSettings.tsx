import { COMPARISON_CHOICES, COMPARISON_SETTING_NAMES, type ComparisonSetting, type ComparisonSettings } from '../store/catalog';
import { useLabStore } from '../store/labStore';
import { Help } from './Help';

/** Each comparison setting's label and, per choice, one plain line of what it does (docs/METHOD.md). */
const COMPARISON_HELP: { [K in ComparisonSetting]: { label: string; choices: Record<ComparisonSettings[K], string> } } = {
  budget: {
    label: 'Baseline budget',
    choices: {
      equal: 'equal: FT, FE, LwF and EWC get as many steps per new task as ResCL’s fine-tune + combine.',
      stage: 'stage: the baselines get one stage’s steps per new task, half of ResCL’s.',
    },
  },
  jointInit: {
    label: 'Joint starts from',
    choices: {
      source: 'source: joint training warm-starts from the source network with ResCL’s remaining budget.',
      scratch: 'scratch: joint training starts from random weights for one stage (it may not bound the others).',
    },
  },
  init: {
    label: 'Initialisation',
    choices: {
      he: 'he: He-normal trunk, Glorot heads, zero biases.',
      'torch-default': 'torch-default: PyTorch’s nn.Linear / nn.Conv2d default; it changes how much fine-tuning forgets.',
    },
  },
  fisher: {
    label: 'EWC Fisher',
    choices: {
      true: 'true: EWC’s Fisher is the expectation under the model’s own predictions.',
      empirical: 'empirical: EWC’s Fisher is taken at the data’s labels.',
    },
  },
  baselineBatchNorm: {
    label: 'Baseline BN statistics',
    choices: {
      batch: 'batch: FT, LwF and EWC train with batch statistics, so the source’s BN statistics drift to the new task’s.',
      'frozen-source': 'frozen-source: FT, LwF and EWC keep the source’s BN statistics (γ, β still train), as ResCL keeps BN_s.',
    },
  },
  combineDecay: {
    label: 'Combine-stage decay',
    choices: {
      kernels: 'kernels: ResCL’s combine stage decays θ_t’s kernels only, as every other stage does.',
      all: 'all: it also decays BN γ_t, β_t and the biases, so they cannot grow to dodge α_t’s L1.',
    },
  },
};

/** The settings a comparison study varies (`npm run repro` flags): one select each, its choice explained under it. */
export function ComparisonSettingsPanel() {
  const setup = useLabStore((s) => s.setup);
  const { setSetup } = useLabStore.getState();
  return (
    <fieldset className="comparison">
      <legend>Comparison settings</legend>
      {COMPARISON_SETTING_NAMES.map((setting) => {
        const help = COMPARISON_HELP[setting] as { label: string; choices: Record<string, string> };
        return (
          <div key={setting}>
            <label className="field">
              <span>{help.label}</span>
              <select value={setup[setting]} onChange={(e) => setSetup({ [setting]: e.target.value } as Partial<ComparisonSettings>)}
                aria-describedby={`help-${setting}`} data-testid={`setup.${setting}`}>
                {COMPARISON_CHOICES[setting].map((c) => <option key={c} value={c} title={help.choices[c]}>{c}</option>)}
              </select>
            </label>
            <Help id={`help-${setting}`}>{help.choices[setup[setting]]}</Help>
          </div>
        );
      })}
      <p className="help comparison-note">Defaults are the lab’s and docs/RESULTS.md’s; each one is a flag of <code>npm run repro</code>, and a changed one is part of the link.</p>
    </fieldset>
  );
}
