// AutoencoderKL through the float64 evaluator reproduces diffusers (vae-tiny golden case): decode, and encode's mean/logvar.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exp, input, instantiate, mul } from '../../dsl/index.js';
import { autoencoderKL, vaeConfig } from '../../models/vae/index.js';
import { evaluateWithCaptures, goldenModel, relL2 } from '../support/golden.js';

test('vae-tiny: decode, encode mean/logvar/std and every named intermediate match diffusers (rel-L2 < 1e-5)', async () => {
  const { def, weights, io } = await goldenModel('vae-tiny', 'vae', vaeConfig, autoencoderKL);
  const latent = io.get('latent')!, image = io.get('image')!;
  const vae = instantiate(def)();
  const decoded = vae.decode(input('latent', latent.shape));
  const { mean, logvar } = vae.encode(input('image', image.shape));
  const intermediates = [...io.keys()].filter((k) => k.startsWith('encoder.') || k.startsWith('decoder.'));
  const { outputs, captured } = evaluateWithCaptures([decoded, mean, logvar, exp(mul(logvar, 0.5))], intermediates,
    { ...Object.fromEntries(weights), latent: latent.data, image: image.data });
  const errors: string[] = [];
  const golden: [string, Float64Array][] = [['decode.sample', outputs[0]], ['encode.mean', outputs[1]], ['encode.logvar', outputs[2]], ['encode.std', outputs[3]],
    ...intermediates.map((k): [string, Float64Array] => [k, captured.get(k)!])];
  for (const [name, value] of golden) {
    const err = relL2(value, io.get(name)!.data);
    if (!(err < 1e-5)) errors.push(`${name}: rel-L2 ${err.toExponential(2)}`);
  }
  assert.ok(intermediates.length >= 10, `intermediates: ${intermediates.join(', ')}`);
  assert.deepEqual(errors, []);
});
