/**
 * Names that cross postMessage and the URL (ARCHITECTURE.md rule 2): settings hold names, the core
 * maps them to code. This module imports nothing, so the UI side may import it.
 */

/** Network architectures (see nets.ts). */
export const NET_KINDS = ['mlp', 'conv4', 'resnet8'] as const;
export type NetKind = (typeof NET_KINDS)[number];

/** Continual-learning methods: ResCL and the baselines (see experiment.ts). */
export const METHOD_NAMES = ['rescl', 'lwf', 'ewc', 'ft', 'fe', 'joint'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

/** Each method's trade-off knob (null for methods without one) and its default sweep. */
export const METHOD_KNOBS: Record<MethodName, { knob: string; defaults: number[] } | null> = {
  rescl: { knob: 'λ', defaults: [0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1] },
  lwf: { knob: 'λ_o', defaults: [0.1, 0.3, 1, 3, 10] },
  ewc: { knob: 'λ_ewc', defaults: [1, 10, 100, 1000, 10000] },
  ft: null,
  fe: null,
  joint: null,
};

/** Display names of the methods. */
export const METHOD_LABELS: Record<MethodName, string> = {
  rescl: 'ResCL',
  lwf: 'LwF',
  ewc: 'EWC',
  ft: 'Fine-tuning',
  fe: 'Feature extraction',
  joint: 'Joint (oracle, not continual)',
};

export function isNetKind(x: unknown): x is NetKind {
  return typeof x === 'string' && (NET_KINDS as readonly string[]).includes(x);
}

export function isMethodName(x: unknown): x is MethodName {
  return typeof x === 'string' && (METHOD_NAMES as readonly string[]).includes(x);
}
