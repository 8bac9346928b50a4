// Causal multi-head attention for the webgpu backend as WGSL programs under the kernel names of
// attention-kernel.ts (forward: probabilities + output, two dispatches; backward: dS + dqkv, two
// dispatches, three when the probabilities are recomputed), where tf ops take ~35 dispatches a
// layer. Layouts as on wasm: qkv [B·T, 3C] (q, k, v side by side, heads side by side within each),
// probabilities [B·H·T, T], the gradient in qkv's layout. Causality is applied regardless of the
// additive mask [B or 1, 1, T, T]. Hand-written: tfjs has no fused attention. Straightforward
// kernels (one workgroup per query row, one thread per output element): attention is a small part
// of a GPT-2 step's arithmetic next to the matMuls.
import * as tf from '@tensorflow/tfjs';
import { WG, elementwiseProgram, perRowProgram, type Uniform, type WebGPUBackendLike } from './programs.js';

const FORWARD = 'RlhfCausalAttention';
const BACKWARD = 'RlhfCausalAttentionGrad';

type Attrs = { batch: number; seqLen: number; heads: number; keepProbs?: boolean };

const UNIFORMS = 'rows : i32, B : i32, T : i32, C : i32, H : i32, maskBatch : i32, scale : f32,';
/** rows = B·H·T, the query rows of the per-row programs. */
const uniforms = (B: number, T: number, C: number, H: number, maskBatch: number): Uniform[] => [
  ...[B * H * T, B, T, C, H, maskBatch].map((x) => ({ type: 'int32' as const, data: [x] })),
  { type: 'float32', data: [1 / Math.sqrt(C / H)] },
];

/** Row `row` of the B·H·T query rows: b, h, i and the qkv row of the query. */
const ROW_INDEX = `let i = row % uniforms.T;
  let bh = row / uniforms.T;
  let h = bh % uniforms.H;
  let b = bh / uniforms.H;
  let hd = uniforms.C / uniforms.H;
  let qBase = (b * uniforms.T + i) * 3 * uniforms.C + h * hd;`;

/** scale·q_i·k_j + mask, for key j ≤ i. */
function scoreFn(withMask: boolean): string {
  return `fn score(b: i32, h: i32, i: i32, j: i32, qBase: i32) -> f32 {
  let hd = uniforms.C / uniforms.H;
  let kBase = (b * uniforms.T + j) * 3 * uniforms.C + uniforms.C + h * hd;
  var s = 0.0;
  for (var d = 0; d < hd; d = d + 1) { s = s + QKV[qBase + d] * QKV[kBase + d]; }
  s = s * uniforms.scale;
  ${withMask ? 'let mb = select(b, 0, uniforms.maskBatch == 1);\n  s = s + Mask[(mb * uniforms.T + i) * uniforms.T + j];' : ''}
  return s;
}`;
}

/** Longest context and head size whose scores and query row fit the programs' workgroup memory. */
const MAX_T = 1024;
const MAX_HD = 256;
const SHARED = `var<workgroup> rowScores: array<f32, ${MAX_T}>;\nvar<workgroup> rowVec: array<f32, ${MAX_HD}>;`;

/** scale·q·k_j + mask with the query row in workgroup memory. */
function sharedScoreFn(withMask: boolean): string {
  return `fn sharedScore(b: i32, h: i32, i: i32, j: i32) -> f32 {
  let hd = uniforms.C / uniforms.H;
  let kBase = (b * uniforms.T + j) * 3 * uniforms.C + uniforms.C + h * hd;
  var s = 0.0;
  for (var d = 0; d < hd; d = d + 1) { s = s + rowVec[d] * QKV[kBase + d]; }
  s = s * uniforms.scale;
  ${withMask ? 'let mb = select(b, 0, uniforms.maskBatch == 1);\n  s = s + Mask[(mb * uniforms.T + i) * uniforms.T + j];' : ''}
  return s;
}`;
}

/**
 * Softmax probabilities [B·H·T, T] (zero above the diagonal): one workgroup per query row, the
 * query row and the row's scores in workgroup memory (each score computed once) when they fit,
 * else recomputed per pass.
 */
