import { Bar, BarChart, CartesianGrid, LabelList, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { SOURCE_COLOR, TARGET_COLOR } from '../ui/charts/palette';
import type { BenchCaseLine } from './options';

/** One group per network: ms per training step of the plain (one net) and combined (ResCL) stages. */
export function StepChart({ cases }: { cases: BenchCaseLine[] }) {
  const nets = [...new Set(cases.map((c) => c.net))];
  const rows = nets.map((net) => {
    const of = (stage: string) => cases.find((c) => c.net === net && c.stage === stage)?.msPerStepMedian;
    return { net, plain: of('plain'), combined: of('combined') };
  });
  return (
    <div className="chart" data-testid="bench.chart" data-cases={cases.length}>
      <ResponsiveContainer width="100%" height={220}>
        <BarChart data={rows} margin={{ top: 16, right: 8, bottom: 4, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" className="chart-grid" />
          <XAxis dataKey="net" tick={{ fontSize: 12 }} />
          <YAxis tick={{ fontSize: 11 }} width={48} label={{ value: 'ms / step', angle: -90, position: 'insideLeft', fontSize: 11 }} />
          <Tooltip formatter={(v, name) => [typeof v === 'number' ? `${v} ms` : String(v), String(name)]} />
          <Legend height={24} />
          <Bar dataKey="plain" name="plain (one network)" fill={SOURCE_COLOR} isAnimationActive={false}>
            <LabelList dataKey="plain" position="top" fontSize={11} />
          </Bar>
          <Bar dataKey="combined" name="combined (ResCL: two branches + α)" fill={TARGET_COLOR} isAnimationActive={false}>
            <LabelList dataKey="combined" position="top" fontSize={11} />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
