import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { TASK_COLORS } from './palette';

export interface CurveRow {
  step: number;
  loss: number;
  /** accuracy in percent per task id (keys `acc:<taskId>`) */
  [acc: `acc:${string}`]: number | undefined;
}

export interface CurveChartProps {
  rows: CurveRow[];
  /** task ids and names whose accuracy lines to draw */
  tasks: { id: string; name: string }[];
  height?: number;
}

/** Loss (left axis) and test accuracy per task (right axis, %) against the step of one stage. */
export function CurveChart({ rows, tasks, height = 220 }: CurveChartProps) {
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart data={rows} margin={{ top: 8, right: 8, bottom: 4, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
        <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tick={{ fontSize: 11 }} />
        <YAxis yAxisId="loss" tick={{ fontSize: 11 }} width={40} />
        <YAxis yAxisId="acc" orientation="right" domain={[0, 100]} tick={{ fontSize: 11 }} width={36} />
        <Tooltip formatter={(v, name) => [typeof v === 'number' ? v.toFixed(3) : String(v), String(name)]} />
        <Legend height={24} />
        <Line yAxisId="loss" dataKey="loss" name="loss" stroke="#8a8f98" dot={false} isAnimationActive={false} />
        {tasks.map((t, i) => (
          <Line key={t.id} yAxisId="acc" dataKey={`acc:${t.id}`} name={`acc ${t.name} (%)`} stroke={TASK_COLORS[i % TASK_COLORS.length]}
            connectNulls dot={{ r: 2 }} isAnimationActive={false} />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}
