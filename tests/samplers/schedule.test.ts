// Training schedules and diffusers scheduler configs: the documented beta
// schedules, zero-terminal-SNR rescaling, and a config reader that maps
// diffusers' fields and refuses what kiln does not implement, by name.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromDiffusersConfig, noiseSchedule, samplerRows, sd15Schedule } from '../../samplers/index.js';
import { ScheduleConfigError } from '../../samplers/errors.js';
import { torchLinspaceF32 } from '../../samplers/float32.js';

test('zero-terminal-SNR rescaling ends at ᾱ = 0, keeps ᾱ₀, and keeps ᾱ strictly decreasing', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('linear' as const, 'scaled_linear' as const, 'squaredcos_cap_v2' as const),
      fc.double({ min: 0.00005, max: 0.003, noNaN: true }),
      fc.double({ min: 0.005, max: 0.04, noNaN: true }),
      fc.integer({ min: 10, max: 1000 }),
      (betaSchedule, betaStart, betaEnd, T) => {
        const plain = noiseSchedule({ betaSchedule, betaStart, betaEnd, numTrainTimesteps: T });
        const rescaled = noiseSchedule({ betaSchedule, betaStart, betaEnd, numTrainTimesteps: T, rescaleBetasZeroSnr: true });
        assert.equal(rescaled.alphasCumprod[T - 1], 0);
        assert.ok(Math.abs(rescaled.alphasCumprod[0]! - plain.alphasCumprod[0]!) < 1e-6);
        for (let t = 1; t < T; t++) assert.ok(rescaled.alphasCumprod[t]! < rescaled.alphasCumprod[t - 1]!, `ᾱ not decreasing at ${t}`);
      },
    ),
    { numRuns: 30, seed: 51 },
  );
});

test('the cosine schedule follows Nichol & Dhariwal with β capped at 0.999', () => {
  const s = noiseSchedule({ betaSchedule: 'squaredcos_cap_v2' });
  const f = (t: number) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  assert.equal(s.betas[0], Math.fround(1 - f(1 / 1000) / f(0)));
  assert.equal(s.betas[999], Math.fround(0.999));
  assert.ok(Math.abs(s.alphasCumprod[499]! - f(0.5) / f(0)) < 1e-5);
});

test('linear betas run from beta_start to beta_end in float32 like torch.linspace', () => {
  const s = noiseSchedule({ betaStart: 0.0001, betaEnd: 0.02 });
  assert.equal(s.betas[0], Math.fround(0.0001));
  assert.equal(s.betas[999], Math.fround(0.02));
  // /usr/bin/python3 -c "import torch; b = torch.linspace(0.0001, 0.02, 1000, dtype=torch.float32); print(b[500].item(), b[7].item())"
  assert.equal(s.betas[500], 0.010059960186481476);
  assert.equal(s.betas[7], 0.00023943945416249335);
});

test('a diffusers config maps onto kiln options with diffusers defaults; another class’s config runs with { as }', () => {
  const setup = fromDiffusersConfig({ _class_name: 'EulerDiscreteScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', use_karras_sigmas: true });
  assert.deepEqual(Array.from(setup.schedule.alphasCumprod), Array.from(sd15Schedule.alphasCumprod));
  assert.equal(setup.sampler.kind, 'euler');
  assert.equal(samplerRows(setup, 10).sampler, 'euler (karras)');
  // SD 1.5's own scheduler_config.json names PNDMScheduler, which kiln runs as another class.
  const pndm = { _class_name: 'PNDMScheduler', beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', skip_prk_steps: true, steps_offset: 1, set_alpha_to_one: false, clip_sample: false };
  assert.throws(() => fromDiffusersConfig(pndm), (e: unknown) => e instanceof ScheduleConfigError && /'_class_name': expected one of DDIMScheduler, .*pass \{ as: '…' \}.*found "PNDMScheduler"/.test(e.message));
  const asDdim = fromDiffusersConfig(pndm, { as: 'DDIMScheduler' });
  assert.deepEqual(samplerRows(asDdim, 50).rows.map((r) => r.t).slice(0, 3), [981, 961, 941]);
});

test('config values kiln does not implement are refused by field name, expected and found', () => {
  const fails = (config: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => fromDiffusersConfig(config), (e: unknown) => e instanceof ScheduleConfigError && pattern.test(e.message));
  fails({ _class_name: 'EulerDiscreteScheduler', use_exponential_sigmas: true }, /'EulerDiscreteScheduler\.use_exponential_sigmas': expected false \(not implemented\), found true/);
  fails({ _class_name: 'EulerDiscreteScheduler', interpolation_type: 'log_linear' }, /interpolation_type': expected 'linear' \(log_linear is not implemented\), found "log_linear"/);
  fails({ _class_name: 'DPMSolverMultistepScheduler', variance_type: 'learned_range' }, /variance_type': expected null \(learned variances are not implemented\)/);
  fails({ _class_name: 'UniPCMultistepScheduler', solver_p: {} }, /solver_p': expected null/);
  fails({ _class_name: 'DDIMScheduler', timestep_spacing: 'uniform' }, /timestep_spacing': expected one of 'leading', 'trailing', 'linspace', found "uniform"/);
  fails({ _class_name: 'DDIMScheduler', steps_offset: 0.5 }, /steps_offset': expected an integer, found 0\.5/);
  fails({ _class_name: 'DDIMScheduler', trained_betas: [0.1, 0.2] }, /'trainedBetas': expected 1000 values \(numTrainTimesteps\), found "2 values"/);
  fails({ _class_name: 'DDPMScheduler', variance_type: 'learned' }, /variance_type': expected one of 'fixed_small', 'fixed_small_log', 'fixed_large', found "learned"/);
  fails({}, /'_class_name': expected a scheduler class name, found nothing/);
});

test('torch.linspace in float32 is reproduced bit for bit for lengths around its 16-wide vector blocks', () => {
  // FNV-1a-32 of the little-endian float32 bytes of torch.linspace(start, end, n, dtype=torch.float32),
  // computed with /usr/bin/python3 (torch 1.13, the AVX2 build the golden data came from).
  const fnv = (values: Float64Array) => {
    let h = 0x811c9dc5;
    for (const byte of new Uint8Array(Float32Array.from(values).buffer)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    return h.toString(16).padStart(8, '0');
  };
  assert.equal(fnv(torchLinspaceF32(0.0001, 0.5, 17)), '718b94f7');
  assert.equal(fnv(torchLinspaceF32(0.0001, 0.5, 33)), '00226406');
  assert.equal(fnv(torchLinspaceF32(Math.sqrt(0.00085), Math.sqrt(0.012), 1001)), '4be8e34e');
  assert.equal(fnv(torchLinspaceF32(0.0001, 0.02, 999)), '65bf74cb');
});
