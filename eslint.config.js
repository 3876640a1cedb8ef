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
  {
    files: ['src/**/*.tsx', 'src/ui/**/*.ts', 'src/store/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // The UI never imports tfjs (ARCHITECTURE.md rule 1).
      'no-restricted-imports': ['error', { patterns: [{ group: ['@tensorflow/*'], message: 'The UI talks to the engine client; it never imports tfjs.' }] }],
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/data/**/*.ts'],
    rules: {
      // core and data are pure: no React, no app layers (ARCHITECTURE.md rule 1).
      'no-restricted-imports': ['error', { patterns: [
        { group: ['react', 'react-dom', 'zustand', 'recharts'], message: 'core/data must not depend on the UI.' },
        { group: ['**/engine/**', '**/store/**', '**/ui/**'], message: 'Imports point one way: ui → store → engine → core/data.' },
      ] }],
    },
  },
);
