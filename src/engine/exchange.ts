/**
 * Export and import as engine operations: a finished ResCL point becomes files (tfjs model.json +
 * weights.bin, or one 'rescl-folded' JSON), and an imported model is checked and evaluated on the
 * loaded tasks' test sets. The file formats and checks themselves live in modelIO.ts.
 *
 * Tensors: every network and dataset built here is disposed before returning (also on errors).
 */
import type * as tf from '@tensorflow/tfjs';
import { disposeResident, makeResident } from '../core/batches';
import { disposeNet } from '../core/nets';
import { deserializeNet, type SerializedNet } from '../core/serialize';
import { evaluateAccuracy } from '../core/train';
import type { Task } from '../data/types';
import { BadModelFile, layersArtifacts, loadCheckedModel, parseImportedModel, tfjsFiles, toBase64, type FileTask, type FoldedModelFile } from './modelIO';

export interface ExportFile { name: string; mimeType: string; data: ArrayBuffer }

/** The files of one export of `folded` (provenance goes into the single-file form only). */
export async function exportFiles(
  folded: SerializedNet, format: 'tfjs' | 'json', tasks: readonly Task[], provenance: FoldedModelFile['provenance'],
): Promise<ExportFile[]> {
  const net = deserializeNet(folded);
  let artifacts: tf.io.ModelArtifacts;
  let weights: ArrayBuffer;
  try {
    ({ artifacts, weights } = await layersArtifacts(net));
  } finally {
    disposeNet(net);
  }
  if (format === 'tfjs') return tfjsFiles(artifacts, weights);
  const file: FoldedModelFile = {
    format: 'rescl-folded', version: 1, modelTopology: artifacts.modelTopology as object, weightSpecs: artifacts.weightSpecs ?? [],
    weightData: toBase64(weights), tasks: tasks.map((t) => ({ id: t.id, name: t.name, classNames: t.classNames })), provenance,
  };
  const data = new TextEncoder().encode(JSON.stringify(file)).buffer as ArrayBuffer;
  return [{ name: `rescl-lambda-${provenance.lambda}.json`, mimeType: 'application/json', data }];
}

/** A single-file export names the tasks its heads were trained on: they must be the loaded ones, in order. */
function checkTasks(fileName: string, madeFor: readonly FileTask[], tasks: readonly Task[]): void {
  const same = madeFor.length === tasks.length && madeFor.every((t, i) => t.id === tasks[i].id && t.classCount === tasks[i].test.numClasses);
  if (same) return;
  const list = (items: { id: string; classCount: number }[]): string =>
    items.slice(0, 4).map((t) => `${JSON.stringify(t.id).slice(0, 40)} (${t.classCount} classes)`).join(', ') + (items.length > 4 ? `, … (${items.length} in all)` : '');
  const file = list([...madeFor]);
  const loaded = list(tasks.map((t) => ({ id: t.id, classCount: t.test.numClasses })));
  throw new BadModelFile(`${fileName} was exported for the tasks ${file}; the loaded scenario has ${loaded}. Load the scenario it was made for first.`);
}

/**
 * Checks an imported model against the tasks (one head per task with its class count) and returns
 * its test accuracy per task. Throws `BadModelFile` for a file that does not fit.
 */
export async function evaluateImported(
  fileName: string, json: string, weights: ArrayBuffer | undefined, tasks: readonly Task[],
): Promise<{ paramCount: number; accByTask: Record<string, number> }> {
  const { artifacts, tasks: madeFor } = parseImportedModel(fileName, json, weights);
  if (madeFor) checkTasks(fileName, madeFor, tasks);
  const model = await loadCheckedModel(fileName, artifacts, tasks.map((t) => t.test.numClasses));
  const accByTask: Record<string, number> = {};
  try {
    const forward = (x: tf.Tensor4D) => {
      const out = model.predict(x);
      return (Array.isArray(out) ? out : [out]) as tf.Tensor2D[];
    };
    for (let j = 0; j < tasks.length; j++) {
      const data = makeResident(tasks[j].test);
      try {
        accByTask[tasks[j].id] = await evaluateAccuracy(forward, j, data);
      } finally {
        disposeResident(data);
      }
    }
    return { paramCount: model.countParams(), accByTask };
  } finally {
    model.dispose();
  }
}
