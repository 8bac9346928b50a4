// TensorBoard's scalar smoothing: an exponential moving average debiased like Adam's moments,
// so the first points are not pulled toward zero. weight 0 = raw, 0.99 = very smooth.
export function debiasedEma(values: readonly number[], weight: number): number[] {
  const out = new Array<number>(values.length);
  let last = 0;
  let steps = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    steps++;
    const debias = weight === 1 ? 1 : 1 - Math.pow(weight, steps);
    out[i] = last / debias;
  }
  return out;
}
