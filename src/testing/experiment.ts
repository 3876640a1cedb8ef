/** Test helper: drives an experiment run to its result. */
import type { ExperimentEvent, RunResult } from '../core/experiment';

/** Consumes a `runMethod` generator and returns its `result` (throws if there is none). */
export async function finishRun(gen: AsyncGenerator<ExperimentEvent, void, undefined>): Promise<RunResult> {
  let result: RunResult | null = null;
  for await (const e of gen) if (e.type === 'result') result = e.result;
  if (!result) throw new Error('the run produced no result');
  return result;
}
