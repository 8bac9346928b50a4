// The engine's fused kernels (adamw-kernel.ts, layer-ops-kernel.ts) for the webgpu backend, as
// WGSL programs run through tfjs-backend-webgpu's runWebGPUProgram: the same kernel names as on
// wasm, so fast-ops.ts and optim.ts call them the same way. Each replaces a chain of tf ops (one
// GPU dispatch each, ~0.5 ms of fixed cost apiece on a real GPU through tfjs) with one to four
// dispatches. Hand-written: tfjs has no fused AdamW, LayerNorm, GELU or cross-entropy kernels.
// A program has one output (tfjs binds it as `result`), so a kernel with several outputs runs one
// program per output. Inputs are `array<f32>` (or i32) named as in variableNames.
import * as tf from '@tensorflow/tfjs';
import type { AdamWAttrs } from '../adamw-kernel.js';
import { WG, WORKGROUP_INDEX, WORKGROUP_SUM, elementwiseProgram as elementwise, perRowProgram as perRow, type Program, type Uniform, type WebGPUBackendLike } from './programs.js';

const sizeOf = (t: tf.TensorInfo) => t.shape.reduce((a, b) => a * b, 1);

// ---------- AdamW ----------

const ADAMW_UNIFORMS = 'stepSize : f32, beta1 : f32, beta2 : f32, invBias2 : f32, eps : f32, decayFactor : f32, gradScale : f32,';

/** p', m' or v' of one AdamW step (the three programs share the moment arithmetic; each writes one). */
function adamWProgram(shape: number[], which: 'p' | 'm' | 'v'): Program {
  const out = { m: 'm', v: 'v', p: 'p * uniforms.decayFactor - uniforms.stepSize * m / (sqrt(v * uniforms.invBias2) + uniforms.eps)' }[which];
  return elementwise(
    `rlhf_adamw_${which}`,
    ['P', 'G', 'M', 'V'],
    shape,
    // Every variant reads P: WebGPU's automatic layout would drop an unread binding, which tfjs always binds.
    `    let p = P[index];
    let g = G[index] * uniforms.gradScale;
    let m = uniforms.beta1 * M[index] + (1.0 - uniforms.beta1) * g;
    let v = uniforms.beta2 * V[index] + (1.0 - uniforms.beta2) * g * g;
    result[index] = ${out};`,
    ADAMW_UNIFORMS,
  );
}

function adamW({ inputs, attrs, backend }: { inputs: Record<'p' | 'g' | 'm' | 'v', tf.TensorInfo>; attrs: AdamWAttrs; backend: WebGPUBackendLike }): tf.TensorInfo[] {
  const { p, g, m, v } = inputs;
  const a = attrs;
  const uniforms: Uniform[] = [a.stepSize, a.beta1, a.beta2, a.invBias2, a.eps, a.decayFactor, a.gradScale].map((x) => ({ type: 'float32', data: [x] }));
  return (['p', 'm', 'v'] as const).map((w) => backend.runWebGPUProgram(adamWProgram(p.shape, w), [p, g, m, v], 'float32', uniforms));
}

/** Workgroups of the first pass of a reduction over n elements: enough to fill a GPU, ≥ 2048 elements each. */
const partsFor = (n: number) => Math.max(1, Math.min(1024, Math.ceil(n / (WG * 8))));

/** Σ x² over the workgroup's strided share of x: one partial sum per workgroup. */
function sumSquaresPartsProgram(parts: number): Program {
  return {
    ...perRow('rlhf_sum_squares_parts', ['X'], [parts], parts, '', 'rows : i32, n : i32,'),
    getUserCode: () => `${WORKGROUP_INDEX}\n${WORKGROUP_SUM}\nfn main(index: i32) {
  let part = min(wgIndex(), uniforms.rows - 1);
  let t = i32(localId.x);
  var s = 0.0;
  for (var i = part * ${WG} + t; i < uniforms.n; i = i + uniforms.rows * ${WG}) { let x = X[i]; s = s + x * x; }
  let total = wgSum(s);
  if (t == 0) { result[part] = total; }
}`,
  };
}

