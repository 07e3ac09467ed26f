// The compact string form and the JSON form of guidance specs: good specs parse
// to the documented values and print back, bad ones fail with a message saying
// what was expected, what was found and where.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apg, cfg, cfgPlusPlus, formatGuidance, noGuidance, parseGuidance, validateGuidance, type GuidanceSpec } from '../../samplers/index.js';
import { GuidanceSpecError } from '../../samplers/errors.js';

test('compact specs parse to the documented JSON values', () => {
  assert.deepEqual(parseGuidance('cfg:7.5'), { kind: 'cfg', scale: 7.5 });
  assert.deepEqual(parseGuidance('cfg:7.5,drop@30:uncond'), { kind: 'cfg', scale: 7.5, drop: { fromStep: 30, keep: 'uncond' } });
  assert.deepEqual(parseGuidance('cfg:7.5,drop@0.6:cond'), { kind: 'cfg', scale: 7.5, drop: { fromFraction: 0.6, keep: 'cond' } });
  assert.deepEqual(parseGuidance('cfg:7.5,interval:0.2-0.8'), { kind: 'cfg', scale: 7.5, interval: { from: 0.2, to: 0.8, by: 'progress' } });
  assert.deepEqual(parseGuidance('cfg:7.5,sigma:0.28-5.42'), { kind: 'cfg', scale: 7.5, interval: { from: 0.28, to: 5.42, by: 'sigma' } });
  assert.deepEqual(parseGuidance('cfg:7.5,rescale:0.7'), { kind: 'cfg', scale: 7.5, rescale: 0.7 });
  assert.deepEqual(parseGuidance('cfg:7->3'), { kind: 'cfg', scale: { from: 7, to: 3 } });
  assert.deepEqual(parseGuidance('cfg:7.5,neg:negative'), { kind: 'cfg', scale: 7.5, uncond: 'negative' });
  assert.deepEqual(parseGuidance('cfg:7.5,cond:a|b@10|c@0.9'), {
    kind: 'cfg',
    scale: 7.5,
    cond: [{ name: 'a', fromStep: 0 }, { name: 'b', fromStep: 10 }, { name: 'c', fromFraction: 0.9 }],
  });
  assert.deepEqual(parseGuidance('cfgpp:0.6'), { kind: 'cfgpp', scale: 0.6 });
  assert.deepEqual(parseGuidance('apg:10,eta:0,norm:15,momentum:-0.5'), { kind: 'apg', scale: 10, apg: { eta: 0, normThreshold: 15, momentum: -0.5 } });
  assert.deepEqual(parseGuidance('none,cond:a'), { kind: 'none', cond: 'a' });
});

test('builders produce the same plain values as the string form, and the values stay plain JSON', () => {
  assert.deepEqual(JSON.parse(JSON.stringify(cfg(7.5).dropFrom(30, { keep: 'uncond' }))), parseGuidance('cfg:7.5,drop@30:uncond'));
  assert.deepEqual({ ...cfg(7.5).withInterval(0.2, 0.8).withRescale(0.7).negative('neg') }, parseGuidance('cfg:7.5,interval:0.2-0.8,rescale:0.7,neg:neg'));
  assert.deepEqual({ ...cfgPlusPlus(0.6) }, parseGuidance('cfgpp:0.6'));
  assert.deepEqual({ ...apg(10, { normThreshold: 15 }) }, parseGuidance('apg:10,norm:15'));
  assert.deepEqual({ ...noGuidance() }, { kind: 'none', cond: 'cond' });
  assert.deepEqual(Object.keys(cfg(3).dropFromFraction(0.5, { keep: 'cond' })), ['kind', 'scale', 'drop']);
});

const name = fc.stringMatching(/^[a-z][a-z0-9_.+()-]{0,8}$/);
const specArb: fc.Arbitrary<GuidanceSpec> = fc
  .record({
    kind: fc.constantFrom('cfg' as const, 'cfgpp' as const, 'apg' as const),
    scale: fc.oneof(fc.double({ min: 0, max: 20, noNaN: true }), fc.record({ from: fc.double({ min: 0, max: 20, noNaN: true }), to: fc.double({ min: 0, max: 20, noNaN: true }) })),
    cond: fc.option(fc.oneof(name, fc.tuple(name, name, fc.integer({ min: 1, max: 40 })).map(([a, b, at]) => [{ name: a, fromStep: 0 }, { name: b, fromStep: at }])), { nil: undefined }),
    uncond: fc.option(name, { nil: undefined }),
    drop: fc.option(fc.record({ fromStep: fc.integer({ min: 0, max: 60 }), keep: fc.constantFrom('cond' as const, 'uncond' as const) }), { nil: undefined }),
    rescale: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    apg: fc.record({ eta: fc.double({ min: -1, max: 2, noNaN: true }), normThreshold: fc.double({ min: 0, max: 30, noNaN: true }), momentum: fc.double({ min: -0.9, max: 0.9, noNaN: true }) }),
  })
  .map(({ apg: params, ...s }) => {
    const out: Record<string, unknown> = { kind: s.kind, scale: s.scale };
    for (const key of ['cond', 'uncond', 'drop', 'rescale'] as const) if (s[key] !== undefined) out[key] = s[key];
    if (s.kind === 'apg') out['apg'] = params;
    return out as unknown as GuidanceSpec;
  })
  .filter((s) => !(s.cond !== undefined && s.cond === 'cond') && !(s.uncond !== undefined && s.uncond === 'uncond'));

