/**
 * The dataset cache and task building: each bundled dataset is fetched, checked and parsed once per
 * engine (scenarios that share a dataset reuse it); scenarios and custom IDX uploads become tasks.
 * Errors are thrown with the message the user sees (the engine posts them as `bad-file`).
 */
import type { Dataset } from '../core/types';
import { loadBundledDataset, type FetchBytes } from '../data/load';
import { parseIdxPair } from '../data/parse/idx';
import { getScenarioInfo, type BundledDatasetName } from '../data/registry';
import { buildCustomScenario, buildScenario, type CustomTaskInput, type ScenarioSource } from '../data/tasks';
import { IMAGE_PIXELS, type DatasetSplits, type Task } from '../data/types';
import { errorMessage } from './errors';
import type { CustomTaskFiles } from './protocol';
import type { ScenarioSpec } from './sessions';

/** A scenario id the registry does not know (the engine answers `bad-field`, not `bad-file`). */
export class UnknownScenario extends Error {}

export class DatasetCache {
  private readonly datasets = new Map<BundledDatasetName, DatasetSplits>();

  constructor(private readonly fetchBytes: FetchBytes) {}

  /** The bundled dataset, fetched on first use. */
  async get(name: BundledDatasetName): Promise<DatasetSplits> {
    let d = this.datasets.get(name);
    if (!d) {
      d = await loadBundledDataset(name, this.fetchBytes);
      this.datasets.set(name, d);
    }
    return d;
  }

  /** The tasks of a bundled scenario. Throws with a user-facing message. */
  async scenarioTasks(spec: ScenarioSpec): Promise<Task[]> {
    const info = getScenarioInfo(spec.scenario);
    if (!info) throw new UnknownScenario(`unknown scenario ${spec.scenario}`);
    try {
      const source: ScenarioSource = {};
      for (const name of info.datasets) source[name] = await this.get(name);
      return buildScenario(spec.scenario, source, { seed: spec.seed, trainLimit: spec.trainLimit ?? undefined, testLimit: spec.testLimit ?? undefined });
    } catch (e) {
      throw new Error(`cannot load scenario ${spec.scenario}: ${errorMessage(e)}`);
    }
  }
}

/** The tasks of uploaded IDX files. Throws with a user-facing message. */
export function customTasks(files: CustomTaskFiles[], seed: number, trainLimit: number | null): Task[] {
  const inputs: CustomTaskInput[] = files.map((f) => ({
    name: f.name,
    train: parseIdxPair(f.trainImages, f.trainLabels, { imagesName: `${f.name} train images`, labelsName: `${f.name} train labels` }),
    test: parseIdxPair(f.testImages, f.testLabels, { imagesName: `${f.name} test images`, labelsName: `${f.name} test labels` }),
    classNames: f.classNames,
  }));
  return buildCustomScenario(inputs, { seed, trainLimit: trainLimit ?? undefined });
}

/** The first `n` examples of `d` (views, no copy). */
export function subset(d: Dataset, n: number): Dataset {
  const count = Math.min(n, d.count);
  return { images: d.images.subarray(0, count * IMAGE_PIXELS), labels: d.labels.subarray(0, count), count, numClasses: d.numClasses };
}

/** A copy of the first `n` test images of `t` (for the UI's sample grids), as a transferable buffer. */
export function sampleImages(t: Task, n: number): ArrayBuffer {
  return t.test.images.slice(0, n * IMAGE_PIXELS).buffer as ArrayBuffer;
}
