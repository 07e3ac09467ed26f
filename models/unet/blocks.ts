// The UNet's down, mid and up blocks (CrossAttnDownBlock2D / DownBlock2D, UNetMidBlock2DCrossAttn,
// UpBlock2D / CrossAttnUpBlock2D): resnets, optionally each followed by a Transformer2DModel, then a resampler.
import { type Tensor, concat, module, tag } from '../../dsl/index.js';
import { downsample2D } from './downsample.js';
import { resnetBlock2D } from './resnet.js';
import { transformer2D } from './transformer-2d.js';
import { upsample2D } from './upsample.js';
import type { AttentionOverrides } from './variant.js';

export interface BlockSpec {
  readonly path: string;               // 'down_blocks.0', 'mid_block', 'up_blocks.1'
  readonly layers: number;             // resnets in this block
  readonly tembDim: number;
  readonly groups: number;
  readonly eps: number;
  /** Cross-attention after every resnet (all but the first in the mid block); undefined for plain blocks. */
  readonly attention?: {
    readonly heads: number;
    readonly crossDim: number;
    readonly transformerLayers: number;
    readonly useLinearProjection: boolean;
    readonly onlyCrossAttention: boolean;
    readonly trainTokens: number;
    readonly overrides?: AttentionOverrides;
  };
}

const transformers = (s: BlockSpec, channels: number, count: number) =>
  s.attention === undefined ? undefined : Array.from({ length: count }, (_, j) => transformer2D({
    path: `${s.path}.attentions.${j}`, channels, heads: s.attention!.heads, layers: s.attention!.transformerLayers,
    crossDim: s.attention!.crossDim, groups: s.groups, useLinearProjection: s.attention!.useLinearProjection,
    onlyCrossAttention: s.attention!.onlyCrossAttention, trainTokens: s.attention!.trainTokens, overrides: s.attention!.overrides,
  }));

/** Down block: (resnet → attention?) × layers → downsample?; every stage's output is a skip for the up path. */
export const downBlock = (s: BlockSpec, cin: number, cout: number, addDownsample: boolean, downsamplePadding: number) =>
  module({
    resnets: Array.from({ length: s.layers }, (_, j) => resnetBlock2D(j === 0 ? cin : cout, cout, { groups: s.groups, eps: s.eps, tembDim: s.tembDim })),
    attentions: transformers(s, cout, s.layers),
    downsamplers: addDownsample ? [downsample2D(cout, cout, downsamplePadding)] : undefined,
  }, (p, x: Tensor, temb: Tensor, context: Tensor) => {
    const skips: Tensor[] = [];
    let h = x;
    p.resnets.forEach((resnet, j) => {
      h = resnet(h, temb);
      if (p.attentions) h = p.attentions[j](h, context);
      skips.push(h);
    });
    if (p.downsamplers) skips.push((h = p.downsamplers[0](h)));
    return { hidden: tag(h, s.path), skips: skips.map((t, k) => tag(t, `${s.path}.res_samples.${k}`)) };
  });

/** UNetMidBlock2DCrossAttn: resnet, then (attention → resnet) × layers. */
export const midBlock = (s: BlockSpec, channels: number, outputScaleFactor: number) =>
  module({
    resnets: Array.from({ length: s.layers + 1 }, () => resnetBlock2D(channels, channels, { groups: s.groups, eps: s.eps, tembDim: s.tembDim, outputScaleFactor })),
    attentions: transformers(s, channels, s.layers),
  }, (p, x: Tensor, temb: Tensor, context: Tensor) => {
    let h = p.resnets[0](x, temb);
    p.attentions?.forEach((attn, j) => (h = p.resnets[j + 1](attn(h, context), temb)));
    return tag(h, s.path);
  });

/** Up block: (concat skip → resnet → attention?) × layers → upsample?; skips are consumed last-in first-out. */
export const upBlock = (s: BlockSpec, prevOut: number, cout: number, skipChannels: readonly number[], addUpsample: boolean) =>
  module({
    resnets: Array.from({ length: s.layers }, (_, j) =>
      resnetBlock2D((j === 0 ? prevOut : cout) + skipChannels[j], cout, { groups: s.groups, eps: s.eps, tembDim: s.tembDim })),
    attentions: transformers(s, cout, s.layers),
    upsamplers: addUpsample ? [upsample2D(cout)] : undefined,
  }, (p, x: Tensor, skips: readonly Tensor[], temb: Tensor, context: Tensor) => {
    let h = x;
    p.resnets.forEach((resnet, j) => {
      h = resnet(concat([h, skips[skips.length - 1 - j]], 1), temb);
      if (p.attentions) h = p.attentions[j](h, context);
    });
    if (p.upsamplers) h = p.upsamplers[0](h);
    return tag(h, s.path);
  });
