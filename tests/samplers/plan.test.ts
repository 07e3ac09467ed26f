// Plans are data: they survive JSON unchanged, loading checks every index an
// executor will use, the table printer shows each row, and the host executor
// reports misuse precisely.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  apg,
  cfg,
  cfgPlusPlus,
  ddim,
  ddpm,
  deserializePlan,
  dpmSolverMultistep,
  euler,
  eulerAncestral,
  executePlan,
  formatPlan,
  heun,
  noGuidance,
  plan,
  printPlan,
  sd15Schedule,
  serializePlan,
  unipc,
  type GuidanceSpec,
  type SamplerRows,
} from '../../samplers/index.js';
import { ExecutionError, PlanFormatError } from '../../samplers/errors.js';

const samplerArb: fc.Arbitrary<(n: number) => SamplerRows> = fc.constantFrom(
  (n: number) => ddim(sd15Schedule, n, { eta: 0.5, clipSample: true, stepsOffset: 1, setAlphaToOne: false }),
  (n: number) => ddpm(sd15Schedule, n, { thresholding: true }),
  (n: number) => euler(sd15Schedule, n, { useKarrasSigmas: true, sChurn: 1 }),
  (n: number) => eulerAncestral(sd15Schedule, n),
  (n: number) => heun(sd15Schedule, n),
  (n: number) => dpmSolverMultistep(sd15Schedule, n, { solverOrder: 3, thresholding: true }),
  (n: number) => dpmSolverMultistep(sd15Schedule, n, { algorithmType: 'sde-dpmsolver++', useKarrasSigmas: true }),
  (n: number) => unipc(sd15Schedule, n, { solverOrder: 3 }),
);

const specFor = (steps: number): fc.Arbitrary<GuidanceSpec> =>
  fc.oneof(
    fc.constant(noGuidance()),
    fc.double({ min: 0, max: 15, noNaN: true }).map((s) => cfg(s)),
    fc.tuple(fc.double({ min: 1, max: 15, noNaN: true }), fc.integer({ min: 0, max: steps - 1 }), fc.constantFrom('cond' as const, 'uncond' as const)).map(([s, a, keep]) => cfg(s).dropFrom(a, { keep })),
    fc.tuple(fc.double({ min: 1, max: 15, noNaN: true }), fc.double({ min: 0.01, max: 0.99, noNaN: true })).map(([s, phi]) => cfg(s).withRescale(phi).withInterval(0.1, 0.9)),
    fc.tuple(fc.double({ min: 1, max: 15, noNaN: true }), fc.double({ min: -0.9, max: 0.9, noNaN: true })).map(([s, m]) => apg(s, { eta: 0.3, normThreshold: 12, momentum: m })),
  );

test('every plan round-trips through JSON unchanged', () => {
  fc.assert(
    fc.property(
      samplerArb,
      fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(fc.constant(n), specFor(n))),
      (sampler, [steps, spec]) => {
        const p = plan(sampler(steps), spec);
        assert.deepStrictEqual(deserializePlan(serializePlan(p)), p);
      },
    ),
    { numRuns: 80, seed: 41 },
  );
  const cfgpp = plan(ddim(sd15Schedule, 10, { clipSample: false }), cfgPlusPlus(0.7));
  assert.deepStrictEqual(deserializePlan(serializePlan(cfgpp)), cfgpp);
});

