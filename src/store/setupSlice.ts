/**
 * Setup slice: what the next run will do (mirrored in the URL, see urlConfig.ts), where its tasks
 * come from, and loading them into the engine.
 */
import { comparisonOf, METHOD_KNOBS } from '../core/names';
import { clampLambda } from '../core/lambda';
import { FIXED_TRAINING } from '../core/trainingDefaults';
import { EngineRequestError } from '../engine/client';
import type { CustomTaskFiles, OutgoingCommand, RunConfig } from '../engine/protocol';
import { formatSetup, parseSetup, type SetupConfig } from './urlConfig';
import { isBusy, type SliceContext } from './state';

/** The RunConfig the engine gets for a setup (what the page does not set: core/trainingDefaults.ts). */
export function runConfigOf(setup: SetupConfig): RunConfig {
  const sweep: RunConfig['sweep'] = {};
  for (const m of setup.methods) {
    const knob = METHOD_KNOBS[m];
    if (knob) sweep[m] = [...knob.defaults];
  }
  return {
    net: setup.net, epochs: setup.epochs, batchSize: setup.batchSize, seed: setup.seed, lambda: setup.lambda, methods: [...setup.methods], sweep, ...FIXED_TRAINING,
    // one run per seed (mean ± sd); no list: the one `seed` (the engine runs the same loop once)
    ...(setup.seeds.length ? { seeds: [...setup.seeds] } : {}),
    ...comparisonOf(setup),
  };
}

/** Where the tasks of the next run come from. */
export type DataSource = 'bundled' | 'custom';

export interface SetupSlice {
  setup: SetupConfig;
  /** what the URL asked for that was changed */
  urlNotices: string[];
  dataSource: DataSource;
  /** `scenario|seed|trainLimit` of the tasks the engine holds ('custom' for user files) */
  loadedKey: string | null;
  loading: boolean;
  setSetup: (patch: Partial<SetupConfig>) => void;
  setDataSource: (source: DataSource) => void;
  loadScenario: () => Promise<boolean>;
  loadCustom: (tasks: CustomTaskFiles[]) => Promise<boolean>;
  /** Makes sure the engine holds the tasks of the current setup (loads them if not); false if it cannot. */
  prepare: () => Promise<boolean>;
}

/** The key of the tasks a setup loads. */
export function loadKeyOf(setup: SetupConfig): string {
  return `${setup.scenario}|${setup.seed}|${setup.trainLimit ?? 'all'}`;
}

function writeUrl(setup: SetupConfig): void {
  if (typeof window === 'undefined' || typeof history === 'undefined') return;
  history.replaceState(history.state, '', `${window.location.pathname}${formatSetup(setup, window.location.search)}${window.location.hash}`);
}

/** The setup the page's URL asks for (defaults outside a browser), with notices for what was changed. */
export const initialUrl = typeof window === 'undefined' ? { config: parseSetup('').config, notices: [] as string[] } : parseSetup(window.location.search);

export function createSetupSlice({ set, get, connection }: SliceContext): SetupSlice {
  /**
   * Asks the engine to load tasks; true when it answered `scenarioLoaded`. A refusal is already in
   * the errors (the engine's error event); a timeout is added there; a stopped engine says nothing.
   */
  const loadTasks = async (command: OutgoingCommand, key: string): Promise<boolean> => {
    set({ loading: true });
    let ok = false;
    try {
      ok = (await connection.request(command, 'scenarioLoaded')).type === 'scenarioLoaded';
    } catch (e) {
      if (!(e instanceof EngineRequestError)) get().reportError('internal', `${command.type} failed: ${e instanceof Error ? e.message : String(e)}`);
      else if (e.reason === 'timeout') get().reportError('timeout', e.message);
    }
    set({ loading: false, ...(ok ? { loadedKey: key, ...(key === 'custom' ? { dataSource: 'custom' as const } : {}) } : {}) });
    return ok;
  };

  return {
    setup: initialUrl.config,
    urlNotices: initialUrl.notices,
    dataSource: 'bundled',
    loadedKey: null,
    loading: false,
    setSetup: (patch) => {
      const setup = { ...get().setup, ...patch };
      if (patch.lambda !== undefined) setup.lambda = clampLambda(patch.lambda);
      set({ setup });
      writeUrl(setup);
    },
    setDataSource: (dataSource) => set({ dataSource }),
    loadScenario: async () => {
      const { setup } = get();
      if (get().status !== 'ready' || isBusy(get())) return false;
      const command = { type: 'loadScenario', scenario: setup.scenario, seed: setup.seed, trainLimit: setup.trainLimit, testLimit: null } as const;
      return loadTasks(command, loadKeyOf(setup));
    },
    loadCustom: async (tasks) => {
      if (get().status !== 'ready' || isBusy(get())) return false;
      return loadTasks({ type: 'loadCustom', tasks, seed: get().setup.seed, trainLimit: get().setup.trainLimit }, 'custom');
    },
    prepare: async () => {
      const s = get();
      if (s.dataSource === 'custom') return s.loadedKey === 'custom';
      if (s.loadedKey === loadKeyOf(s.setup)) return true;
      return get().loadScenario();
    },
  };
}
