/** Tiny ONNX graphs built in code for the quantizer tests. */
import type { ModelProto, NodeProto, TensorProto } from '../../../scripts/quantize/onnx.ts';
import { encodeModel, makeFloatTensor, makeNode, tensorValueInfo } from '../../../scripts/quantize/onnx.ts';
import { DataType } from '../../../scripts/quantize/onnx-schema.ts';
import type { FeedSample } from '../../../scripts/quantize/index.ts';

/** Deterministic pseudo-random numbers in [0, 1) (LCG). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function randomTensor(name: string, dims: number[], scale: number, rand: () => number): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  return makeFloatTensor(name, dims, Array.from({ length: n }, () => (rand() * 2 - 1) * scale));
}

export function model(opset: number, nodes: NodeProto[], inits: TensorProto[], inputs: Array<[string, number[]]>, outputs: string[]): ModelProto {
  return {
    irVersion: opset >= 13 ? 7 : 6,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'portier-test',
    graph: {
      name: 'g',
      node: nodes,
      initializer: inits,
      input: inputs.map(([n, d]) => tensorValueInfo(n, DataType.FLOAT, d)),
      output: outputs.map((n) => tensorValueInfo(n, DataType.FLOAT)),
      valueInfo: [],
    },
  };
}

/**
 * y = Add(Conv_a(x) [+bias], Relu(Conv_b(x))): x [1, 3, 8, 8], both convs 4 output channels,
 * 3x3, pad 1. Opset 13 (or `opset`).
 */
export function convAddModel(opset = 13, seed = 1): Uint8Array {
  const r = rng(seed);
  const nodes = [
    makeNode('Conv', ['x', 'wa', 'ba'], ['ca'], 'conv_a', [
      { name: 'kernel_shape', type: 7, ints: [3, 3] },
      { name: 'pads', type: 7, ints: [1, 1, 1, 1] },
    ]),
    makeNode('Conv', ['x', 'wb'], ['cb'], 'conv_b', [
      { name: 'kernel_shape', type: 7, ints: [3, 3] },
      { name: 'pads', type: 7, ints: [1, 1, 1, 1] },
    ]),
    makeNode('Relu', ['cb'], ['rb'], 'relu_b'),
    makeNode('Add', ['ca', 'rb'], ['y'], 'add'),
  ];
  const inits = [randomTensor('wa', [4, 3, 3, 3], 0.5, r), randomTensor('ba', [4], 0.2, r), randomTensor('wb', [4, 3, 3, 3], 0.5, r)];
  return encodeModel(model(opset, nodes, inits, [['x', [1, 3, 8, 8]]], ['y']));
}

/** `count` inputs of `dims` for input `name`: smooth patterns plus noise, values in about [-1, 1]. */
export function samples(count: number, dims: number[], seed = 7, name = 'x'): FeedSample[] {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const w = dims[dims.length - 1];
  return Array.from({ length: count }, () => {
    const f = 0.2 + r();
    const ph = r() * 6;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = 0.7 * Math.sin((i % w) * f + ph + Math.floor(i / w) * 0.3) + (r() - 0.5) * 0.3;
    return { [name]: { data, dims } };
  });
}
