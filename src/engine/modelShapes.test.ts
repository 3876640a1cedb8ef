import type * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildCombined, disposeCombinedAlphas } from '../core/combine';
import { foldCombined, modelArtifacts, toLayersModel } from '../core/fold';
import type { NetKind } from '../core/names';
import { addHead, buildNet, disposeNet } from '../core/nets';
import { checkTopology } from './modelShapes';

type Topology = { config: { layers: { class_name: string; name?: string; config: Record<string, unknown>; inbound_nodes: unknown }[]; input_layers: unknown; output_layers: unknown } };
type Spec = { name: string; shape: number[] };

/** The topology and weight specs of a folded two-head export of `kind` (width 1/8). */
async function exported(kind: NetKind): Promise<{ top: Topology; specs: Spec[] }> {
  const source = buildNet(kind, 1, 1 / 8);
  addHead(source, 'a', 10, 1);
  const target = buildNet(kind, 2, 1 / 8);
  addHead(target, 'a', 10, 2);
  addHead(target, 'b', 5, 3);
  const combined = buildCombined(source, target);
  const folded = foldCombined(combined);
  const model = toLayersModel(folded);
  const artifacts: tf.io.ModelArtifacts = await modelArtifacts(model);
  model.dispose();
  disposeCombinedAlphas(combined);
  [source, target, folded].forEach(disposeNet);
  return { top: JSON.parse(JSON.stringify(artifacts.modelTopology)) as Topology, specs: artifacts.weightSpecs as Spec[] };
}

const layer = (top: Topology, name: string) => top.config.layers.find((l) => l.config.name === name)!;

describe('checkTopology (imported models, before tfjs builds them)', () => {
  it('passes the lab\'s own exports of every net', async () => {
    for (const kind of ['mlp', 'conv4', 'resnet8'] as const) {
      const { top, specs } = await exported(kind);
      expect(() => checkTopology(top, specs), kind).not.toThrow();
    }
  });

  it('refuses sizes the weights do not have, before anything is allocated', async () => {
    const { top, specs } = await exported('mlp');
    layer(top, 'fc1').config.units = 500_000;
    expect(() => checkTopology(top, specs)).toThrow(/weight fc1\/kernel has shape \[784,50\]; its layer needs \[784,500000\]/);
    layer(top, 'fc1').config.units = 1e15;
    expect(() => checkTopology(top, specs)).toThrow(/layer "fc1" \(Dense\) units must be a whole number from 1 to 1048576 \(got 1000000000000000\)/);
  });

  it('refuses a layer without its top-level name (tfjs would loop forever building it)', async () => {
    const { top, specs } = await exported('mlp');
    delete layer(top, 'flatten').name;
    expect(() => checkTopology(top, specs)).toThrow(/layer 2 \("flatten"\) must carry the same name at its top level and in its config/);
  });

  it('refuses joins of different shapes, dangling layers, unknown types, other inputs and missing weights', async () => {
    const cases: [(t: Topology, s: Spec[]) => Spec[] | void, RegExp][] = [
      [(t) => { layer(t, 'b2_conv2_add').inbound_nodes = [[['b2_conv2', 0, 0, {}], ['stem', 0, 0, {}]]]; }, /joins inputs of different shapes \[14,14,4\] and \[28,28,2\]/],
      [(t) => { t.config.output_layers = [['head_a', 0, 0]]; }, /layer "head_b" leads to no output/],
      [(t) => { layer(t, 'gap').class_name = 'UpSampling2D'; }, /type "UpSampling2D"; the importer reads InputLayer, Dense/],
      [(t) => { layer(t, 'image').config.batch_input_shape = [null, 28, 28, 3]; }, /the input must be \[null, 28, 28, 1\] images/],
      // found by the import fuzz: a number as the input's dtype reached tfjs's feed cast (an internal error)
      [(t) => { layer(t, 'image').config.dtype = 1.5; }, /layer "image" \(InputLayer\): dtype must be float32 \(got 1.5\)/],
      [(t) => { layer(t, 'stem').config.dtype = 'int32'; }, /layer "stem" \(Conv2D\): dtype must be float32 \(got "int32"\)/],
      [(_t, s) => s.filter((w) => w.name !== 'stem/bias'), /weight stem\/bias is missing/],
      [(_t, s) => [...s, { name: 'extra/kernel', shape: [1] }], /weight extra\/kernel belongs to no layer/],
      [(t) => { layer(t, 'b2_conv1').config.strides = [0, 0]; }, /strides must be a whole number from 1 to 1024 \(got 0\)/],
      [(t) => { layer(t, 'b1_conv1').inbound_nodes = [[['b1_conv2', 0, 0, {}]]]; }, /takes its input from "b1_conv2", which is not an earlier layer/],
    ];
    for (const [mutate, message] of cases) {
      const { top, specs } = await exported('resnet8');
      const s = mutate(top, specs) ?? specs;
      expect(() => checkTopology(top, s)).toThrow(message);
    }
  });
});
