// Building blocks of the WGSL programs in this folder: tfjs-backend-webgpu's program interface
// (runWebGPUProgram compiles getUserCode() once per shaderKey and input shapes, binds the output
// as `result` and the inputs by variableNames, and appends `uniforms` to its uniform struct).
import type * as tf from '@tensorflow/tfjs';

export interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms?: string;
  getUserCode(): string;
}

export type Uniform = { type: 'float32' | 'int32'; data: number[] };

export interface WebGPUBackendLike {
  runWebGPUProgram(p: Program, inputs: tf.TensorInfo[], dtype: tf.DataType, uniforms?: Uniform[]): tf.TensorInfo;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

export const WG = 256;

/** The index of this workgroup in a dispatch that tfjs may have folded into 2-D or 3-D (over 65535 workgroups). */
export const WORKGROUP_INDEX = `fn wgIndex() -> i32 {
  return i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
}`;

/** Sum of `value` over the workgroup's 256 threads, in workgroup memory `red`; every thread gets it. */
export const WORKGROUP_SUM = `var<workgroup> red: array<f32, ${WG}>;
fn wgSum(value: f32) -> f32 {
  let t = i32(localId.x);
  workgroupBarrier();
  red[t] = value;
  workgroupBarrier();
  for (var k = ${WG / 2}; k > 0; k = k >> 1u) {
    if (t < k) { red[t] = red[t] + red[t + k]; }
    workgroupBarrier();
  }
  return red[0];
}
fn wgMax(value: f32) -> f32 {
  let t = i32(localId.x);
  workgroupBarrier();
  red[t] = value;
  workgroupBarrier();
  for (var k = ${WG / 2}; k > 0; k = k >> 1u) {
    if (t < k) { red[t] = max(red[t], red[t + k]); }
    workgroupBarrier();
  }
  return red[0];
}`;

/** One thread per output element. */
export function elementwiseProgram(key: string, variableNames: string[], outputShape: number[], body: string, uniforms?: string): Program {
  const n = outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(n / WG), 1, 1],
    workgroupSize: [WG, 1, 1],
    size: true,
    ...(uniforms ? { uniforms } : {}),
    getUserCode: () => `fn main(index: i32) {\n  if (index < uniforms.size) {\n${body}\n  }\n}`,
  };
}

/** One workgroup per row of `rows`; `body` runs in every thread with `row` and `t` (thread in row) set. */
export function perRowProgram(key: string, variableNames: string[], outputShape: number[], rows: number, body: string, uniforms: string): Program {
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1],
    workgroupSize: [WG, 1, 1],
    size: false,
    uniforms,
    // Workgroups past the last row (a folded dispatch) redo the last row: no early return, which
    // would put the barriers in non-uniform control flow.
    getUserCode: () => `${WORKGROUP_INDEX}\n${WORKGROUP_SUM}\nfn main(index: i32) {\n  let row = min(wgIndex(), uniforms.rows - 1);\n  let t = i32(localId.x);\n${body}\n}`,
  };
}

