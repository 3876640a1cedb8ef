import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { AlphaTrajectoryPoint } from '../../store/alphaTrajectory';
import { SOURCE_COLOR, TARGET_COLOR } from './palette';

export interface AlphaTrajectoryProps {
  unit: string;
  points: AlphaTrajectoryPoint[];
  height?: number;
}

/** One layer's mean |α_s| and mean |α_t| against the step of the combine stage. */
export function AlphaTrajectory({ unit, points, height = 110 }: AlphaTrajectoryProps) {
  return (
    <figure className="alpha-trajectory" data-testid="alpha.trajectory" data-unit={unit} data-points={points.length}>
      <figcaption className="muted">mean |α| vs step</figcaption>
      <ResponsiveContainer width="100%" height={height}>
        <LineChart data={points} margin={{ top: 4, right: 6, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} tick={{ fontSize: 10 }} />
          <YAxis tick={{ fontSize: 10 }} width={34} domain={[0, 'auto']} tickFormatter={(v: number) => v.toFixed(2)} />
          <Tooltip formatter={(v, name) => [typeof v === 'number' ? v.toFixed(3) : String(v), name === 'source' ? 'mean |α_s|' : 'mean |α_t|']}
            labelFormatter={(s) => `step ${String(s)}`} />
          <Line dataKey="source" stroke={SOURCE_COLOR} dot={false} isAnimationActive={false} />
          <Line dataKey="target" stroke={TARGET_COLOR} dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
