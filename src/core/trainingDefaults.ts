/**
 * The training defaults, one object for every caller: the lab (store defaults and the URL,
 * src/store/urlConfig.ts), the engine's settings before a `configure` (engine/protocol.ts),
 * `npm run repro`'s flags (scripts/repro.ts) and the settings docs/RESULTS.md states.
 *
 * Two sizes of the same recipe:
 * - the **study** settings (the top-level fields): what repro defaults to and RESULTS.md's runs use:
 *   10,000 training images per task, 3 epochs per stage, batch 128;
 * - the **live** settings (`live`): the lab in the browser starts with a smaller run that finishes
 *   in about a minute on a laptop GPU: 2,000 images per task, 2 epochs, batch 64. The smaller batch
 *   keeps the number of Adam steps up on the small subset (2,000 images × 2 epochs at batch 64 is 64
 *   steps a stage; at 128 it would be 32) and updates the live curves twice as often.
 * Everything else (optimiser, decay, warm-up, seed) is shared. The page's URL can set `batch`,
 * `epochs`, `trainLimit` and `seed`; repro has a flag for each.
 */
export const TRAINING_DEFAULTS = {
  /** epochs per stage (source, fine-tune, combine; each baseline's budget derives from it) */
  epochs: 3,
  batchSize: 128,
  /** stratified training images per task */
  trainLimit: 10_000,
  /** Adam learning rate of the weights */
  learningRate: 1e-3,
  /** ResCL: Adam learning rate of the α coefficients (lab choice: 10x the weights') */
  alphaLearningRate: 1e-2,
  /** λ_dec of the weight-decay term (λ_dec/2)‖θ‖² on kernels */
  weightDecay: 1e-4,
  /** steps that train only a new head before fine-tuning, LwF and EWC train the whole network */
  headWarmupSteps: 20,
  /** EWC: examples the diagonal Fisher is computed from */
  fisherSamples: 1000,
  seed: 1,
  /** the lab's first run in the browser (see above) */
  live: {
    epochs: 2,
    batchSize: 64,
    trainLimit: 2000,
  },
} as const;

/** The training settings the lab's page does not expose (every RunConfig it sends carries these). */
export const FIXED_TRAINING = {
  learningRate: TRAINING_DEFAULTS.learningRate,
  alphaLearningRate: TRAINING_DEFAULTS.alphaLearningRate,
  weightDecay: TRAINING_DEFAULTS.weightDecay,
  headWarmupSteps: TRAINING_DEFAULTS.headWarmupSteps,
} as const;
