/**
 * TOCO spells PReLU out as five ops, which onnxruntime would run as five passes over the tensor
 * and which our quantizer could not put in int8:
 *
 *   r = RELU(x); a = ABS(x); s = SUB(x, a); m = MUL(c, s); y = ADD(r, m)
 *
 * For x >= 0 that is x; for x < 0, x - |x| = 2x, so y = 2c * x: a PRelu with slope 2c (exact in
 * float too, since doubling is exact). This finds those groups so the converter can emit one
 * PRelu for each.
 */
import type { TfliteModel, TfliteOperator } from './reader.ts';

export interface PreluGroup {
  /** Index of the RELU op that starts the group (the converter emits the PRelu there). */
  at: number;
  /** All five op indices, to skip when converting. */
  ops: number[];
  input: number;
  output: number;
  /** Tensor holding c (per channel); the slope is 2c. */
  halfSlope: number;
}

export function findPreluGroups(m: TfliteModel): PreluGroup[] {
  const consumers = new Map<number, TfliteOperator[]>();
  for (const o of m.operators) for (const i of o.inputs) if (i >= 0) consumers.set(i, [...(consumers.get(i) ?? []), o]);
  const only = (t: number, op: string): TfliteOperator | undefined => {
    const c = consumers.get(t) ?? [];
    return c.length === 1 && c[0].op === op && !m.outputs.includes(t) ? c[0] : undefined;
  };
  const constant = (t: number) => m.tensors[t].data !== undefined;
  const plain = (o: TfliteOperator) => (o.activation ?? 'NONE') === 'NONE';
  const groups: PreluGroup[] = [];
  for (const relu of m.operators) {
    if (relu.op !== 'RELU') continue;
    const x = relu.inputs[0];
    const xUsers = consumers.get(x) ?? [];
    const abs = xUsers.find((o) => o.op === 'ABS' && o.inputs[0] === x);
    const sub = xUsers.find((o) => o.op === 'SUB' && o.inputs[0] === x && abs && o.inputs[1] === abs.outputs[0]);
    if (!abs || !sub || !plain(sub) || !only(abs.outputs[0], 'SUB')) continue;
    const mul = only(sub.outputs[0], 'MUL');
    if (!mul || !plain(mul)) continue;
    const c = mul.inputs.find((i) => i !== sub.outputs[0]);
    if (c === undefined || !constant(c)) continue;
    const add = only(mul.outputs[0], 'ADD');
    if (!add || !plain(add) || !only(relu.outputs[0], 'ADD') || !add.inputs.includes(relu.outputs[0])) continue;
    groups.push({ at: relu.index, ops: [relu.index, abs.index, sub.index, mul.index, add.index], input: x, output: add.outputs[0], halfSlope: c });
  }
  return groups;
}