/** prev + Σ parts, one workgroup. */
function addPartsProgram(): Program {
  return {
    ...perRow('rlhf_add_parts', ['Prev', 'Parts'], [1], 1, '', 'rows : i32, n : i32,'),
    getUserCode: () => `${WORKGROUP_INDEX}\n${WORKGROUP_SUM}\nfn main(index: i32) {
  let t = i32(localId.x);
  var s = 0.0;
  for (var i = t; i < uniforms.n; i = i + ${WG}) { s = s + Parts[i]; }
  let total = wgSum(s);
  if (t == 0) { result[0] = Prev[0] + total; }
}`,
  };
}

function sumOfSquares({ inputs, backend }: { inputs: Record<string, tf.TensorInfo>; backend: WebGPUBackendLike }): tf.TensorInfo {
  // Per tensor: partial sums over many workgroups (one workgroup alone took 183 ms over GPT-2's
  // 124M gradients on an H200), then added to the running total. Two inputs per program at most
  // (WebGPU's default is 8 storage buffers a stage).
  let acc = backend.makeTensorInfo([1], 'float32', new Float32Array([0]));
  const made: tf.TensorInfo[] = [acc];
  for (const x of Object.values(inputs)) {
    const n = sizeOf(x);
    const parts = partsFor(n);
    const partial = backend.runWebGPUProgram(sumSquaresPartsProgram(parts), [x], 'float32', [{ type: 'int32', data: [parts] }, { type: 'int32', data: [n] }]);
    acc = backend.runWebGPUProgram(addPartsProgram(), [acc, partial], 'float32', [{ type: 'int32', data: [1] }, { type: 'int32', data: [parts] }]);
    made.push(partial, acc);
  }
  for (const t of made.slice(0, -1)) backend.disposeData(t.dataId);
  return { ...acc, shape: [] };
}

// ---------- LayerNorm, GELU, target log-probabilities ----------

const ROW_UNIFORMS = 'rows : i32, cols : i32,';
const rowUniforms = (rows: number, cols: number): Uniform[] => [
  { type: 'int32', data: [rows] },
  { type: 'int32', data: [cols] },
];

/** Row statistics of x [n, C] (two-pass, as the wasm kernel): mean or 1/√(var + eps). */
function layerNormStat(n: number, C: number, stat: 'mean' | 'rstd'): Program {
  return perRow(
    `rlhf_ln_${stat}`,
    ['X'],
    [n],
    n,
    `  let base = row * uniforms.cols;
  var s = 0.0;
  for (var j = t; j < uniforms.cols; j = j + ${WG}) { s = s + X[base + j]; }
  let mean = wgSum(s) / f32(uniforms.cols);
  ${
    stat === 'mean'
      ? 'if (t == 0) { result[row] = mean; }'
      : `var q = 0.0;
  for (var j = t; j < uniforms.cols; j = j + ${WG}) { let d = X[base + j] - mean; q = q + d * d; }
  let variance = wgSum(q) / f32(uniforms.cols);
  if (t == 0) { result[row] = inverseSqrt(variance + uniforms.eps); }`
  }`,
    `${ROW_UNIFORMS} eps : f32,`,
  );
}

function layerNormTrain({ inputs, attrs, backend }: { inputs: Record<'x' | 'g' | 'b', tf.TensorInfo>; attrs: { eps: number }; backend: WebGPUBackendLike }): tf.TensorInfo[] {
  const { x, g, b } = inputs;
  const [n, C] = x.shape as [number, number];
  const u = [...rowUniforms(n, C), { type: 'float32' as const, data: [attrs.eps] }];
  const mean = backend.runWebGPUProgram(layerNormStat(n, C, 'mean'), [x], 'float32', u);
  const rstd = backend.runWebGPUProgram(layerNormStat(n, C, 'rstd'), [x], 'float32', u);
  const xhat = backend.runWebGPUProgram(
    elementwise('rlhf_ln_xhat', ['X', 'Mean', 'Rstd'], [n, C], '    let r = index / uniforms.cols;\n    result[index] = (X[index] - Mean[r]) * Rstd[r];', 'cols : i32,'),
    [x, mean, rstd],
    'float32',
    [{ type: 'int32', data: [C] }],
  );
  backend.disposeData(mean.dataId);
  const y = backend.runWebGPUProgram(
    elementwise('rlhf_ln_y', ['Xhat', 'Gamma', 'Beta'], [n, C], '    let c = index % uniforms.cols;\n    result[index] = Xhat[index] * Gamma[c] + Beta[c];', 'cols : i32,'),
    [xhat, g, b],
    'float32',
    [{ type: 'int32', data: [C] }],
  );
  return [y, xhat, rstd];
}

