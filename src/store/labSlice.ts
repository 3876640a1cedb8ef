/**
 * Lab slice: run state, stages, curves, results and errors (LabData, changed by the engine's
 * events through `reduceEvent`, see engineSlice.ts), and the actions on finished results:
 * export, import, clearing saved results, and errors found on the UI side.
 */
import type { EngineErrorEvent } from '../engine/protocol';
import { INITIAL_LAB_DATA, nearestResclPoint, type LabData } from './labModel';
import { initialUrl } from './setupSlice';
import type { SliceContext } from './state';

export interface LabSlice extends LabData {
  exportModel: (format: 'tfjs' | 'json') => void;
  importFiles: (files: File[]) => Promise<void>;
  clearSaved: () => void;
  /** Adds an error found on the UI side (e.g. a bad IDX file before it is sent). */
  reportError: (code: EngineErrorEvent['code'], message: string) => void;
  dismissErrors: () => void;
}

export function createLabSlice({ set, get, connection }: SliceContext): LabSlice {
  return {
    ...INITIAL_LAB_DATA,
    sliderLambda: initialUrl.config.lambda,
    exportModel: (format) => {
      const s = get();
      const p = nearestResclPoint(s.points, s.sliderLambda);
      if (!p || p.knob === null) {
        get().reportError('not-ready', 'There is no finished ResCL network to export yet: run the experiment first.');
        return;
      }
      connection.send({ type: 'export', lambda: p.knob, format });
    },
    importFiles: async (files) => {
      const jsonFile = files.find((f) => /\.json$/i.test(f.name)) ?? files[0];
      if (!jsonFile) return;
      const weightsFile = files.find((f) => f !== jsonFile);
      set({ importResult: null });
      let json: string;
      let weights: ArrayBuffer | undefined;
      try {
        json = await jsonFile.text();
        weights = weightsFile ? await weightsFile.arrayBuffer() : undefined;
      } catch (err) {
        get().reportError('bad-file', `${jsonFile.name}: could not be read (${err instanceof Error ? err.message : String(err)})`);
        return;
      }
      if (!(await get().prepare())) return;
      connection.send({ type: 'importModel', fileName: jsonFile.name, json, ...(weights ? { weights } : {}) });
    },
    clearSaved: () => {
      connection.send({ type: 'clearSaved' });
      set((s) => ({ points: s.points.filter((p) => !p.restored), restoredCount: null, interrupted: null }));
    },
    reportError: (code, message) => set((s) => ({ errors: [...s.errors, { type: 'error', v: 1, code, message, recoverable: true }] })),
    dismissErrors: () => set({ errors: [] }),
  };
}
