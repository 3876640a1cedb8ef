import { CartesianGrid, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { MethodName } from '../../store/catalog';
import type { PlanePoint, TradeoffSeries } from '../../store/labModel';
import { METHOD_COLORS } from './palette';

export interface TradeoffChartProps {
  series: TradeoffSeries[];
  labels: Record<MethodName, string>;
  /** the selected ResCL point (drawn as a ring) */
  selected: PlanePoint | null;
  height?: number;
}

function fmt(v: number): string {
  return `${v.toFixed(1)}%`;
}

/** An axis range in percent that holds every value with a little room, in steps of 5, within 0 … 100. */
export function niceDomain(values: number[]): [number, number] {
  if (values.length === 0) return [0, 100];
  const lo = Math.max(0, Math.floor((Math.min(...values) - 2) / 5) * 5);
  const hi = Math.min(100, Math.ceil((Math.max(...values) + 2) / 5) * 5);
  return hi - lo < 10 ? [Math.max(0, hi - 10), Math.max(hi, 10)] : [lo, hi];
}

/** Target accuracy (x) against source accuracy (y), one series per method, fronts as lines. */
export function TradeoffChart({ series, labels, selected, height = 320 }: TradeoffChartProps) {
  const all = series.flatMap((s) => s.points);
  const xDomain = niceDomain(all.map((p) => p.target));
  const yDomain = niceDomain(all.map((p) => p.source));
  return (
    <ResponsiveContainer width="100%" height={height}>
      <ScatterChart margin={{ top: 8, right: 16, bottom: 24, left: 4 }}>
        <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
        <XAxis type="number" dataKey="target" name="target accuracy" domain={xDomain} tickFormatter={(v: number) => `${v}`}
          label={{ value: 'target (new task) accuracy, %', position: 'insideBottom', offset: -12 }} />
        <YAxis type="number" dataKey="source" name="source accuracy" domain={yDomain} width={48}
          label={{ value: 'source accuracy, %', angle: -90, position: 'insideLeft', offset: 12, style: { textAnchor: 'middle' } }} />
        <Tooltip
          cursor={{ strokeDasharray: '3 3' }}
          formatter={(value, name) => [fmt(Number(value)), String(name)]}
          labelFormatter={() => ''}
        />
        <Legend verticalAlign="top" wrapperStyle={{ paddingBottom: 8 }} />
        {series.map((s) => (
          <Scatter
            key={s.method}
            name={labels[s.method]}
            data={s.points}
            fill={METHOD_COLORS[s.method]}
            shape={s.front.length ? 'circle' : 'diamond'}
            isAnimationActive={false}
          />
        ))}
        {series.filter((s) => s.front.length > 1).map((s) => (
          <Scatter
            key={`${s.method}-front`}
            name={`${labels[s.method]} front`}
            legendType="none"
            data={s.front}
            fill={METHOD_COLORS[s.method]}
            line={{ stroke: METHOD_COLORS[s.method], strokeWidth: 2 }}
            shape={() => <g />}
            isAnimationActive={false}
          />
        ))}
        {selected && (
          <Scatter
            name="selected λ"
            data={[selected]}
            fill="none"
            legendType="circle"
            shape={(props: { cx?: number; cy?: number }) => (
              <circle cx={props.cx} cy={props.cy} r={9} fill="none" stroke="currentColor" strokeWidth={2.5} className="selected-ring" />
            )}
            isAnimationActive={false}
          />
        )}
      </ScatterChart>
    </ResponsiveContainer>
  );
}
