// kiln's timesteps and σ̃ grids equal diffusers 0.31's, for every spacing,
// offset and sigma option the samplers offer.
//
// Reference values were derived, not taken from diffusers (not installed here):
// set_timesteps' arithmetic was transcribed line by line from diffusers'
// scheduler sources into NumPy 1.24 / torch 1.13 (float32 tensors where diffusers
// uses them) and run with /usr/bin/python3 on this machine, SD 1.5 schedule
// (scaled_linear 0.00085–0.012, T = 1000) unless stated. E.g. Euler linspace:
//   ts = np.linspace(0, 999, N, dtype=np.float32)[::-1]
//   sigmas = np.interp(ts, np.arange(1000), np.array(((1 - ac) / ac) ** 0.5)) ++ [0] → float32
// Karras: (σmax^(1/7) + ramp·(σmin^(1/7) − σmax^(1/7)))^7, t = _sigma_to_t(σ, log σ-table).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ddim,
  ddpm,
  dpmSolverMultistep,
  euler,
  heun,
  noGuidance,
  noiseSchedule,
  plan,
  sd15Schedule,
  unipc,
  type SamplerRows,
} from '../../samplers/index.js';
import { SamplerOptionsError } from '../../samplers/errors.js';

const ts = (rows: SamplerRows) => rows.rows.map((r) => r.t);
/** σ̃ of each row plus the final one; exact for σ̃-space rows (α = 1). */
const sigmas = (rows: SamplerRows) => [...rows.rows.map((r) => r.level.sigma / r.level.alpha), rows.final.sigma / rows.final.alpha];

function assertClose(actual: readonly number[], expected: readonly number[], relative: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= relative * Math.abs(e), `${label}[${i}]: ${actual[i]} vs ${e}`));
}

