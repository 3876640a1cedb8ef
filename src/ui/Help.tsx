import type { ReactNode } from 'react';

/** Help text next to a knob: what it does in the method's terms. */
export function Help({ id, children }: { id: string; children: ReactNode }) {
  return (
    <p className="help" id={id}>
      {children}
    </p>
  );
}
