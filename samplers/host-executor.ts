// Runs a plan on the host, element by element, for tests and small runs. It
// reads nothing but the plan's rows (see the row semantics in plan.ts), so a
// GPU executor that implements the same semantics computes the same thing.

import { match } from 'ts-pattern';
import { ExecutionError } from './errors.js';
import type { ClipOp, Combine, Plan, PlanRow } from './plan.js';
import { TorchGenerator } from './random.js';

export type Latent = Float32Array | Float64Array;

/** The model: (input u = cIn·x, timestep t, conditioning name) → output (ε, v or x0, per the schedule). */
export type ModelFunction = (
  input: Latent,
  t: number,
  conditioning: string,
  context: { readonly row: PlanRow; readonly rowIndex: number },
) => ArrayLike<number>;

/** Fresh standard-normal values, `length` of them per call. */
export type NoiseSource = (length: number) => ArrayLike<number>;

export interface RowTrace {
  readonly rowIndex: number;
  readonly row: PlanRow;
  readonly modelInput: Latent;
  /** The combined model output M (after rescale). */
  readonly modelOutput: Float64Array;
  /** The row's prediction P (after clipping). */
  readonly prediction: Float64Array;
  /** The latent after the row. */
  readonly latent: Latent;
}

export interface ExecuteOptions<L extends Latent> {
  /** The starting latent (already scaled by plan.initNoiseSigma; see initialLatent). Not modified. */
  readonly latent: L;
  /** [batch, …]: statistics of rescale, APG and thresholding are per batch item. Default [1, latent.length]. */
  readonly shape?: readonly number[];
  readonly model: ModelFunction;
  /** Needed when a row draws noise; a TorchGenerator continues torch's stream. */
  readonly noise?: NoiseSource | TorchGenerator;
  readonly onRow?: (trace: RowTrace) => void;
}

/** x_T = plan.initNoiseSigma · z. */
export function initialLatent(plan: Plan, z: ArrayLike<number>): Float32Array {
  return Float32Array.from(z, (v) => v * plan.initNoiseSigma);
}

/**
 * Applies every row of `plan` to the latent. Arithmetic is float64; the latent
 * and the registers are stored in the latent's own type after every row, so a
 * Float32Array run rounds where a float32 device would.
 */
export function executePlan<L extends Latent>(plan: Plan, o: ExecuteOptions<L>): L {
  const n = o.latent.length;
  const shape = o.shape ?? [1, n];
  const batch = shape[0]!;
  if (shape.reduce((a, b) => a * b, 1) !== n || !(batch >= 1)) {
    throw new ExecutionError('shape', `a shape [batch, …] with ${n} elements (the latent's length)`, `[${shape.join(', ')}]`);
  }
  const perImage = n / batch;
  const make = (): L => new (o.latent.constructor as { new (length: number): L })(n);
  let x = make();
  x.set(o.latent);
  const registers = Array.from({ length: plan.registers }, make);
  const draw = noiseSource(o.noise);

  plan.rows.forEach((row, rowIndex) => {
    const where = `row ${rowIndex} (step ${row.step}, t = ${row.t})`;
    const input = make();
    for (let i = 0; i < n; i++) input[i] = row.cIn * x[i]!;
    const outputs = row.branches.map((name, k) => {
      const out = o.model(input, row.t, name, { row, rowIndex });
      if (out.length !== n) throw new ExecutionError(`${where} branch ${k} (${name})`, `a model output of ${n} values`, `${out.length}`);
      return Float64Array.from(out);
    });
    const M = combine(row.combine, outputs, x, row, registers, perImage);
    if (row.rescale) rescale(M, outputs[row.rescale.reference]!, row.rescale.phi, perImage);
    const P = new Float64Array(n);
    for (let i = 0; i < n; i++) P[i] = row.predict.x * x[i]! + row.predict.out * M[i]!;
    if (row.clip) clip(row.clip, P, x, perImage);

    const u = row.update;
    const next = make();
    let z: ArrayLike<number> | undefined;
    if (u.noise !== undefined) {
      if (!draw) throw new ExecutionError(`${where}`, 'a noise source (the row draws fresh noise)', 'none');
      z = draw(n);
      if (z.length !== n) throw new ExecutionError(`${where} noise`, `${n} values`, `${z.length}`);
    }
    const uncond = u.uncond ? outputs[u.uncond.branch]! : undefined;
    for (let i = 0; i < n; i++) {
      let v = u.x * x[i]! + u.pred * P[i]!;
      if (u.out !== undefined) v += u.out * M[i]!;
      if (uncond) v += u.uncond!.coef * uncond[i]!;
      for (const h of u.history) v += h.coef * registers[h.register]![i]!;
      if (z) v += u.noise! * z[i]!;
      next[i] = v;
    }
    if (row.store !== undefined) registers[row.store]!.set(P);
    x = next;
    o.onRow?.({ rowIndex, row, modelInput: input, modelOutput: M, prediction: P, latent: x });
  });
  return x;
}