test('DDIM and DDPM timesteps follow leading / trailing / linspace spacing with steps_offset', () => {
  assert.deepEqual(ts(ddim(sd15Schedule, 10, { timestepSpacing: 'trailing' })), [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  assert.deepEqual(ts(ddim(sd15Schedule, 10, { timestepSpacing: 'linspace' })), [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
  assert.deepEqual(ts(ddim(sd15Schedule, 10, { stepsOffset: 1 })), [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  assert.deepEqual(ts(ddpm(sd15Schedule, 10)), [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
});

test('a step count for which NumPy’s arange yields an extra trailing timestep is refused with the reason', () => {
  // np.arange(1000, 0, -1000/61) has 62 elements; diffusers would run a 62nd step at t = −1.
  assert.throws(
    () => ddim(sd15Schedule, 61, { timestepSpacing: 'trailing' }),
    (e: unknown) => e instanceof SamplerOptionsError && /yields 61 timesteps \(diffusers 0\.31 computes 62 here, down to t = -1/.test(e.message),
  );
});

test('Euler: float32 linspace timesteps, σ̃ interpolated at fractional t, init_noise_sigma by spacing', () => {
  const seven = euler(sd15Schedule, 7);
  assert.deepEqual(ts(seven), [999, 832.5, 666, 499.5, 333, 166.5, 0]);
  assert.deepEqual(sigmas(seven), [14.614645004272461, 5.948917865753174, 2.9183082580566406, 1.6155833005905151, 0.9323583245277405, 0.4935535192489624, 0.029167532920837402, 0]);
  assert.equal(seven.initNoiseSigma, 14.614645004272461);
  const leading = euler(sd15Schedule, 10, { timestepSpacing: 'leading', stepsOffset: 1 });
  assert.deepEqual(ts(leading), [901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  assert.deepEqual(sigmas(leading), [8.390686988830566, 5.134433269500732, 3.347764492034912, 2.2928547859191895, 1.6236928701400757, 1.1682164669036865, 0.8356532454490662, 0.5740507245063782, 0.3461872935295105, 0.04131447896361351, 0]);
  // 'leading' spacing: init_noise_sigma = √(σ̃max² + 1), in float32
  assert.equal(leading.initNoiseSigma, Math.fround(Math.sqrt(Math.fround(Math.fround(8.390686988830566 ** 2) + 1))));
  // scale_model_input divides by √(σ̃² + 1)
  leading.rows.forEach((r) => assert.ok(Math.abs(r.cIn * Math.sqrt(r.level.sigma ** 2 + 1) - 1) < 1e-15));
});

test('Euler Karras: ρ = 7 sigmas between the grid ends, timesteps mapped back fractionally', () => {
  const karras = euler(sd15Schedule, 10, { useKarrasSigmas: true });
  // NumPy's float32 log is not correctly rounded (190 of the 1000 log σ̃ differ by an ulp from
  // the correctly rounded value kiln uses), so fractional timesteps agree to a float32 ulp.
  assertClose(ts(karras), [999, 916.2839965820312, 815.044921875, 687.1532592773438, 523.1989135742188, 327.147216796875, 145.93902587890625, 40.85687255859375, 6.73240852355957, 0], 3e-7, 't');
  assert.deepEqual(sigmas(karras).slice(0, 3), [14.614645004272461, 9.102935791015625, 5.478400707244873]);
});

test('Heun interleaves: timesteps t0, t1, t1, t2, t2, …; 2N − 1 rows, the last step single-stage', () => {
  const rows = heun(sd15Schedule, 4);
  assert.deepEqual(ts(rows), [999, 666, 666, 333, 333, 0, 0]);
  assert.deepEqual(rows.rows.map((r) => r.level.sigma), [14.614645004272461, 2.9183082580566406, 2.9183082580566406, 0.9323583245277405, 0.9323583245277405, 0.029167532920837402, 0.029167532920837402]);
  assert.deepEqual(rows.rows.map((r) => `${r.step}.${r.stage}`), ['0.0', '0.1', '1.0', '1.1', '2.0', '2.1', '3.0']);
});

test('DPM-Solver: Karras and uniform-λ sigmas with rounded timesteps, leading spacing, and the cosine schedule’s λ clip', () => {
  const karras = dpmSolverMultistep(sd15Schedule, 10, { useKarrasSigmas: true });
  assert.deepEqual(ts(karras), [999, 916, 815, 687, 523, 327, 146, 41, 7, 0]);
  assertClose(sigmas(karras), [14.614645004272461, 9.102935791015625, 5.478400707244873, 3.1686108112335205, 1.7494229078292847, 0.9140763878822327, 0.44692087173461914, 0.20139984786510468, 0.08191104978322983, 0.029167532920837402, 0], 1e-15, 'σ̃');
  const lu = dpmSolverMultistep(sd15Schedule, 10, { useLuLambdas: true });
  assert.deepEqual(ts(lu), [999, 875, 724, 538, 330, 153, 52, 14, 3, 0]);
  assertClose(sigmas(lu), [14.614643096923828, 7.324881553649902, 3.6712419986724854, 1.8400321006774902, 0.9222269058227539, 0.46222153306007385, 0.23166614770889282, 0.11611142754554749, 0.05819522589445114, 0.0291675366461277, 0], 1e-15, 'σ̃');
  assert.deepEqual(ts(dpmSolverMultistep(sd15Schedule, 10, { timestepSpacing: 'leading', stepsOffset: 1 })), [901, 811, 721, 631, 541, 451, 361, 271, 181, 91]);
  // squaredcos_cap_v2 with lambda_min_clipped = −5.1: the last 4 timesteps are cut (searchsorted on λ), linspace over [0, 995]
  const cosine = noiseSchedule({ betaSchedule: 'squaredcos_cap_v2' });
  assert.deepEqual(ts(dpmSolverMultistep(cosine, 10, { lambdaMinClipped: -5.1 })), [995, 896, 796, 696, 597, 498, 398, 298, 199, 100]);
});

test('DPM-Solver++ with final sigma zero is first order on its last step at any step count (lower_order_final), second order before', () => {
  const rows = dpmSolverMultistep(sd15Schedule, 25).rows;
  assert.deepEqual(rows.map((r) => r.update.history.length), [0, ...Array.from({ length: 23 }, () => 1), 0]);
  // below 15 steps the last two steps lower their order (3M: orders 1, 2, 3, …, 3, 2, 1)
  const short = dpmSolverMultistep(sd15Schedule, 8, { solverOrder: 3 }).rows;
  assert.deepEqual(short.map((r) => r.update.history.length), [0, 1, 2, 2, 2, 2, 1, 0]);
});

test('UniPC Karras repeats σ_min as the final σ̃ (diffusers 0.31): the last row only applies the corrector and stays at σ_min', () => {
  const rows = unipc(sd15Schedule, 10, { useKarrasSigmas: true });
  assert.deepEqual(ts(rows), [999, 916, 815, 687, 523, 327, 146, 41, 7, 0]);
  const s = sigmas(rows);
  assert.ok(Math.abs(s[10]! - 0.029167532920837402) < 1e-15 && Math.abs(s[9]! - s[10]!) < 1e-15);
  assert.deepEqual(rows.final, rows.rows[9]!.level);
  // predictor carry σ_t/σ_s = 1 over a zero-length step; the corrector adds only prediction terms
  const last = rows.rows[9]!.update;
  assert.ok(Math.abs(last.x - 1) < 1e-12, `x coefficient ${last.x}`);
});

test('plans carry the timesteps unchanged into JSON (integers stay integers)', () => {
  const p = plan(dpmSolverMultistep(sd15Schedule, 25), noGuidance());
  assert.ok(JSON.parse(JSON.stringify(p)).rows.every((r: { t: number }) => Number.isInteger(r.t)));
});
