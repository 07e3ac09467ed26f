// Guidance specs are values applied to sampler rows: the weights, branch lists,
// per-step conditioning, dropped steps, intervals, rescale, CFG++ and APG all
// show up as plan data with the documented effect, and the evaluation counts
// are known before anything runs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  apg,
  cfg,
  cfgPlusPlus,
  ddim,
  dpmSolverPP2M,
  euler,
  eulerAncestral,
  executePlan,
  guidanceSavings,
  heun,
  noGuidance,
  parseGuidance,
  plan,
  promptEditing,
  sd15Schedule,
  TorchGenerator,
  unipc,
  type GuidanceSpec,
  type ModelFunction,
  type Plan,
  type SamplerRows,
} from '../../samplers/index.js';
import { PlanError } from '../../samplers/errors.js';

const SIZE = 16;

/** Each conditioning name gives a different, input-dependent output. */
const branchModel: ModelFunction = (u, t, conditioning) => {
  const k = [...conditioning].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 997, 7) / 997;
  return Float64Array.from(u, (v, i) => (0.5 + k) * Math.tanh(v) + 0.3 * Math.sin(k * 10 + i + 0.001 * t));
};

const latent = () => Float64Array.from(new TorchGenerator(11).randn([SIZE]));

function run(p: Plan, model: ModelFunction = branchModel): Float64Array {
  return executePlan(p, { latent: Float64Array.from(latent(), (v) => v * p.initNoiseSigma), model, noise: new TorchGenerator(5) });
}

const samplers: Record<string, (n: number) => SamplerRows> = {
  ddim: (n) => ddim(sd15Schedule, n, { clipSample: false, stepsOffset: 1, setAlphaToOne: false }),
  'dpm++2m': (n) => dpmSolverPP2M(sd15Schedule, n),
  euler: (n) => euler(sd15Schedule, n),
  heun: (n) => heun(sd15Schedule, n),
  unipc: (n) => unipc(sd15Schedule, n),
  'euler-a': (n) => eulerAncestral(sd15Schedule, n),
};
const samplerArb = fc.constantFrom(...Object.keys(samplers));

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

test('CFG scale 1 equals the conditional prediction alone and scale 0 the unconditional alone, on every sampler', () => {
  fc.assert(
    fc.property(samplerArb, fc.integer({ min: 1, max: 25 }), (name, steps) => {
      const rows = samplers[name]!(steps);
      assert.ok(maxDiff(run(plan(rows, cfg(1))), run(plan(rows, noGuidance('cond')))) < 1e-12);
      assert.ok(maxDiff(run(plan(rows, cfg(0))), run(plan(rows, noGuidance('uncond')))) < 1e-12);
    }),
    { numRuns: 20, seed: 21 },
  );
});

test('the combined output of CFG with scale s is O_u + s·(O_c − O_u) on every row', () => {
  fc.assert(
    fc.property(samplerArb, fc.integer({ min: 1, max: 12 }), fc.double({ min: 0, max: 12, noNaN: true }), (name, steps, s) => {
      const p = plan(samplers[name]!(steps), cfg(s));
      executePlan(p, {
        latent: Float64Array.from(latent(), (v) => v * p.initNoiseSigma),
        model: branchModel,
        noise: new TorchGenerator(5),
        onRow: ({ row, rowIndex, modelInput, modelOutput }) => {
          const ctx = { row, rowIndex };
          const oc = branchModel(modelInput, row.t, 'cond', ctx);
          const ou = branchModel(modelInput, row.t, 'uncond', ctx);
          const expected = Float64Array.from(ou, (u, i) => u + s * (oc[i]! - u));
          assert.ok(maxDiff(modelOutput, expected) < 1e-12 * (1 + s));
        },
      });
    }),
    { numRuns: 20, seed: 22 },
  );
});

function countCalls(p: Plan): { total: number; perRow: number[]; names: string[][] } {
  const perRow: number[] = [];
  const names: string[][] = [];
  executePlan(p, {
    latent: Float64Array.from(latent(), (v) => v * p.initNoiseSigma),
    model: (u, t, c, ctx) => {
      perRow[ctx.rowIndex] = (perRow[ctx.rowIndex] ?? 0) + 1;
      (names[ctx.rowIndex] ??= []).push(c);
      return branchModel(u, t, c, ctx);
    },
    noise: new TorchGenerator(5),
  });
  return { total: perRow.reduce((a, b) => a + b, 0), perRow, names };
}

