import { CartesianGrid, ErrorBar, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { MethodName } from '../../store/catalog';
import type { PlanePoint, TradeoffSeries } from '../../store/labModel';
import { fitAxis } from '../../store/plotRange';
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

/**
 * Target accuracy (x) against source accuracy (y), one series per method, fronts as lines; with
 * several seeds each point is the mean with ±1 sd error bars on both axes. Axes fit the data.
 */
export function TradeoffChart({ series, labels, selected, height = 320 }: TradeoffChartProps) {
  const all = series.flatMap((s) => s.points);
  // zoomed to the points and their error bars (mean ± sd over seeds), with a small margin
  const x = fitAxis(all.flatMap((p) => [p.target - (p.targetSd ?? 0), p.target + (p.targetSd ?? 0)]));
  const y = fitAxis(all.flatMap((p) => [p.source - (p.sourceSd ?? 0), p.source + (p.sourceSd ?? 0)]));
  const errorBars = all.some((p) => (p.seeds ?? 1) > 1);
  return (
    <ResponsiveContainer width="100%" height={height}>
      <ScatterChart margin={{ top: 8, right: 16, bottom: 24, left: 4 }}>
        <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
        <XAxis type="number" dataKey="target" name="target accuracy" domain={x.domain} ticks={x.ticks} allowDataOverflow tickFormatter={(v: number) => `${v}`}
          label={{ value: 'target (new task) accuracy, %', position: 'insideBottom', offset: -12 }} />
        <YAxis type="number" dataKey="source" name="source accuracy" domain={y.domain} ticks={y.ticks} allowDataOverflow width={48}
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
          >
            {errorBars && <ErrorBar dataKey="targetSd" direction="x" width={4} stroke={METHOD_COLORS[s.method]} className="error-bar" isAnimationActive={false} />}
            {errorBars && <ErrorBar dataKey="sourceSd" direction="y" width={4} stroke={METHOD_COLORS[s.method]} className="error-bar" isAnimationActive={false} />}
          </Scatter>
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
