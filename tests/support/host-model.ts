// The pipeline's UNet and text encoder in float64 through the reference evaluator: the host-side model that
// device trajectories are checked against, row by row.
import { evaluate, input, instantiate } from '../../dsl/index.js';
import { clipTextModel } from '../../models/clip/index.js';
import type { PipelineComponents } from '../../models/pipeline/index.js';
import { unet2DConditionModel } from '../../models/unet/index.js';

/**
 * A model function (latent, t, branch name) → ε for latents of `latentShape`; each branch name in `prompts`
 * conditions on its prompt's text embedding, computed once up front.
 */
export function hostModel(c: PipelineComponents, latentShape: readonly number[], prompts: Record<string, string>) {
  const text = instantiate(clipTextModel(c.text.config))(input('ids', [1, c.tokenizer.maxLength], 'i32'));
  const embed = new Map(Object.entries(prompts).map(([name, p]) => [name, evaluate([text.conditioning], { ...Object.fromEntries(c.text.weights), ids: c.tokenizer.encode(p).ids })[0]]));
  const x = input('x', latentShape), t = input('t', [1]), ctx = input('ctx', [1, c.tokenizer.maxLength, c.text.config.hidden_size]);
  const out = instantiate(unet2DConditionModel(c.unet.config))(x, t, ctx);
  const weights = Object.fromEntries(c.unet.weights);
  return (u: ArrayLike<number>, tt: number, name: string) => evaluate([out], { ...weights, x: u, t: [tt], ctx: embed.get(name)! })[0];
}
