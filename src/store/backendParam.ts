import { BACKEND_PREFERENCES, isBackendPreference, type BackendPreference } from '../engine/protocol';

export interface BackendParam {
  preference: BackendPreference;
  /** Set when the URL asked for something we do not know; shown to the user. */
  notice?: string;
}

/**
 * Reads `?backend=` from a query string (`location.search`). Missing or empty: `auto`.
 * An unknown value falls back to `auto` with a notice saying so.
 */
export function readBackendParam(search: string): BackendParam {
  const raw = new URLSearchParams(search).get('backend');
  if (raw === null || raw === '') return { preference: 'auto' };
  const value = raw.trim().toLowerCase();
  if (isBackendPreference(value)) return { preference: value };
  return {
    preference: 'auto',
    notice: `Unknown backend "${raw}" in the URL; using auto. Valid values: ${BACKEND_PREFERENCES.join(', ')}.`,
  };
}