/** Rows per block of the column sums' first pass. */
const COLUMN_BLOCK = 32;

/**
 * Σ over rows of dy·x̂ (dγ) or dy (dβ) for [n, C] inputs in two passes: sums over blocks of 32 rows
 * ([⌈n/32⌉, C], one thread per block and column), then over the blocks. One thread per column
 * over all rows took ~0.9 ms a call at GPT-2's shapes on an H200 (768 threads cannot fill it).
 */
function columnSums(backend: WebGPUBackendLike, n: number, C: number, inputs: tf.TensorInfo[]): tf.TensorInfo {
  const blocks = Math.ceil(n / COLUMN_BLOCK);
  const withXhat = inputs.length === 2;
  const partial = backend.runWebGPUProgram(
    elementwise(
      withXhat ? 'rlhf_colsum_dy_xhat' : 'rlhf_colsum_dy',
      withXhat ? ['Dy', 'Xhat'] : ['Dy'],
      [blocks, C],
      `    let blk = index / uniforms.cols;
    let c = index % uniforms.cols;
    var s = 0.0;
    let end = min(uniforms.rows, (blk + 1) * ${COLUMN_BLOCK});
    for (var r = blk * ${COLUMN_BLOCK}; r < end; r = r + 1) { let i = r * uniforms.cols + c; s = s + Dy[i]${withXhat ? ' * Xhat[i]' : ''}; }
    result[index] = s;`,
      ROW_UNIFORMS,
    ),
    inputs,
    'float32',
    rowUniforms(n, C),
  );
  const sums = backend.runWebGPUProgram(
    elementwise('rlhf_colsum_blocks', ['P'], [C], `    var s = 0.0;\n    for (var r = 0; r < uniforms.rows; r = r + 1) { s = s + P[r * uniforms.cols + index]; }\n    result[index] = s;`, ROW_UNIFORMS),
    [partial],
    'float32',
    rowUniforms(blocks, C),
  );
  backend.disposeData(partial.dataId);
  return sums;
}

function layerNormGrad({ inputs, backend }: { inputs: Record<'dy' | 'xhat' | 'rstd' | 'g', tf.TensorInfo>; backend: WebGPUBackendLike }): tf.TensorInfo[] {
  const { dy, xhat, rstd, g } = inputs;
  const [n, C] = xhat.shape as [number, number];
  const u = rowUniforms(n, C);
  // dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ: both means in one workgroup per row.
  const dx = backend.runWebGPUProgram(
    perRow(
      'rlhf_ln_dx',
      ['Dy', 'Xhat', 'Rstd', 'Gamma'],
      [n, C],
      n,
      `  let base = row * uniforms.cols;
  var s1 = 0.0;
  var s2 = 0.0;
  for (var j = t; j < uniforms.cols; j = j + ${WG}) { let d = Dy[base + j] * Gamma[j]; s1 = s1 + d; s2 = s2 + d * Xhat[base + j]; }
  let m1 = wgSum(s1) / f32(uniforms.cols);
  let m2 = wgSum(s2) / f32(uniforms.cols);
  let r = Rstd[row];
  for (var j = t; j < uniforms.cols; j = j + ${WG}) {
    let d = Dy[base + j] * Gamma[j];
    result[base + j] = r * (d - m1 - Xhat[base + j] * m2);
  }`,
      ROW_UNIFORMS,
    ),
    [dy, xhat, rstd, g],
    'float32',
    u,
  );
  const dg = columnSums(backend, n, C, [dy, xhat]);
  const db = columnSums(backend, n, C, [dy]);
  return [dx, dg, db];
}

const GELU_C = Math.sqrt(2 / Math.PI);
/** gelu_new as x·σ(2u), u = √(2/π)(x + 0.044715x³), as layer-ops.c computes it. */
const GELU_SIGMA = `let x = X[index];
    let x2 = x * x;
    let s = 1.0 / (1.0 + exp(-(x * (x2 * ${(2 * GELU_C * 0.044715).toFixed(12)} + ${(2 * GELU_C).toFixed(12)}))));`;

function geluTrain({ inputs: { x }, backend }: { inputs: Record<'x', tf.TensorInfo>; backend: WebGPUBackendLike }): tf.TensorInfo {
  return backend.runWebGPUProgram(elementwise('rlhf_gelu', ['X'], x.shape, `    ${GELU_SIGMA}\n    result[index] = x * s;`), [x], 'float32');
}

