import type { MethodName } from '../../store/catalog';

/** One colour per method, readable on the light and the dark theme. */
export const METHOD_COLORS: Record<MethodName, string> = {
  rescl: '#2f7de1',
  lwf: '#e0812c',
  ewc: '#9a5fd0',
  ft: '#d64545',
  fe: '#3aa35b',
  joint: '#8a8f98',
};

/** Task line colours (accuracy per task). */
export const TASK_COLORS = ['#2f7de1', '#e0812c', '#3aa35b', '#9a5fd0', '#d64545', '#8a8f98'];

export const SOURCE_COLOR = '#2f7de1';
export const TARGET_COLOR = '#e0812c';
