/**
 * What data the lab knows by name: the bundled datasets (produced by scripts/prepare-data.mjs into
 * public/data/) and the scenarios (task sequences) that src/data/tasks.ts builds from them.
 * Names cross postMessage and the URL; the functions live in tasks.ts (docs/ARCHITECTURE.md).
 */

/** Version of the public/data layout this code reads; equals FORMAT_VERSION in scripts/prepare-data.mjs. */
export const DATA_FORMAT_VERSION = 1;
/** Name of the index file under the data root. */
export const DATA_INDEX_FILE = 'index.json';

/** Names of the bundled datasets. */
export type BundledDatasetName = 'mnist' | 'fashion';
/** Names of the splits. */
export type SplitName = 'train' | 'test';

/** A bundled dataset's static description. */
export interface BundledDatasetInfo {
  name: BundledDatasetName;
  displayName: string;
  classNames: readonly string[];
  /** File names relative to the data root, per split. */
  files: Record<SplitName, { images: string; labels: string }>;
}

/** File name of one split's images or labels: `<dataset>-<split>-<kind>.u8`. */
export function dataFileName(dataset: BundledDatasetName, split: SplitName, kind: 'images' | 'labels'): string {
  return `${dataset}-${split}-${kind}.u8`;
}

const filesOf = (d: BundledDatasetName): BundledDatasetInfo['files'] => ({
  train: { images: dataFileName(d, 'train', 'images'), labels: dataFileName(d, 'train', 'labels') },
  test: { images: dataFileName(d, 'test', 'images'), labels: dataFileName(d, 'test', 'labels') },
});

/** The bundled datasets by name. */
export const BUNDLED_DATASETS: Readonly<Record<BundledDatasetName, BundledDatasetInfo>> = {
  mnist: {
    name: 'mnist',
    displayName: 'MNIST',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    files: filesOf('mnist'),
  },
  fashion: {
    name: 'fashion',
    displayName: 'Fashion-MNIST',
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    files: filesOf('fashion'),
  },
};

/** All bundled dataset names, in display order. */
export const BUNDLED_DATASET_NAMES: readonly BundledDatasetName[] = ['mnist', 'fashion'];

/** True when `name` is a bundled dataset name. */
export function isBundledDatasetName(name: unknown): name is BundledDatasetName {
  return name === 'mnist' || name === 'fashion';
}

/** Ids of the scenarios. */
export type ScenarioId =
  | 'mnist-fashion'
  | 'split-mnist'
  | 'permuted-mnist'
  | 'rotated-mnist'
  | 'mnist-fashion-rotated'
  | 'custom';

/** A scenario's static description (UI help text and what it needs loaded). */
export interface ScenarioInfo {
  id: ScenarioId;
  displayName: string;
  /** One line, shown as help text in the UI. */
  description: string;
  /** Number of tasks, or null when the user decides (custom). */
  numTasks: number | null;
  /** Bundled datasets to load before building it. */
  datasets: readonly BundledDatasetName[];
}

/** The scenarios, in display order. */
export const SCENARIOS: readonly ScenarioInfo[] = [
  {
    id: 'mnist-fashion',
    displayName: 'MNIST → Fashion-MNIST',
    description: 'Learn handwritten digits, then clothing items; both have 10 classes and 28x28 grayscale images.',
    numTasks: 2,
    datasets: ['mnist', 'fashion'],
  },
  {
    id: 'split-mnist',
    displayName: 'Split MNIST (0–4 → 5–9)',
    description: 'Learn digits 0–4, then digits 5–9; each task has its own 5-way output (labels re-indexed to 0–4).',
    numTasks: 2,
    datasets: ['mnist'],
  },
  {
    id: 'permuted-mnist',
    displayName: 'Permuted MNIST',
    description: 'Learn MNIST, then MNIST with one fixed random shuffle of the 784 pixel positions (seeded).',
    numTasks: 2,
    datasets: ['mnist'],
  },
  {
    id: 'rotated-mnist',
    displayName: 'Rotated MNIST (90°)',
    description: 'Learn MNIST, then the same digits rotated 90° clockwise.',
    numTasks: 2,
    datasets: ['mnist'],
  },
  {
    id: 'mnist-fashion-rotated',
    displayName: 'MNIST → Fashion-MNIST → Rotated MNIST',
    description: 'Three tasks: digits, clothing items, then digits rotated 90° clockwise.',
    numTasks: 3,
    datasets: ['mnist', 'fashion'],
  },
  {
    id: 'custom',
    displayName: 'Custom (your IDX files)',
    description: 'Tasks from IDX image/label file pairs you provide (28x28 grayscale, uint8), e.g. KMNIST or EMNIST.',
    numTasks: null,
    datasets: [],
  },
];

/** All scenario ids, in display order. */
export const SCENARIO_IDS: readonly ScenarioId[] = SCENARIOS.map((s) => s.id);

/** True when `id` names a scenario. */
export function isScenarioId(id: unknown): id is ScenarioId {
  return typeof id === 'string' && (SCENARIO_IDS as readonly string[]).includes(id);
}

/** The description of scenario `id`, or undefined when there is none. */
export function getScenarioInfo(id: string): ScenarioInfo | undefined {
  return SCENARIOS.find((s) => s.id === id);
}
