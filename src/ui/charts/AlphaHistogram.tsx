import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { HistogramBar } from '../../store/labModel';
import { SOURCE_COLOR, TARGET_COLOR } from './palette';

export interface AlphaHistogramProps {
  unit: string;
  bars: HistogramBar[];
  meanSource: number;
  meanTarget: number;
  height?: number;
}

/** Histogram of one layer's α_s and α_t over the fixed bins (counts of output channels). */
export function AlphaHistogram({ unit, bars, meanSource, meanTarget, height = 120 }: AlphaHistogramProps) {
  return (
    <figure className="alpha-layer">
      <figcaption>
        <strong>{unit}</strong>{' '}
        <span className="muted">
          mean α<sub>s</sub> {meanSource.toFixed(2)} · α<sub>t</sub> {meanTarget.toFixed(2)}
        </span>
      </figcaption>
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={bars} barGap={0} barCategoryGap={0} margin={{ top: 4, right: 4, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} className="chart-grid" />
          <XAxis dataKey="x" tick={{ fontSize: 10 }} interval={4} />
          <YAxis tick={{ fontSize: 10 }} width={28} allowDecimals={false} />
          <Tooltip formatter={(v, name) => [String(v), name === 'source' ? 'α_s (channels)' : 'α_t (channels)']} labelFormatter={(x) => `α ≈ ${String(x)}`} />
          <Bar dataKey="source" fill={SOURCE_COLOR} fillOpacity={0.75} animationDuration={250} />
          <Bar dataKey="target" fill={TARGET_COLOR} fillOpacity={0.75} animationDuration={250} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