test('formatGuidance and parseGuidance are inverse on specs the compact form can say', () => {
  fc.assert(
    fc.property(specArb, (spec) => {
      assert.deepEqual(parseGuidance(formatGuidance(spec)), JSON.parse(JSON.stringify(spec)));
    }),
    { numRuns: 200, seed: 31 },
  );
});

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseGuidance(text),
    (e: unknown) => {
      assert.ok(e instanceof GuidanceSpecError, `expected a GuidanceSpecError for ${text}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('bad compact specs are rejected with where, what was expected and what was found', () => {
  rejects('cfg:7.5,foo:1', /"cfg:7\.5,foo:1" at character 8: expected a clause drop@, interval:, sigma:, rescale:, cond:, uncond:, neg:, eta:, norm: or momentum:, found "foo:1"/);
  rejects('cgf:7.5', /at character 0: expected 'none', 'cfg:SCALE', 'cfgpp:SCALE' or 'apg:SCALE', found "cgf:7\.5"/);
  rejects('cfg:-1', /at character 4: expected a scale ≥ 0 or FROM->TO, found "-1"/);
  rejects('cfg:seven', /at character 4: expected a scale ≥ 0 or FROM->TO, found "seven"/);
  rejects('cfg:7.5,drop@-3:uncond', /at character 13: expected a step \(integer ≥ 0\) or a fraction of the run \(0\.x\), found "-3"/);
  rejects('cfg:7.5,drop@30:both', /at character 16: expected 'cond' or 'uncond' \(the branch that survives\), found "both"/);
  rejects('cfg:7.5,drop@30', /at character 13: expected drop@STEP:cond or drop@STEP:uncond, found "drop@30"/);
  rejects('cfg:7.5,interval:0.8-0.2', /at character 21: expected an end above the start 0\.8, found "0\.2"/);
  rejects('cfg:7.5,interval:0.2-1.5', /expected a fraction of the run ≤ 1 \(use sigma:LO-HI for noise levels\), found "1\.5"/);
  rejects('cfg:7.5,rescale:0.5,rescale:0.7', /at character 20: expected 'rescale' at most once \(first given at character 8\), found "rescale:0\.7"/);
  rejects('cfg:7.5,cond:a,neg:x,uncond:y', /expected 'uncond' at most once/);
  rejects('cfg:7.5,rescale:1.5', /at \$\.rescale: expected a number φ in \[0, 1\], found 1\.5/);
  rejects('cfg:7.5,cond:a|b@10|c@5', /at \$\.cond\[2\]: expected a start after entry 1 \(step 10\); ranges must not overlap/);
  rejects('cfg:7.5,cond:a|b@0', /at \$\.cond\[1\]\.fromStep: expected an integer step ≥ 1, found 0/);
  rejects('cfg:7.5,cond:a|b', /expected NAME@STEP after a "\|", found "b"/);
  rejects('cfg:7.5,cond:a,b', /at character 15: expected a clause .*found "b"/);
  rejects('cfg:7,eta:0', /at character 6: expected 'eta:' only after an 'apg:' head, found "eta:0"/);
  rejects('apg:7,momentum:1.5', /at \$\.apg\.momentum: expected a number in \(−1, 1\) \(0 turns it off\), found 1\.5/);
  rejects('cfg: 7', /at character 4: expected no whitespace/);
  rejects('none,rescale:0.5', /at \$\.rescale: expected nothing for kind 'none'/);
});

test('bad JSON specs are rejected with the JSON path', () => {
  const fails = (value: unknown, pattern: RegExp) =>
    assert.throws(
      () => validateGuidance(value),
      (e: unknown) => e instanceof GuidanceSpecError && pattern.test(e.message),
    );
  fails({ kind: 'cfg', scale: 7, foo: 1 }, /at \$\.foo: expected one of the keys kind, scale, cond, uncond, drop, interval, rescale, apg, found "foo"/);
  fails({ kind: 'cfg' }, /at \$\.scale: expected a guidance scale for kind 'cfg', found nothing/);
  fails({ kind: 'cfg', scale: [1, -2] }, /at \$\.scale\[1\]: expected a finite number ≥ 0, found -2/);
  fails({ kind: 'cfg', scale: 7, drop: { fromStep: 3, fromFraction: 0.5, keep: 'cond' } }, /at \$\.drop: expected exactly one of fromStep and fromFraction/);
  fails({ kind: 'cfg', scale: 7, drop: { fromStep: -1, keep: 'cond' } }, /at \$\.drop\.fromStep: expected an integer step ≥ 0, found -1/);
  fails({ kind: 'cfg', scale: 7, cond: [{ name: 'a', fromStep: 2 }] }, /at \$\.cond\[0\]: expected the first entry to start at step 0/);
  fails({ kind: 'cfg', scale: 7, interval: { from: 0.5, to: 0.4, by: 'progress' } }, /at \$\.interval\.to: expected a number > from \(0\.5\), found 0\.4/);
  fails({ kind: 'apg', scale: 7 }, /at \$\.apg: expected APG parameters \{eta, normThreshold, momentum\} for kind 'apg'/);
  fails('cfg:7', /at \$: expected an object, found "cfg:7"/);
});
