/**
 * A deliberately naive TFLite interpreter: NHWC, float, direct loops over the file's own ops and
 * weights, nothing shared with the converter but the flatbuffer reader. It is slow (about a
 * second a face) and exists to give reference outputs the converted ONNX graph is checked against;
 * PReLU stays the five ops the file spells it as, so the fold is checked too.
 */
import type { Activation, ConvOptions, TfliteModel, TfliteOperator } from './reader.ts';
import { tensorFloats, tensorInts } from './reader.ts';

interface Value {
  data: Float32Array;
  shape: number[];
}

function activate(v: Float32Array, act: Activation | undefined): void {
  if (!act || act === 'NONE') return;
  if (act !== 'RELU' && act !== 'RELU6') throw new Error(`activation ${act} not implemented`);
  const hi = act === 'RELU6' ? 6 : Infinity;
  for (let i = 0; i < v.length; i++) v[i] = Math.min(Math.max(v[i], 0), hi);
}

/** TensorFlow's output size and leading pad for one spatial axis. */
function axis(inSize: number, k: number, stride: number, dil: number, padding: string): { out: number; before: number } {
  const eff = (k - 1) * dil + 1;
  if (padding === 'VALID') return { out: Math.floor((inSize - eff) / stride) + 1, before: 0 };
  const out = Math.ceil(inSize / stride);
  return { out, before: Math.floor(Math.max((out - 1) * stride + eff - inSize, 0) / 2) };
}

function conv2d(x: Value, w: Float32Array, wShape: number[], bias: Float32Array | undefined, c: ConvOptions, depthwise: boolean): Value {
  const [n, H, W, C] = x.shape;
  const [, kh, kw] = wShape;
  const O = depthwise ? wShape[3] : wShape[0];
  const ay = axis(H, kh, c.strideH, c.dilationH, c.padding);
  const ax = axis(W, kw, c.strideW, c.dilationW, c.padding);
  const out = new Float32Array(n * ay.out * ax.out * O);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < ay.out; oy++)
      for (let ox = 0; ox < ax.out; ox++)
        for (let o = 0; o < O; o++) {
          let s = bias ? bias[o] : 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * c.strideH - ay.before + ky * c.dilationH;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * c.strideW - ax.before + kx * c.dilationW;
              if (ix < 0 || ix >= W) continue;
              const xi = ((b * H + iy) * W + ix) * C;
              if (depthwise) {
                // Weights [1, kh, kw, C*m]: output o reads input channel floor(o / m).
                s += x.data[xi + Math.floor(o / c.depthMultiplier)] * w[(ky * kw + kx) * O + o];
              } else {
                const wi = ((o * kh + ky) * kw + kx) * C; // OHWI
                for (let ci = 0; ci < C; ci++) s += x.data[xi + ci] * w[wi + ci];
              }
            }
          }
          out[((b * ay.out + oy) * ax.out + ox) * O + o] = s;
        }
  return { data: out, shape: [n, ay.out, ax.out, O] };
}

/** Elementwise with NumPy broadcasting of the smaller operand over the trailing axes. */
function binary(a: Value, b: Value, f: (x: number, y: number) => number): Value {
  const big = a.data.length >= b.data.length ? a : b;
  const out = new Float32Array(big.data.length);
  const na = a.data.length;
  const nb = b.data.length;
  if (big.data.length % na || big.data.length % nb) throw new Error(`cannot broadcast [${a.shape}] with [${b.shape}]`);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i % na], b.data[i % nb]);
  return { data: out, shape: big.shape };
}

/** Runs the model on an NHWC input of any batch size; returns the graph output. */
export function interpret(m: TfliteModel, input: Float32Array, batch: number): Value {
  const values = new Map<number, Value>();
  const inShape = [batch, ...m.tensors[m.inputs[0]].shape.slice(1)];
  if (input.length !== inShape.reduce((a, b) => a * b, 1)) throw new Error(`input has ${input.length} values, expected [${inShape}]`);
  values.set(m.inputs[0], { data: input, shape: inShape });
  const get = (t: number): Value => {
    const v = values.get(t);
    if (v) return v;
    const tt = m.tensors[t];
    if (!tt.data) throw new Error(`tensor '${tt.name}' read before it was written`);
    const c = { data: tensorFloats(tt), shape: tt.shape };
    values.set(t, c);
    return c;
  };
  const run = (o: TfliteOperator): Value => {
    switch (o.op) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const w = m.tensors[o.inputs[1]];
        const bias = o.inputs[2] !== undefined && o.inputs[2] >= 0 ? tensorFloats(m.tensors[o.inputs[2]]) : undefined;
        const v = conv2d(get(o.inputs[0]), tensorFloats(w), w.shape, bias, o.conv!, o.op === 'DEPTHWISE_CONV_2D');
        activate(v.data, o.conv!.activation);
        return v;
      }
      case 'ADD':
      case 'SUB':
      case 'MUL': {
        const f = o.op === 'ADD' ? (x: number, y: number) => x + y : o.op === 'SUB' ? (x: number, y: number) => x - y : (x: number, y: number) => x * y;
        const v = binary(get(o.inputs[0]), get(o.inputs[1]), f);
        activate(v.data, o.activation);
        return v;
      }
      case 'RELU':
        return { data: get(o.inputs[0]).data.map((x) => Math.max(x, 0)), shape: get(o.inputs[0]).shape };
      case 'ABS':
        return { data: get(o.inputs[0]).data.map(Math.abs), shape: get(o.inputs[0]).shape };
      case 'RESHAPE': {
        const x = get(o.inputs[0]);
        const shape = o.newShape?.length ? [...o.newShape] : tensorInts(m.tensors[o.inputs[1]]);
        // The file's shape carries its fixed batch; keep ours and let -1 / the rest follow.
        shape[0] = batch;
        const known = shape.reduce((a, d) => (d > 0 ? a * d : a), 1);
        return { data: x.data, shape: shape.map((d) => (d < 0 ? x.data.length / known : d)) };
      }
      default:
        throw new Error(`interpreter: ${o.op} not implemented`);
    }
  };
  for (const o of m.operators) values.set(o.outputs[0], run(o));
  return get(m.outputs[0]);
}
