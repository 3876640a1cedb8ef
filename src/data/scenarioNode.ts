/** Real bundled data for Node tests and scripts (public/data, made by `npm run prepare-data`). */
import { loadBundledDataset } from '../data/load';
import { nodeFetchBytes } from '../data/loadNode';
import type { BundledDatasetName } from '../data/registry';
import { buildScenario, type ScenarioOptions, type ScenarioSource } from '../data/tasks';
import type { Task } from '../data/types';

/** Loads the datasets a scenario needs from public/data and builds its tasks. */
export async function loadScenarioTasks(id: string, options: ScenarioOptions, dataDir = 'public/data'): Promise<Task[]> {
  const fetchBytes = nodeFetchBytes(dataDir);
  const needed: BundledDatasetName[] = id.includes('fashion') ? ['mnist', 'fashion'] : ['mnist'];
  const source: ScenarioSource = {};
  for (const name of needed) source[name] = await loadBundledDataset(name, fetchBytes);
  return buildScenario(id, source, options);
}
