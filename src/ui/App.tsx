import { useEffect, useState } from 'react';
import { readBackendParam } from '../store/backendParam';
import { useEngineStore } from '../store/engineStore';
import { BackendPanel } from './BackendPanel';

export function App() {
  // Read once: the backend is chosen when the worker starts; changing it means reloading.
  const [param] = useState(() => readBackendParam(window.location.search));
  const start = useEngineStore((s) => s.start);
  const stop = useEngineStore((s) => s.stop);

  useEffect(() => {
    start(param.preference);
    return stop;
  }, [param.preference, start, stop]);

  return (
    <div className="app">
      <header className="app-header">
        <h1>ResCL Lab</h1>
        <p className="subtitle">
          Residual Continual Learning, trained in your browser. Training runs in a Web Worker on WebGPU
          when your browser has it.
        </p>
      </header>
      <main>
        <BackendPanel notice={param.notice} />
      </main>
      <footer className="app-footer">
        <span>
          Choose a backend with <code>?backend=auto|webgpu|webgl|cpu</code>
        </span>
      </footer>
    </div>
  );
}
