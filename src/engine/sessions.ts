/**
 * Sessions and persistence: what the engine saves to `EngineStorage` and how it reads it back.
 *
 * A session is one scenario + settings (`sessionKey`); under it live the trained source network,
 * the first fine-tuned network and every finished point (`<session>|<pointKey>`). The run record
 * of the run in progress is saved as `runs/current` at each finished stage (so a reload can resume
 * it) and moved to `runs/last` when the run finishes or is stopped.
 */
import type { CombinedState } from '../core/experiment';
import { lambdaKey } from '../core/lambda';
import type { FoldReport } from '../core/fold';
import { nonDefaultComparison, type MethodName } from '../core/names';
import type { SerializedNet } from '../core/serialize';
import type { ScenarioId } from '../data/registry';
import { PROTOCOL_VERSION, type RestoredEvent, type RunCommand, type RunConfig, type TradeoffPointEvent } from './protocol';
import type { EngineStorage } from './storage';

export interface ScenarioSpec { scenario: ScenarioId; seed: number; trainLimit: number | null; testLimit: number | null }

/** A finished point with what export and warm starts need. */
export interface PointRecord {
  event: TradeoffPointEvent;
  /** ResCL: the folded network */
  folded?: SerializedNet;
  /** ResCL: α and θ_t of the first combined stage */
  state?: CombinedState;
  /** ResCL: the fold check of its (first) combined stage */
  fold?: FoldReport;
}

/** The run record saved at every finished stage (what `resumeInterrupted` needs). */
export interface RunRecord extends ScenarioSpec {
  session: string;
  config: RunConfig;
  mode: RunCommand['mode'];
  method?: MethodName;
  knob?: number;
  lastStage: string;
  /** a single network at one λ (`trainLambda`: warm-started, not live), not the live pipeline */
  single?: boolean;
}

const CURRENT_RUN = 'current';
const LAST_SESSION = 'last';

/**
 * The session key: every input that changes what is trained (custom scenarios: their task names
 * too). The comparison settings (budget, init, baselineBatchNorm, ...) enter only where they differ
 * from their defaults, so the key of a default run, and the sessions saved before they existed, stay as they were.
 */
export function sessionKey(spec: ScenarioSpec, c: RunConfig, customNames: readonly string[] = []): string {
  const comparison = nonDefaultComparison(c);
  return JSON.stringify([spec.scenario, spec.scenario === 'custom' ? customNames : [], spec.seed, spec.trainLimit, spec.testLimit, c.net,
    c.epochs, c.batchSize, c.learningRate, c.alphaLearningRate, c.weightDecay, c.headWarmupSteps, c.seed, c.maxStepsPerStage ?? null,
    ...(Object.keys(comparison).length ? [comparison] : [])]);
}

/** The key of a finished point within its session (λ by `lambdaKey`: same key ⇔ `sameLambda`). */
export function pointKey(method: MethodName, knob: number | null): string {
  return `${method}|${knob === null ? '-' : lambdaKey(knob)}`;
}

/** How a run ended, for `SessionStore.finish`. */
export type RunOutcome = 'finished' | 'stopped' | 'failed' | 'backend-lost';

export class SessionStore {
  constructor(private readonly storage: EngineStorage) {}

  /** Saves `run` as the run in progress, with `lastStage` its last finished stage. */
  async saveRun(run: RunRecord, lastStage: string): Promise<void> {
    run.lastStage = lastStage;
    await this.storage.put('runs', CURRENT_RUN, run);
  }

  /**
   * Records how a run ended: finished → no longer resumable, remembered as the last session;
   * stopped → remembered as the last session (still resumable); failed or backend lost → left
   * resumable as it is. Storage failures are ignored (the results are already out).
   */
  async finish(run: RunRecord, outcome: RunOutcome): Promise<void> {
    if (outcome === 'finished') await this.storage.delete('runs', CURRENT_RUN).catch(() => undefined);
    if (outcome === 'finished' || outcome === 'stopped') await this.storage.put('runs', LAST_SESSION, run).catch(() => undefined);
  }

  /** The interrupted run, if any. */
  current(): Promise<RunRecord | undefined> {
    return this.storage.get<RunRecord>('runs', CURRENT_RUN);
  }

  /** The saved points of `session`, keyed by `pointKey`. */
  async points(session: string): Promise<Map<string, PointRecord>> {
    const out = new Map<string, PointRecord>();
    for (const { key, value } of await this.storage.list<PointRecord>('points', `${session}|`)) out.set(key.slice(session.length + 1), value);
    return out;
  }

  async savePoint(session: string, key: string, record: PointRecord): Promise<void> {
    await this.storage.put('points', `${session}|${key}`, record);
  }

  /** A saved network of the session ('source' or 'finetune1'). */
  net(session: string, name: 'source' | 'finetune1'): Promise<SerializedNet | undefined> {
    return this.storage.get<SerializedNet>('nets', `${session}|${name}`);
  }

  /** Saves a network once (an existing one is kept). */
  async saveNetOnce(session: string, name: 'source' | 'finetune1', serialize: () => Promise<SerializedNet>): Promise<void> {
    if (await this.net(session, name)) return;
    await this.storage.put('nets', `${session}|${name}`, await serialize());
  }

  /** The `restored` event: the last session's points and the interrupted run (unless `running`). */
  async restoredEvent(running: boolean, id?: string): Promise<RestoredEvent> {
    const current = await this.current();
    const last = current ?? (await this.storage.get<RunRecord>('runs', LAST_SESSION));
    const points = last ? [...(await this.points(last.session)).values()].map((p) => p.event) : [];
    return {
      type: 'restored', v: PROTOCOL_VERSION, points, ...(id !== undefined ? { id } : {}),
      interrupted: current && !running
        ? { scenario: current.scenario, config: current.config, lastStage: current.lastStage, seed: current.seed, trainLimit: current.trainLimit, testLimit: current.testLimit, mode: current.mode }
        : null,
      session: last ? { scenario: last.scenario, seed: last.seed, trainLimit: last.trainLimit, testLimit: last.testLimit, config: last.config } : null,
    };
  }
}
