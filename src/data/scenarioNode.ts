/** Node-only: builds a bundled scenario's tasks from public/data (tests, `npm run repro`). */
import { loadBundledDataset } from './load';
import { DEFAULT_NODE_DATA_DIR, nodeFetchBytes } from './loadNode';
import { getScenarioInfo } from './registry';
import { buildScenario, ScenarioError, type ScenarioOptions, type ScenarioSource } from './tasks';
import type { Task } from './types';

/** Loads the datasets scenario `id` needs from `dataDir` and builds its tasks. */
export async function loadScenarioTasks(id: string, options: ScenarioOptions, dataDir = DEFAULT_NODE_DATA_DIR): Promise<Task[]> {
  const info = getScenarioInfo(id);
  if (!info || info.id === 'custom') throw new ScenarioError('unknown-scenario', `'${id}' is not a bundled scenario`);
  const fetchBytes = nodeFetchBytes(dataDir);
  const source: ScenarioSource = {};
  for (const name of info.datasets) source[name] = await loadBundledDataset(name, fetchBytes);
  return buildScenario(id, source, options);
}