function probsProgram(rows: number, T: number, hd: number, withMask: boolean) {
  const shared = T <= MAX_T && hd <= MAX_HD;
  const body = shared
    ? `  ${ROW_INDEX}
  for (var d = t; d < hd; d = d + ${WG}) { rowVec[d] = QKV[qBase + d]; }
  workgroupBarrier();
  var m = -3.4e38;
  for (var j = t; j <= i; j = j + ${WG}) { let v = sharedScore(b, h, i, j); rowScores[j] = v; m = max(m, v); }
  let mx = wgMax(m);
  var s = 0.0;
  for (var j = t; j <= i; j = j + ${WG}) { let e = exp(rowScores[j] - mx); rowScores[j] = e; s = s + e; }
  let total = wgSum(s);
  for (var j = t; j < uniforms.T; j = j + ${WG}) {
    var pj = 0.0;
    if (j <= i) { pj = rowScores[j] / total; }
    result[row * uniforms.T + j] = pj;
  }`
    : `  ${ROW_INDEX}
  var m = -3.4e38;
  for (var j = t; j <= i; j = j + ${WG}) { m = max(m, score(b, h, i, j, qBase)); }
  let mx = wgMax(m);
  var s = 0.0;
  for (var j = t; j <= i; j = j + ${WG}) { s = s + exp(score(b, h, i, j, qBase) - mx); }
  let total = wgSum(s);
  for (var j = t; j < uniforms.T; j = j + ${WG}) {
    var pj = 0.0;
    if (j <= i) { pj = exp(score(b, h, i, j, qBase) - mx) / total; }
    result[row * uniforms.T + j] = pj;
  }`;
  const p = perRowProgram(`rlhf_attn_probs${withMask ? '_mask' : ''}${shared ? '_shared' : ''}`, withMask ? ['QKV', 'Mask'] : ['QKV'], [rows, T], rows, body, UNIFORMS);
  const user = p.getUserCode;
  return { ...p, getUserCode: () => `${shared ? `${SHARED}\n${sharedScoreFn(withMask)}` : scoreFn(withMask)}\n${user()}` };
}

/** out [B·T, C]: Σ_j P[b,h,i,j]·v_j, one thread per output element. */
function outputProgram(B: number, T: number, C: number) {
  return elementwiseProgram(
    'rlhf_attn_out',
    ['P', 'QKV'],
    [B * T, C],
    `    let r = index / uniforms.C;
    let c = index % uniforms.C;
    let b = r / uniforms.T;
    let i = r % uniforms.T;
    let hd = uniforms.C / uniforms.H;
    let h = c / hd;
    let pBase = ((b * uniforms.H + h) * uniforms.T + i) * uniforms.T;
    let vCol = 2 * uniforms.C + c;
    var s = 0.0;
    for (var j = 0; j <= i; j = j + 1) { s = s + P[pBase + j] * QKV[(b * uniforms.T + j) * 3 * uniforms.C + vCol]; }
    result[index] = s;`,
    UNIFORMS,
  );
}

/**
 * dS = P ⊙ (dP − Σ_j P·dP)·scale with dP_ij = dO_i·v_j, [B·H·T, T]: one workgroup per query row;
 * dO_i and the row's dP in workgroup memory when they fit, else dP computed twice.
 */
function dScoresProgram(rows: number, T: number, hd: number) {
  const shared = T <= MAX_T && hd <= MAX_HD;
  const dp = (into: string) => `let vBase = (b * uniforms.T + j) * 3 * uniforms.C + 2 * uniforms.C + h * hd;
    var ${into} = 0.0;
    for (var d = 0; d < hd; d = d + 1) { ${into} = ${into} + ${shared ? 'rowVec[d]' : 'Dy[dBase + d]'} * QKV[vBase + d]; }`;
  const p = perRowProgram(
    `rlhf_attn_ds${shared ? '_shared' : ''}`,
    ['Dy', 'QKV', 'P'],
    [rows, T],
    rows,
    `  ${ROW_INDEX}
  let dBase = (b * uniforms.T + i) * uniforms.C + h * hd;
  ${shared ? `for (var d = t; d < hd; d = d + ${WG}) { rowVec[d] = Dy[dBase + d]; }\n  workgroupBarrier();` : ''}
  var s = 0.0;
  for (var j = t; j <= i; j = j + ${WG}) {
    ${dp('dp')}
    ${shared ? 'rowScores[j] = dp;' : ''}
    s = s + P[row * uniforms.T + j] * dp;
  }
  let rowDot = wgSum(s);
  for (var j = t; j < uniforms.T; j = j + ${WG}) {
    var ds = 0.0;
    if (j <= i) {
      ${shared ? 'let dpj = rowScores[j];' : `${dp('dpj')}`}
      ds = P[row * uniforms.T + j] * (dpj - rowDot) * uniforms.scale;
    }
    result[row * uniforms.T + j] = ds;
  }`,
    UNIFORMS,
  );
  const user = p.getUserCode;
  return shared ? { ...p, getUserCode: () => `${SHARED}\n${user()}` } : p;
}

