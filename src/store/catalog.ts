/**
 * What the UI may know about the layers below, in one place: method, network, scenario and backend
 * names, the comparison settings' names and choices, the metric suite's names and one-line definitions, the α histogram's bins, and the IDX checks a custom upload passes before it is sent.
 * The UI imports only the store (and types from engine/protocol); ESLint enforces it.
 */
export { METRIC_DEFINITIONS, METRIC_NAMES, type MetricName } from '../core/metricSuite';
export {
  COMPARISON_CHOICES, COMPARISON_SETTING_NAMES, METHOD_KNOBS, METHOD_LABELS, METHOD_NAMES, NET_KINDS,
  type ComparisonSetting, type ComparisonSettings, type MethodName, type NetKind,
} from '../core/names';
export { IdxError, parseIdxPair } from '../data/parse/idx';
export { SCENARIOS, getScenarioInfo } from '../data/registry';
export { ALPHA_HISTOGRAM_BINS, ALPHA_HISTOGRAM_RANGE, BACKEND_PREFERENCES } from '../engine/protocol';
