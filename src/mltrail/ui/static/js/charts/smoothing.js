// Client-side smoothing of the points a chart shows.

/**
 * Exponential moving average with bias correction (so the first points are not pulled towards 0).
 * `weight` in [0, 1): 0 returns the values unchanged. Non-finite values (null, NaN, ±inf) are kept
 * where they are and do not enter the average, so gaps stay gaps.
 */
export function ema(values, weight) {
  if (!weight || weight <= 0) return values.slice();
  const w = Math.min(weight, 0.999);
  const out = new Array(values.length);
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * w + (1 - w) * v;
    count++;
    out[i] = last / (1 - Math.pow(w, count));
  }
  return out;
}
