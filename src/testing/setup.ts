// Vitest setup: every unit test runs on tfjs's cpu backend, and says so if it cannot.
import * as tf from '@tensorflow/tfjs';
import { beforeAll } from 'vitest';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error(`unit tests need the tfjs cpu backend, got '${tf.getBackend()}'`);
});