function noiseSource(noise: NoiseSource | TorchGenerator | undefined): NoiseSource | undefined {
  if (noise instanceof TorchGenerator) return (length) => noise.randn([length]);
  return noise;
}

function combine(c: Combine, outputs: Float64Array[], x: Latent, row: PlanRow, registers: Latent[], perImage: number): Float64Array {
  const n = x.length;
  return match(c)
    .with({ kind: 'weighted' }, ({ weights }) => {
      const M = new Float64Array(n);
      outputs.forEach((O, k) => {
        const w = weights[k]!;
        for (let i = 0; i < n; i++) M[i] = M[i]! + w * O[i]!;
      });
      return M;
    })
    .with({ kind: 'apg' }, (a) => {
      const { x: dx, out: dout } = row.denoise;
      const Dc = Float64Array.from(outputs[a.cond]!, (o, i) => dx * x[i]! + dout * o);
      const Du = Float64Array.from(outputs[a.uncond]!, (o, i) => dx * x[i]! + dout * o);
      const M = new Float64Array(n);
      for (let start = 0; start < n; start += perImage) {
        const end = start + perImage;
        const delta = new Float64Array(perImage);
        for (let i = start; i < end; i++) delta[i - start] = Dc[i]! - Du[i]!;
        if (a.momentum) {
          const buffer = registers[a.momentum.register]!;
          for (let i = start; i < end; i++) {
            const v = delta[i - start]! + a.momentum.beta * buffer[i]!;
            buffer[i] = v;
            delta[i - start] = buffer[i]!;
          }
        }
        if (a.normThreshold > 0) {
          const norm = Math.sqrt(delta.reduce((s, v) => s + v * v, 0));
          const factor = Math.min(1, a.normThreshold / norm);
          for (let k = 0; k < perImage; k++) delta[k] = delta[k]! * factor;
        }
        let dot = 0;
        let nn = 0;
        for (let i = start; i < end; i++) {
          dot += delta[i - start]! * Dc[i]!;
          nn += Dc[i]! * Dc[i]!;
        }
        const along = nn === 0 ? 0 : dot / nn;
        for (let i = start; i < end; i++) {
          const parallel = along * Dc[i]!;
          const orthogonal = delta[i - start]! - parallel;
          const D = Dc[i]! + (a.scale - 1) * (orthogonal + a.eta * parallel);
          M[i] = (D - dx * x[i]!) / dout;
        }
      }
      return M;
    })
    .exhaustive();
}

/** Lin et al.'s guidance rescale, per image: φ·M·std(ref)/std(M) + (1 − φ)·M, unbiased std. */
function rescale(M: Float64Array, reference: Float64Array, phi: number, perImage: number): void {
  for (let start = 0; start < M.length; start += perImage) {
    const ratio = std(reference, start, perImage) / std(M, start, perImage);
    for (let i = start; i < start + perImage; i++) M[i] = phi * M[i]! * ratio + (1 - phi) * M[i]!;
  }
}

function std(a: Float64Array, start: number, count: number): number {
  let mean = 0;
  for (let i = start; i < start + count; i++) mean += a[i]!;
  mean /= count;
  let ss = 0;
  for (let i = start; i < start + count; i++) ss += (a[i]! - mean) ** 2;
  return Math.sqrt(ss / (count - 1));
}

function clip(op: ClipOp, P: Float64Array, x: Latent, perImage: number): void {
  const X = Float64Array.from(P, (p, i) => op.toX0.x * x[i]! + op.toX0.pred * p);
  match(op)
    .with({ kind: 'clamp' }, ({ range }) => {
      for (let i = 0; i < X.length; i++) X[i] = Math.min(Math.max(X[i]!, -range), range);
    })
    .with({ kind: 'dynamic' }, ({ ratio, maxValue }) => {
      for (let start = 0; start < X.length; start += perImage) {
        const s = Math.min(Math.max(quantile(X.subarray(start, start + perImage).map(Math.abs), ratio), 1), maxValue);
        for (let i = start; i < start + perImage; i++) X[i] = Math.min(Math.max(X[i]!, -s), s) / s;
      }
    })
    .exhaustive();
  for (let i = 0; i < P.length; i++) P[i] = op.fromX0.x * x[i]! + op.fromX0.x0 * X[i]!;
}

/** torch.quantile's default (linear interpolation between the two nearest order statistics). */
function quantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  const position = q * (sorted.length - 1);
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo);
}