test('dropping a branch from step a evaluates exactly the counted branches: two per row before a, the kept one after', () => {
  fc.assert(
    fc.property(samplerArb, fc.integer({ min: 1, max: 30 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))), fc.constantFrom('cond' as const, 'uncond' as const), (name, [steps, from], keep) => {
      const p = plan(samplers[name]!(steps), cfg(7.5).dropFrom(from, { keep }));
      const calls = countCalls(p);
      assert.deepEqual(calls.perRow, p.modelEvaluations.perRow);
      assert.equal(calls.total, p.modelEvaluations.total);
      p.rows.forEach((row, i) => {
        assert.deepEqual(calls.names[i], row.step < from ? ['uncond', 'cond'] : [keep]);
      });
      const dropped = p.rows.filter((r) => r.step >= from).length;
      assert.equal(p.modelEvaluations.total, 2 * p.rows.length - dropped);
      assert.equal(p.modelEvaluations.savedFraction, dropped / (2 * p.rows.length));
    }),
    { numRuns: 30, seed: 23 },
  );
});

test('the saved compute is known before running: CFG 7.5 for steps 0–29 then one branch saves 20% of a 50-step run', () => {
  const spec = cfg(7.5).dropFrom(30, { keep: 'uncond' });
  assert.equal(JSON.stringify(spec), '{"kind":"cfg","scale":7.5,"drop":{"fromStep":30,"keep":"uncond"}}');
  const p = plan(dpmSolverPP2M(sd15Schedule, 50), spec);
  assert.equal(p.modelEvaluations.total, 80);
  assert.equal(guidanceSavings(dpmSolverPP2M(sd15Schedule, 50), spec), 0.2);
  // Heun's steps are two rows (one for the last): dropping steps 30–49 saves 39 of 2·99 evaluations.
  assert.equal(guidanceSavings(heun(sd15Schedule, 50), spec), 39 / 198);
});

test('guidance inside an interval: outside it only the conditional branch runs (by progress and by σ̃)', () => {
  const p = plan(ddim(sd15Schedule, 50, { clipSample: false, stepsOffset: 1 }), parseGuidance('cfg:7.5,interval:0.2-0.8'));
  p.rows.forEach((row) => assert.deepEqual(row.branches, row.step >= 10 && row.step < 40 ? ['uncond', 'cond'] : ['cond']));
  assert.equal(p.modelEvaluations.savedFraction, 0.2);
  const bySigma = plan(euler(sd15Schedule, 30), parseGuidance('cfg:5,sigma:0.28-5.42'));
  bySigma.rows.forEach((row) => {
    const inside = row.level.sigma > 0.28 && row.level.sigma <= 5.42;
    assert.equal(row.branches.length, inside ? 2 : 1, `σ̃ = ${row.level.sigma}`);
  });
  assert.ok(bySigma.rows.some((r) => r.branches.length === 1) && bySigma.rows.some((r) => r.branches.length === 2));
});

test('per-step conditioning: prompt A for steps 0–9 then B, A1111 [a:b:0.4], negative prompts and EOS-mix names reach the model as named', () => {
  const switched = countCalls(plan(ddim(sd15Schedule, 20, { clipSample: false }), parseGuidance('cfg:7,cond:a|b@10,neg:blurry')));
  switched.names.forEach((names, i) => assert.deepEqual(names, ['blurry', i < 10 ? 'a' : 'b']));
  // A1111: [a:b:0.4] over 25 steps switches after step ⌊0.4·25⌋ = 10 (1-based), i.e. from index 10.
  const edited = plan(ddim(sd15Schedule, 25, { clipSample: false }), cfg(7).conditioning(promptEditing('a', 'b', 0.4)));
  assert.deepEqual(edited.rows.map((r) => r.branches[1]), [...Array(10).fill('a'), ...Array(15).fill('b')]);
  assert.deepEqual(parseGuidance('cfg:7,cond:[a:b:0.4]'), { kind: 'cfg', scale: 7, cond: promptEditing('a', 'b', 0.4) });
  const eos = plan(ddim(sd15Schedule, 4, { clipSample: false }), cfg(7).conditioning('A+eos(B)'));
  assert.ok(eos.rows.every((r) => r.branches[1] === 'A+eos(B)'));
});

