export interface AccMatrixProps {
  /** R[i][j]: accuracy (fraction) on task j after learning task i */
  matrix: number[][];
  taskNames: string[];
  caption: string;
}

/** Heat map of the accuracy matrix: rows = after task i, columns = tested on task j. */
export function AccMatrix({ matrix, taskNames, caption }: AccMatrixProps) {
  return (
    <table className="heatmap" data-testid="acc.matrix">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">after ↓ / tested on →</th>
          {taskNames.map((n) => <th key={n} scope="col">{n}</th>)}
        </tr>
      </thead>
      <tbody>
        {matrix.map((row, i) => (
          <tr key={i}>
            <th scope="row">{taskNames[i] ?? `task ${i + 1}`}</th>
            {taskNames.map((_, j) => {
              const v = row[j];
              if (v === undefined || !Number.isFinite(v)) return <td key={j} className="heat-empty">—</td>;
              const hue = Math.round(120 * Math.max(0, Math.min(1, v)));
              return (
                <td key={j} style={{ background: `hsl(${hue} 65% 45% / ${0.25 + 0.6 * v})` }} data-value={v.toFixed(4)}>
                  {(100 * v).toFixed(1)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
