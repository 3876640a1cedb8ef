/**
 * Names that cross postMessage and the URL (docs/ARCHITECTURE.md, "Layers"): settings hold names, the core
 * maps them to code. This module imports nothing, so the UI side may import it.
 */

/** Network architectures (see nets.ts). */
export const NET_KINDS = ['mlp', 'conv4', 'resnet8'] as const;
export type NetKind = (typeof NET_KINDS)[number];

/** Continual-learning methods: ResCL and the baselines (see experiment.ts). */
export const METHOD_NAMES = ['rescl', 'lwf', 'ewc', 'ft', 'fe', 'joint'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** Training stages a method spends on each new task (see train.ts `StageName`). */
export type MethodStageName = 'finetune' | 'combine' | 'fe' | 'lwf' | 'ewc' | 'joint';

/**
 * The descriptive half of the method registry (the runnable half is `METHODS` in methods.ts, which
 * imports tfjs): one entry per method. `stages` are the stages it runs per new task, in order
 * (joint runs once over all tasks); `colorKey` names its colour in the UI palette.
 */
export interface MethodInfo {
  label: string;
  /** the trade-off knob and its default sweep; null for methods without one */
  knob: { knob: string; defaults: number[] } | null;
  stages: readonly MethodStageName[];
  colorKey: MethodName;
  /** one line for tooltips and reports */
  help: string;
  /** true for a baseline whose per-task budget `budget: 'equal'` raises to ResCL's (fine-tune + combine) */
  equalBudget: boolean;
}

export const METHOD_INFO: Record<MethodName, MethodInfo> = {
  rescl: {
    label: 'ResCL', knob: { knob: 'λ', defaults: [0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1] }, stages: ['finetune', 'combine'], colorKey: 'rescl',
    help: 'Fine-tune a copy, then learn per-channel α that combine source and target nets under an L1 decay λ; folds into one net.', equalBudget: false,
  },
  lwf: {
    label: 'LwF', knob: { knob: 'λ_o', defaults: [0.1, 0.3, 1, 3, 10] }, stages: ['lwf'], colorKey: 'lwf',
    help: 'Learning without Forgetting: fine-tune while distilling the old heads’ outputs (weight λ_o).', equalBudget: true,
  },
  ewc: {
    label: 'EWC', knob: { knob: 'λ_ewc', defaults: [1, 10, 100, 1000, 10000] }, stages: ['ewc'], colorKey: 'ewc',
    help: 'Elastic Weight Consolidation: fine-tune with a diagonal-Fisher quadratic pull to the old weights (weight λ_ewc).', equalBudget: true,
  },
  ft: {
    label: 'Fine-tuning', knob: null, stages: ['finetune'], colorKey: 'ft',
    help: 'Train the whole net on the new task with a new head; no protection of old tasks.', equalBudget: true,
  },
  fe: {
    label: 'Feature extraction', knob: null, stages: ['fe'], colorKey: 'fe',
    help: 'Freeze the trunk; train only the new head. Old tasks are untouched.', equalBudget: true,
  },
  joint: {
    label: 'Joint (all tasks at once, not continual)', knob: null, stages: ['joint'], colorKey: 'joint',
    help: 'Trains on every task’s data at once, warm-started from the source with ResCL’s budget; a reference that should bound the others, not a continual method.', equalBudget: false,
  },
};

/** Each method's trade-off knob (null for methods without one) and its default sweep. */
export const METHOD_KNOBS: Record<MethodName, { knob: string; defaults: number[] } | null> = mapInfo((i) => i.knob);

/** Display names of the methods. */
export const METHOD_LABELS: Record<MethodName, string> = mapInfo((i) => i.label);

function mapInfo<T>(f: (info: MethodInfo) => T): Record<MethodName, T> {
  return Object.fromEntries(METHOD_NAMES.map((m) => [m, f(METHOD_INFO[m])])) as Record<MethodName, T>;
}

/** How many target-task steps the baselines get: 'equal' (ResCL's fine-tune + combine) or 'stage' (one stage). */
export const BUDGETS = ['equal', 'stage'] as const;
export type Budget = (typeof BUDGETS)[number];

export function isNetKind(x: unknown): x is NetKind {
  return typeof x === 'string' && (NET_KINDS as readonly string[]).includes(x);
}

export function isMethodName(x: unknown): x is MethodName {
  return typeof x === 'string' && (METHOD_NAMES as readonly string[]).includes(x);
}

/**
 * The comparison settings that are a choice among names: `ExperimentOptions` fields (experiment.ts)
 * that `npm run repro` sets with a flag and the lab with a select and a URL parameter. Each list's
 * first name is the default (DEFAULT_EXPERIMENT_OPTIONS; comparisonSettings.test.ts keeps them equal),
 * and the engine's typecheck keeps each list within its `ExperimentOptions` type.
 * - budget (`--budget`): target-task steps of the baselines (see `Budget`)
 * - jointInit (`--joint-init`): joint training warm-started from the source or from scratch
 * - init (`--init`): weight initialisation, init.ts `InitScheme`
 * - fisher (`--fisher`): EWC's true or empirical Fisher, train.ts `FisherKind`
 * - baselineBatchNorm (`--baseline-bn`): BN statistics of FT, LwF, EWC, train.ts `BaselineBatchNorm`
 * - combineDecay (`--combine-decay`): what ResCL's combine stage decays, train.ts `CombineDecay`
 */
export const COMPARISON_CHOICES = {
  budget: BUDGETS,
  jointInit: ['source', 'scratch'],
  init: ['he', 'torch-default'],
  fisher: ['true', 'empirical'],
  baselineBatchNorm: ['batch', 'frozen-source'],
  combineDecay: ['kernels', 'all'],
} as const;
export type ComparisonSetting = keyof typeof COMPARISON_CHOICES;
export type ComparisonSettings = { [K in ComparisonSetting]: (typeof COMPARISON_CHOICES)[K][number] };
export const COMPARISON_SETTING_NAMES = Object.keys(COMPARISON_CHOICES) as ComparisonSetting[];

/** Each comparison setting's default: the first of its choices. */
export const DEFAULT_COMPARISON = Object.fromEntries(
  COMPARISON_SETTING_NAMES.map((k) => [k, COMPARISON_CHOICES[k][0]]),
) as ComparisonSettings;

export function isComparisonChoice<K extends ComparisonSetting>(setting: K, x: unknown): x is ComparisonSettings[K] {
  return typeof x === 'string' && (COMPARISON_CHOICES[setting] as readonly string[]).includes(x);
}

/** Just the comparison settings of `from` (a setup, a run's config), each absent one at its default (a config saved before it existed). */
export function comparisonOf(from: Partial<ComparisonSettings>): ComparisonSettings {
  return Object.fromEntries(COMPARISON_SETTING_NAMES.map((k) => [k, from[k] ?? DEFAULT_COMPARISON[k]])) as ComparisonSettings;
}

/** The comparison settings that differ from their defaults (what a session key or a short link needs). */
export function nonDefaultComparison(settings: Partial<ComparisonSettings>): Partial<ComparisonSettings> {
  return Object.fromEntries(COMPARISON_SETTING_NAMES
    .filter((k) => settings[k] !== undefined && settings[k] !== DEFAULT_COMPARISON[k])
    .map((k) => [k, settings[k]])) as Partial<ComparisonSettings>;
}