test('Yi et al. keep the unconditional branch in late steps, diffusers’ CFG cutoff keeps the conditional one', () => {
  const yi = plan(ddim(sd15Schedule, 10, { clipSample: false }), parseGuidance('cfg:7.5,drop@0.6:uncond'));
  const cutoff = plan(ddim(sd15Schedule, 10, { clipSample: false }), parseGuidance('cfg:7.5,drop@0.6:cond'));
  assert.deepEqual(yi.rows.map((r) => r.branches.join('+')), [...Array(6).fill('uncond+cond'), ...Array(4).fill('uncond')]);
  assert.deepEqual(cutoff.rows.map((r) => r.branches.join('+')), [...Array(6).fill('uncond+cond'), ...Array(4).fill('cond')]);
});

test('a per-step scale list and a linear ramp set each row’s weights', () => {
  const ramp = plan(ddim(sd15Schedule, 5, { clipSample: false }), parseGuidance('cfg:9->1'));
  // the last step's scale is 1: its unconditional weight is 0, so only the conditional branch is evaluated
  assert.deepEqual(ramp.rows.map((r) => (r.combine.kind === 'weighted' ? r.combine.weights.at(-1) : NaN)), [9, 7, 5, 3, 1]);
  assert.deepEqual(ramp.rows.map((r) => r.branches.length), [2, 2, 2, 2, 1]);
  const list = plan(ddim(sd15Schedule, 3, { clipSample: false }), { kind: 'cfg', scale: [2, 4, 6] });
  assert.deepEqual(list.rows.map((r) => r.combine), [2, 4, 6].map((s) => ({ kind: 'weighted', weights: [1 - s, s] })));
});

test('guidance rescale with φ = 1 gives the combined output the conditional branch’s standard deviation, per image', () => {
  const p = plan(ddim(sd15Schedule, 6, { clipSample: false }), cfg(9).withRescale(1));
  let checked = 0;
  executePlan(p, {
    latent: Float64Array.from(latent(), (v) => v * 2),
    shape: [2, SIZE / 2],
    model: branchModel,
    onRow: ({ row, rowIndex, modelInput, modelOutput }) => {
      const oc = branchModel(modelInput, row.t, 'cond', { row, rowIndex });
      for (const start of [0, SIZE / 2]) {
        const std = (a: ArrayLike<number>) => {
          const xs = Array.from(a).slice(start, start + SIZE / 2);
          const m = xs.reduce((s, v) => s + v, 0) / xs.length;
          return Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1));
        };
        assert.ok(Math.abs(std(modelOutput) - std(oc)) < 1e-12);
        checked++;
      }
    },
  });
  assert.equal(checked, 12);
});

test('APG with η = 1, no norm threshold and no momentum is CFG; with η = 0 its update is orthogonal to the conditional x̂₀', () => {
  fc.assert(
    fc.property(samplerArb, fc.integer({ min: 1, max: 12 }), fc.double({ min: 1, max: 10, noNaN: true }), (name, steps, s) => {
      const rows = samplers[name]!(steps);
      assert.ok(maxDiff(run(plan(rows, apg(s, { eta: 1 }))), run(plan(rows, cfg(s)))) < 1e-9);
    }),
    { numRuns: 15, seed: 24 },
  );
  const p = plan(ddim(sd15Schedule, 5, { clipSample: false }), apg(7, { eta: 0 }));
  executePlan(p, {
    latent: latent(),
    model: branchModel,
    onRow: ({ row, rowIndex, modelInput, modelOutput }) => {
      const x = Float64Array.from(modelInput, (u) => u / row.cIn);
      const D = (o: ArrayLike<number>) => Float64Array.from(o, (v, i) => row.denoise.x * x[i]! + row.denoise.out * v);
      const dc = D(branchModel(modelInput, row.t, 'cond', { row, rowIndex }));
      const guided = D(modelOutput);
      const dot = guided.reduce((acc, g, i) => acc + (g - dc[i]!) * dc[i]!, 0);
      assert.ok(Math.abs(dot) < 1e-9, `⟨D − D_c, D_c⟩ = ${dot}`);
    },
  });
});

test('APG momentum keeps a running difference in its own register: the first step equals β = 0, later steps differ', () => {
  const rows = ddim(sd15Schedule, 6, { clipSample: false });
  const without = plan(rows, apg(7, { eta: 0.5 }));
  const withMomentum = plan(rows, apg(7, { eta: 0.5, momentum: -0.5 }));
  assert.equal(withMomentum.registers, rows.registers + 1);
  const trace = (p: Plan) => {
    const out: Float64Array[] = [];
    executePlan(p, { latent: latent(), model: branchModel, onRow: ({ latent: l }) => out.push(Float64Array.from(l)) });
    return out;
  };
  const a = trace(without);
  const b = trace(withMomentum);
  assert.ok(maxDiff(a[0]!, b[0]!) < 1e-12);
  assert.ok(maxDiff(a[5]!, b[5]!) > 1e-6);
});