function geluGrad({ inputs: { x, dy }, backend }: { inputs: Record<'x' | 'dy', tf.TensorInfo>; backend: WebGPUBackendLike }): tf.TensorInfo {
  return backend.runWebGPUProgram(
    elementwise(
      'rlhf_gelu_grad',
      ['X', 'Dy'],
      x.shape,
      `    ${GELU_SIGMA}
    let du2 = x2 * ${(2 * GELU_C * 3 * 0.044715).toFixed(12)} + ${(2 * GELU_C).toFixed(12)};
    result[index] = Dy[index] * (s + x * s * (1.0 - s) * du2);`,
    ),
    [x, dy],
    'float32',
  );
}

function targetLogprobs({ inputs: { l, t }, backend }: { inputs: Record<'l' | 't', tf.TensorInfo>; backend: WebGPUBackendLike }): tf.TensorInfo[] {
  const [n, V] = l.shape as [number, number];
  const u = rowUniforms(n, V);
  // log Σ exp over each row of logits, max-shifted: one workgroup per row.
  const lse = backend.runWebGPUProgram(
    perRow(
      'rlhf_lse',
      ['L'],
      [n],
      n,
      `  let base = row * uniforms.cols;
  var m = -3.4e38;
  for (var j = t; j < uniforms.cols; j = j + ${WG}) { m = max(m, L[base + j]); }
  let mx = wgMax(m);
  var s = 0.0;
  for (var j = t; j < uniforms.cols; j = j + ${WG}) { s = s + exp(L[base + j] - mx); }
  let total = wgSum(s);
  if (t == 0) { result[row] = mx + log(total); }`,
      ROW_UNIFORMS,
    ),
    [l],
    'float32',
    u,
  );
  // A target outside [0, V) reads as NaN rather than another row's logit.
  const out = backend.runWebGPUProgram(
    elementwise('rlhf_target_logprob', ['L', 'T', 'Lse'], [n], '    let k = T[index];\n    if (k < 0 || k >= uniforms.cols) { result[index] = uniforms.NAN; } else { result[index] = L[index * uniforms.cols + k] - Lse[index]; }', 'cols : i32,'),
    [l, t, lse],
    'float32',
    [{ type: 'int32', data: [V] }],
  );
  return [out, lse];
}

function targetLogprobsGrad({ inputs: { l, t, lse, dy }, backend }: { inputs: Record<'l' | 't' | 'lse' | 'dy', tf.TensorInfo>; backend: WebGPUBackendLike }): tf.TensorInfo {
  const [n, V] = l.shape as [number, number];
  return backend.runWebGPUProgram(
    elementwise(
      'rlhf_target_logprob_grad',
      ['L', 'T', 'Lse', 'Dy'],
      [n, V],
      `    let r = index / uniforms.cols;
    let j = index % uniforms.cols;
    let p = exp(L[index] - Lse[r]);
    result[index] = Dy[r] * (select(0.0, 1.0, T[r] == j) - p);`,
      'cols : i32,',
    ),
    [l, t, lse, dy],
    'float32',
    [{ type: 'int32', data: [V] }],
  );
}

const KERNELS: Record<string, (args: never) => tf.TensorInfo | tf.TensorInfo[]> = {
  // adamw-kernel.ts' ADAMW_KERNEL and SUM_SQUARES_KERNEL (literal here: that module imports this one).
  RlhfAdamWUpdate: adamW,
  RlhfSumOfSquares: sumOfSquares,
  RlhfLayerNormTrain: layerNormTrain,
  RlhfLayerNormGrad: layerNormGrad,
  RlhfGeluTrain: geluTrain,
  RlhfGeluGrad: geluGrad,
  RlhfTargetLogprobs: targetLogprobs,
  RlhfTargetLogprobsGrad: targetLogprobsGrad,
};

/** Register the fused kernels for the webgpu backend (once); true when that is the backend in use. */
export function webgpuKernelsAvailable(): boolean {
  if (tf.getBackend() !== 'webgpu') return false;
  for (const [kernelName, f] of Object.entries(KERNELS))
    if (!tf.getKernel(kernelName, 'webgpu')) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: f as unknown as tf.KernelFunc });
  return true;
}
