import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'public/data', 'test-results', 'playwright-report', '.gpu-kit', '**/*.bundle.mjs', '.scripts-build', '.bench-dist'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node, ...globals.worker } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layering (docs/ARCHITECTURE.md, "Layers"): imports point one way, ui → store → engine → core → data.
  // eslint.layering.test.ts proves each rule fails on a wrong import.
  {
    files: ['src/**/*.tsx', 'src/ui/**/*.ts', 'src/store/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', { patterns: [{ group: ['@tensorflow/*'], message: 'The UI and the store talk to the engine client; they never import tfjs.' }] }],
    },
  },
  {
    files: ['src/ui/**/*.ts', 'src/ui/**/*.tsx'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [
        { group: ['@tensorflow/*'], message: 'The UI never imports tfjs.' },
        { group: ['**/core/**', '**/data/**', '**/kernels', '**/kernels/**', '**/bench/**', '**/testing/**'], message: 'The UI imports only the store (store/catalog.ts re-exports names it needs).' },
        { group: ['**/engine/*', '!**/engine/protocol'], message: 'The UI imports only the store, and types from engine/protocol.' },
        { group: ['**/engine/protocol'], allowTypeImports: true, message: 'The UI imports only types from engine/protocol (values come through store/catalog.ts).' },
      ] }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['react', 'react-dom', 'zustand', 'recharts'], message: 'core must not depend on the UI.' },
        { group: ['**/engine', '**/engine/**', '**/kernels', '**/kernels/**', '**/store/**', '**/ui/**', '**/bench/**'], message: 'core imports only data (ui → store → engine → core → data).' },
      ] }],
    },
  },
  {
    files: ['src/data/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['react', 'react-dom', 'zustand', 'recharts', '@tensorflow/*'], message: 'data is plain TypeScript: no UI, no tfjs.' },
        { group: ['**/core/**', '**/engine/**', '**/kernels', '**/kernels/**', '**/store/**', '**/ui/**', '**/bench/**'], message: 'data imports nothing above it (ui → store → engine → core → data).' },
      ] }],
    },
  },
);