test('CFG++ takes x̂₀ from the guided output but re-noises with the unconditional ε̂ (DDIM and Euler ancestral)', () => {
  const lambda = 0.6;
  const d = ddim(sd15Schedule, 10, { clipSample: false });
  const first = d.rows[0]!;
  const x = latent();
  const p = plan(d, cfgPlusPlus(lambda));
  let checked = false;
  executePlan(p, {
    latent: x,
    model: branchModel,
    onRow: ({ row, rowIndex, latent: next }) => {
      if (rowIndex !== 0) return;
      const ctx = { row, rowIndex };
      const oc = branchModel(x, row.t, 'cond', ctx);
      const ou = branchModel(x, row.t, 'uncond', ctx);
      const a = first.level.alpha ** 2;
      const ap = p.rows[1]!.level.alpha ** 2;
      const expected = Float64Array.from(x, (xi, i) => {
        const epsGuided = ou[i]! + lambda * (oc[i]! - ou[i]!);
        const x0 = (xi - Math.sqrt(1 - a) * epsGuided) / Math.sqrt(a);
        return Math.sqrt(ap) * x0 + Math.sqrt(1 - ap) * ou[i]!;
      });
      assert.ok(maxDiff(next, expected) < 1e-9);
      checked = true;
    },
  });
  assert.ok(checked);
  // Euler ancestral: x' = x̂₀_guided + σ_down·ε̂_u + σ_up·z
  const ea = plan(eulerAncestral(sd15Schedule, 8), cfgPlusPlus(lambda));
  const z = new TorchGenerator(3).randn([SIZE]);
  const start = Float64Array.from(x, (v) => v * ea.initNoiseSigma);
  const out = executePlan({ ...ea, rows: ea.rows.slice(0, 1) }, { latent: start, model: branchModel, noise: new TorchGenerator(3) });
  const row = ea.rows[0]!;
  const sigma = row.level.sigma;
  const next = ea.rows[1]!.level.sigma;
  const up = Math.sqrt((next ** 2 * (sigma ** 2 - next ** 2)) / sigma ** 2);
  const down = Math.sqrt(next ** 2 - up ** 2);
  const u = Float64Array.from(start, (v) => v * row.cIn);
  const ctx = { row, rowIndex: 0 };
  const oc = branchModel(u, row.t, 'cond', ctx);
  const ou = branchModel(u, row.t, 'uncond', ctx);
  const expected = Float64Array.from(start, (xi, i) => xi - sigma * (ou[i]! + lambda * (oc[i]! - ou[i]!)) + down * ou[i]! + up * z[i]!);
  assert.ok(maxDiff(out, expected) < 1e-9);
});

test('CFG++ on a multistep row is refused, naming the step', () => {
  assert.throws(
    () => plan(dpmSolverPP2M(sd15Schedule, 20), cfgPlusPlus(0.6)),
    (e: unknown) => e instanceof PlanError && /step 1: CFG\+\+: expected a first-order sampler step .* found a step that reads 1 earlier prediction/.test(e.message),
  );
});

test('specs that do not fit the run fail when applied, saying what is wrong', () => {
  const rows = ddim(sd15Schedule, 50, { clipSample: false });
  const fails = (spec: GuidanceSpec, pattern: RegExp) => assert.throws(() => plan(rows, spec), (e: unknown) => e instanceof PlanError && pattern.test(e.message));
  fails(parseGuidance('cfg:7.5,drop@60:uncond'), /\$\.drop: expected a step before the end \(0\.\.49\), found step 60, past the last step 49/);
  fails(parseGuidance('cfg:7.5,cond:a|b@50'), /\$\.cond\[1\]: expected a step before the end \(0\.\.49\), found step 50/);
  fails({ kind: 'cfg', scale: [1, 2, 3] }, /\$\.scale: expected 50 scales, one per step, found 3/);
  fails({ kind: 'cfg', scale: 7, cond: [{ name: 'a' }, { name: 'b', fromStep: 30 }, { name: 'c', fromFraction: 0.5 }] }, /\$\.cond\[2\]: expected a start after entry 1's step 30 \(ranges must not overlap\), found step 25/);
});
