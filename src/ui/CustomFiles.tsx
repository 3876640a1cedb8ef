import { useState } from 'react';
import { IdxError, parseIdxPair } from '../store/catalog';
import type { CustomTaskFiles } from '../engine/protocol';
import { useLabStore } from '../store/labStore';

type Slot = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';
const SLOTS: { key: Slot; label: string }[] = [
  { key: 'trainImages', label: 'train images' },
  { key: 'trainLabels', label: 'train labels' },
  { key: 'testImages', label: 'test images' },
  { key: 'testLabels', label: 'test labels' },
];

interface TaskDraft {
  name: string;
  files: Partial<Record<Slot, File>>;
}

/** Checks both pairs of a task in the page (the engine checks again); returns the problem or null. */
async function validate(task: TaskDraft, index: number): Promise<{ problem: string } | { files: CustomTaskFiles }> {
  const label = `Task ${index + 1}${task.name ? ` (${task.name})` : ''}`;
  const missing = SLOTS.filter((s) => !task.files[s.key]).map((s) => s.label);
  if (missing.length) return { problem: `${label}: choose the ${missing.join(', ')} file${missing.length > 1 ? 's' : ''}.` };
  const buf: Partial<Record<Slot, ArrayBuffer>> = {};
  for (const s of SLOTS) buf[s.key] = await task.files[s.key]!.arrayBuffer();
  try {
    for (const split of ['train', 'test'] as const) {
      const img = task.files[`${split}Images`]!;
      const lab = task.files[`${split}Labels`]!;
      parseIdxPair(buf[`${split}Images`]!, buf[`${split}Labels`]!, { imagesName: img.name, labelsName: lab.name });
    }
  } catch (err) {
    return { problem: `${label}: ${err instanceof IdxError || err instanceof Error ? err.message : String(err)}` };
  }
  return {
    files: {
      name: task.name || `task ${index + 1}`,
      trainImages: buf.trainImages!, trainLabels: buf.trainLabels!, testImages: buf.testImages!, testLabels: buf.testLabels!,
    },
  };
}

/** Your own tasks as IDX files (28x28 uint8 images, uint8 labels), one set of four files per task. */
export function CustomFiles() {
  const [tasks, setTasks] = useState<TaskDraft[]>([{ name: '', files: {} }, { name: '', files: {} }]);
  const [problem, setProblem] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const loadCustom = useLabStore((s) => s.loadCustom);
  const reportError = useLabStore((s) => s.reportError);
  const loaded = useLabStore((s) => s.loadedKey === 'custom');

  const update = (i: number, t: TaskDraft) => setTasks((all) => all.map((x, j) => (j === i ? t : x)));

  const submit = async () => {
    setChecking(true);
    setProblem(null);
    const checked: CustomTaskFiles[] = [];
    for (const [i, t] of tasks.entries()) {
      const r = await validate(t, i);
      if ('problem' in r) {
        setProblem(r.problem);
        reportError('bad-file', r.problem);
        setChecking(false);
        return;
      }
      checked.push(r.files);
    }
    await loadCustom(checked);
    setChecking(false);
  };

  return (
    <fieldset className="custom-files">
      <legend>Your IDX files</legend>
      {tasks.map((t, i) => (
        <div key={i} className="custom-task">
          <label>
            Task {i + 1} name{' '}
            <input type="text" value={t.name} placeholder={`task ${i + 1}`} onChange={(e) => update(i, { ...t, name: e.target.value })} />
          </label>
          <div className="file-grid">
            {SLOTS.map((s) => (
              <label key={s.key}>
                {s.label}
                <input type="file" onChange={(e) => update(i, { ...t, files: { ...t.files, [s.key]: e.target.files?.[0] } })} />
              </label>
            ))}
          </div>
        </div>
      ))}
      <div className="row">
        <button type="button" disabled={tasks.length >= 10} onClick={() => setTasks([...tasks, { name: '', files: {} }])}>Add a task</button>
        <button type="button" disabled={tasks.length <= 2} onClick={() => setTasks(tasks.slice(0, -1))}>Remove last</button>
        <button type="button" className="primary" disabled={checking} onClick={() => void submit()} data-testid="custom.load">
          {checking ? 'Checking…' : 'Load these tasks'}
        </button>
      </div>
      {problem && <p className="field-error" role="alert">{problem}</p>}
      {loaded && !problem && <p className="ok-text">Custom tasks loaded: Run uses them.</p>}
    </fieldset>
  );
}