/** dqkv [B·T, 3C]: dq_t = Σ_{j≤t} dS[t,j]·k_j, dk_t = Σ_{i≥t} dS[i,t]·q_i, dv_t = Σ_{i≥t} P[i,t]·dO_i. */
function dqkvProgram(B: number, T: number, C: number) {
  return elementwiseProgram(
    'rlhf_attn_dqkv',
    ['Dy', 'QKV', 'P', 'DS'],
    [B * T, 3 * C],
    `    let r = index / (3 * uniforms.C);
    let col = index % (3 * uniforms.C);
    let part = col / uniforms.C;
    let c = col % uniforms.C;
    let b = r / uniforms.T;
    let t = r % uniforms.T;
    let hd = uniforms.C / uniforms.H;
    let h = c / hd;
    let sBase = (b * uniforms.H + h) * uniforms.T * uniforms.T;
    let rowStride = 3 * uniforms.C;
    var s = 0.0;
    if (part == 0) {
      for (var j = 0; j <= t; j = j + 1) { s = s + DS[sBase + t * uniforms.T + j] * QKV[(b * uniforms.T + j) * rowStride + uniforms.C + c]; }
    } else if (part == 1) {
      for (var i = t; i < uniforms.T; i = i + 1) { s = s + DS[sBase + i * uniforms.T + t] * QKV[(b * uniforms.T + i) * rowStride + c]; }
    } else {
      for (var i = t; i < uniforms.T; i = i + 1) { s = s + P[sBase + i * uniforms.T + t] * Dy[(b * uniforms.T + i) * uniforms.C + c]; }
    }
    result[index] = s;`,
    UNIFORMS,
  );
}

function maskBatchOf(mask: tf.TensorInfo | undefined, T: number): number {
  return mask ? mask.shape.reduce((a, b) => a * b, 1) / (T * T) : 0;
}

function probabilities(backend: WebGPUBackendLike, qkv: tf.TensorInfo, mask: tf.TensorInfo | undefined, a: Attrs): tf.TensorInfo {
  const { batch: B, seqLen: T, heads: H } = a;
  const C = qkv.shape[1]! / 3;
  const rows = B * H * T;
  return backend.runWebGPUProgram(probsProgram(rows, T, C / H, !!mask), mask ? [qkv, mask] : [qkv], 'float32', uniforms(B, T, C, H, maskBatchOf(mask, T)));
}

function forward({ inputs, attrs, backend }: { inputs: { qkv: tf.TensorInfo; mask?: tf.TensorInfo }; attrs: Attrs; backend: WebGPUBackendLike }): tf.TensorInfo[] {
  const { batch: B, seqLen: T, heads: H } = attrs;
  const C = inputs.qkv.shape[1]! / 3;
  const probs = probabilities(backend, inputs.qkv, inputs.mask, attrs);
  const out = backend.runWebGPUProgram(outputProgram(B, T, C), [probs, inputs.qkv], 'float32', uniforms(B, T, C, H, 0));
  if (attrs.keepProbs) return [out, probs];
  backend.disposeData(probs.dataId);
  return [out];
}

function backward({ inputs, attrs, backend }: { inputs: { dy: tf.TensorInfo; qkv: tf.TensorInfo; probs?: tf.TensorInfo; mask?: tf.TensorInfo }; attrs: Attrs; backend: WebGPUBackendLike }): tf.TensorInfo {
  const { batch: B, seqLen: T, heads: H } = attrs;
  const C = inputs.qkv.shape[1]! / 3;
  const probs = inputs.probs ?? probabilities(backend, inputs.qkv, inputs.mask, attrs);
  const u = uniforms(B, T, C, H, 0);
  const ds = backend.runWebGPUProgram(dScoresProgram(B * H * T, T, C / H), [inputs.dy, inputs.qkv, probs], 'float32', u);
  const dqkv = backend.runWebGPUProgram(dqkvProgram(B, T, C), [inputs.dy, inputs.qkv, probs, ds], 'float32', u);
  backend.disposeData(ds.dataId);
  if (!inputs.probs) backend.disposeData(probs.dataId);
  return dqkv;
}

/** Register the attention kernels for the webgpu backend (once); true when that is the backend in use. */
export function webgpuAttentionAvailable(): boolean {
  if (tf.getBackend() !== 'webgpu') return false;
  if (!tf.getKernel(FORWARD, 'webgpu')) {
    tf.registerKernel({ kernelName: FORWARD, backendName: 'webgpu', kernelFunc: forward as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: BACKWARD, backendName: 'webgpu', kernelFunc: backward as unknown as tf.KernelFunc });
  }
  return true;
}
