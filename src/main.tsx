import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BenchPage } from './bench/BenchPage';
import { App } from './ui/App';
import './ui/styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

// `?bench[&backend=...]` opens the training-step benchmark (src/bench) instead of the lab.
const search = window.location.search;
const isBench = new URLSearchParams(search).has('bench');

createRoot(root).render(
  <StrictMode>
    {isBench ? <BenchPage search={search} /> : <App />}
  </StrictMode>,
);