test('loading a plan checks its format, its indices and its evaluation counts', () => {
  const p = plan(dpmSolverMultistep(sd15Schedule, 5), cfg(7));
  const broken = (edit: (value: Record<string, any>) => void) => {
    const value = JSON.parse(serializePlan(p));
    edit(value);
    return JSON.stringify(value);
  };
  const fails = (text: string, pattern: RegExp) => assert.throws(() => deserializePlan(text), (e: unknown) => e instanceof PlanFormatError && pattern.test(e.message));
  fails('{"format": 1', /plan text: expected JSON/);
  fails(broken((v) => (v['format'] = 'kiln.plan/0')), /plan \$\.format: expected "kiln\.plan\/1", found "kiln\.plan\/0"/);
  fails(broken((v) => (v['rows'][2]['update']['history'][0]['register'] = 3)), /plan \$\.rows\[2\]\.update\.history\[0\]\.register: expected a register below 1, found 3/);
  fails(broken((v) => (v['rows'][1]['combine']['weights'] = [1])), /plan \$\.rows\[1\]\.combine\.weights: expected 2 weights, one per branch, found \[1\]/);
  fails(broken((v) => (v['rows'][0]['cIn'] = 'one')), /plan \$\.rows\[0\]\.cIn: expected a finite number, found "one"/);
  fails(broken((v) => (v['rows'][0]['branches'] = ['cond'])), /plan \$\.rows\[0\]\.combine\.weights: expected 1 weights/);
  fails(broken((v) => (v['modelEvaluations']['total'] = 3)), /plan \$\.modelEvaluations: expected the counts of the rows' branches/);
});

test('the table printer shows one line per row with its timestep, branches and weights, ops and update', () => {
  const p = plan(dpmSolverMultistep(sd15Schedule, 4, { thresholding: true }), cfg(7.5).dropFrom(2, { keep: 'uncond' }));
  const text = formatPlan(p);
  const lines = text.split('\n');
  assert.equal(lines.length, 3 + p.rows.length);
  assert.match(lines[0]!, /^plan: dpmsolver\+\+ 2M, 4 steps, 4 rows, guidance cfg:7\.5,drop@2:uncond$/);
  assert.match(lines[1]!, /model evaluations: 6 of 8 for full CFG \(saves 25\.0%\)/);
  assert.match(lines[2]!, /^row\s+step\s+t\s+σ̃\s+c_in\s+branches\s+ops\s+prediction P\s+x' =$/);
  assert.match(lines[3]!, /^0\s+0\s+999\s+14\.615\s+1\s+uncond×-6\.5 \+ cond×7\.5\s+threshold q=0\.995 max=1, P→R0\s+x0 = /);
  assert.match(lines[4]!, /^1\s+1\s+749 .* - [\d.]+·R0/);
  assert.match(lines[5]!, /^2\s+2\s+500 .*uncond×1\s/);
  let printed = '';
  printPlan(p, (t) => (printed += t));
  assert.equal(printed, text);
});

test('the host executor reports model outputs of the wrong size, missing noise and bad shapes precisely', () => {
  const p = plan(eulerAncestral(sd15Schedule, 3), cfg(2));
  const latent = new Float64Array(8);
  assert.throws(
    () => executePlan(p, { latent, model: () => new Float64Array(7), noise: () => new Float64Array(8) }),
    (e: unknown) => e instanceof ExecutionError && /row 0 \(step 0, t = 999\) branch 0 \(uncond\): expected a model output of 8 values, found 7/.test(e.message),
  );
  assert.throws(
    () => executePlan(p, { latent, model: (u) => u }),
    (e: unknown) => e instanceof ExecutionError && /row 0 .*: expected a noise source \(the row draws fresh noise\), found none/.test(e.message),
  );
  assert.throws(
    () => executePlan(p, { latent, shape: [3, 3], model: (u) => u }),
    (e: unknown) => e instanceof ExecutionError && /shape: expected a shape \[batch, …\] with 8 elements \(the latent's length\), found \[3, 3\]/.test(e.message),
  );
});

test('a Float32Array run stores the latent in float32 after every row, like a float32 device', () => {
  const p = plan(heun(sd15Schedule, 5), cfg(3));
  const model = (u: Float32Array | Float64Array) => Float64Array.from(u, (v) => Math.sin(v) / 3);
  const out32 = executePlan(p, { latent: Float32Array.from([0.1, -0.7, 1.3, 2.2]), model });
  const out64 = executePlan(p, { latent: Float64Array.from([0.1, -0.7, 1.3, 2.2]), model });
  assert.ok(out32 instanceof Float32Array);
  const diff = Math.max(...Array.from(out32, (v, i) => Math.abs(v - out64[i]!)));
  assert.ok(diff > 0 && diff < 1e-5, `float32 vs float64 difference ${diff}`);
});
