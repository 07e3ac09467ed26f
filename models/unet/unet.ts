// UNet2DConditionModel: time embedding → conv_in → down blocks → mid block → up blocks (with skips) → norm/SiLU/conv_out.
import {
  type Tensor, ShapeError, add, fmtShape, module, mul, nn, parameters, silu, tag,
} from '../../dsl/index.js';
import { type BlockSpec, downBlock, midBlock, upBlock } from './blocks.js';
import type { UNetConfig } from './config.js';
import { timestepEmbedding, timestepProjection } from './timestep.js';
import { type AttentionOverrides, checkOverrideLayers } from './variant.js';

export interface UNetOptions {
  /** Attention variants (scale per layer, token substitution): data applied while the graph is built. */
  readonly attention?: AttentionOverrides;
}

/** Side of the feature map at each level for an input of side `size` (3×3 stride-2 convs with padding 1 round up). */
export const levelSizes = (size: number, levels: number): number[] =>
  Array.from({ length: levels }, (_, i) => i).reduce<number[]>((acc, i) => [...acc, i === 0 ? size : Math.ceil(acc[i - 1] / 2)], []);

export const unet2DConditionModel = (c: UNetConfig, o: UNetOptions = {}) => {
  const boc = c.block_out_channels, n = boc.length, last = n - 1;
  const tembDim = c.time_embedding_dim ?? boc[0] * 4;
  const train = levelSizes(c.sample_size, n).map((s) => s * s);
  const spec = (path: string, level: number, layers: number, cross: boolean, heads: number, crossDim: number, tLayers: number): BlockSpec => ({
    path, layers, tembDim, groups: c.norm_num_groups, eps: c.norm_eps,
    attention: cross ? { heads, crossDim, transformerLayers: tLayers, useLinearProjection: c.use_linear_projection,
      onlyCrossAttention: c.only_cross_attention, trainTokens: train[level], overrides: o.attention } : undefined,
  });

  const down = c.down_block_types.map((type, i) =>
    downBlock(spec(`down_blocks.${i}`, i, c.layers_per_block[i], type === 'CrossAttnDownBlock2D', c.num_attention_heads[i],
      c.cross_attention_dim[i], c.transformer_layers_per_block[i]), i === 0 ? boc[0] : boc[i - 1], boc[i], i < last, c.downsample_padding));

  // Skip channels in push order: conv_in, then each down block's resnets and its downsampler.
  const skipCh = [boc[0], ...boc.flatMap((ch, i) => [...Array(c.layers_per_block[i]).fill(ch), ...(i < last ? [ch] : [])])];
  const rev = (xs: readonly number[]) => [...xs].reverse();
  const [rBoc, rLayers, rHeads, rCross, rTLayers] = [rev(boc), rev(c.layers_per_block), rev(c.num_attention_heads), rev(c.cross_attention_dim), rev(c.transformer_layers_per_block)];
  let taken = 0;
  const up = c.up_block_types.map((type, i) => {
    const layers = rLayers[i] + 1;
    const mine = skipCh.slice(skipCh.length - taken - layers, skipCh.length - taken).reverse();   // consumed last-first
    taken += layers;
    return upBlock(spec(`up_blocks.${i}`, last - i, layers, type === 'CrossAttnUpBlock2D', rHeads[i], rCross[i], rTLayers[i]),
      i === 0 ? rBoc[0] : rBoc[i - 1], rBoc[i], mine, i < last);
  });

  const mid = c.mid_block_type === null ? undefined
    : midBlock(spec('mid_block', last, 1, true, c.num_attention_heads[last], c.cross_attention_dim[last], c.transformer_layers_per_block[last]), boc[last], c.mid_block_scale_factor);

  const def = module({
    time_embedding: timestepEmbedding(boc[0], tembDim),
    conv_in: nn.conv2d(c.in_channels, boc[0], c.conv_in_kernel),
    down_blocks: down,
    mid_block: mid,
    up_blocks: up,
    conv_norm_out: nn.groupNorm(c.norm_num_groups, boc[0], c.norm_eps),
    conv_out: nn.conv2d(boc[0], c.out_channels, c.conv_out_kernel),
  }, (p, sample: Tensor, timesteps: Tensor, encoderHiddenStates: Tensor): Tensor => {
    checkInputs(c, sample, timesteps, encoderHiddenStates);
    const x = c.center_input_sample ? add(mul(sample, 2), -1) : sample;
    const tProj = tag(timestepProjection(timesteps, boc[0], { flipSinToCos: c.flip_sin_to_cos, freqShift: c.freq_shift }), 'time_proj');
    const emb = tag(p.time_embedding(tProj), 'time_embedding');
    let h = tag(p.conv_in(x), 'conv_in');
    const skips: Tensor[] = [h];
    for (const block of p.down_blocks) {
      const r = block(h, emb, encoderHiddenStates);
      h = r.hidden;
      skips.push(...r.skips);
    }
    if (p.mid_block) h = p.mid_block(h, emb, encoderHiddenStates);
    p.up_blocks.forEach((block, i) => {
      const k = rLayers[i] + 1;
      h = block(h, skips.splice(skips.length - k, k), emb, encoderHiddenStates);
    });
    return p.conv_out(silu(tag(p.conv_norm_out(h), 'conv_norm_out')));
  });

  const names = parameters(def).map((q) => q.name);
  const attn = names.filter((m) => /\.attn[12]\.to_q\.weight$/.test(m)).map((m) => m.replace(/\.to_q\.weight$/, ''));
  checkOverrideLayers(o.attention, attn, attn.filter((m) => m.endsWith('.attn2')));
  return def;
};

function checkInputs(c: UNetConfig, sample: Tensor, t: Tensor, ctx: Tensor): void {
  const what = `UNet2DConditionModel(sample: ${fmtShape(sample.shape)}, timesteps: ${fmtShape(t.shape)}, encoder_hidden_states: ${fmtShape(ctx.shape)})`;
  const down = 2 ** (c.block_out_channels.length - 1);
  const [, ch, h, w] = sample.shape;
  if (sample.rank !== 4 || ch !== c.in_channels) throw new ShapeError(`${what}: sample must be [B, ${c.in_channels}, H, W]`);
  if (typeof h !== 'number' || typeof w !== 'number' || h % down || w % down) throw new ShapeError(`${what}: H and W must be multiples of ${down}`);
  if (t.rank !== 1 || t.shape[0] !== sample.shape[0]) throw new ShapeError(`${what}: timesteps must be [B] with B = ${sample.shape[0]}`);
  if (ctx.rank !== 3 || ctx.shape[0] !== sample.shape[0] || !c.cross_attention_dim.includes(ctx.shape[2] as number)) {
    throw new ShapeError(`${what}: encoder_hidden_states must be [B, M, ${c.cross_attention_dim[0]}]`);
  }
}
