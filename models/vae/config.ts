// AutoencoderKL's config.json (vae/config.json).
import { type Json, ConfigError, fields } from '../configs/fields.js';

export interface VaeConfig {
  readonly in_channels: number;
  readonly out_channels: number;
  readonly latent_channels: number;
  readonly block_out_channels: readonly number[];
  readonly layers_per_block: number;
  readonly norm_num_groups: number;
  readonly sample_size: number;
  /** Applied by the pipeline (latents / scaling_factor before decode), never inside the graph. */
  readonly scaling_factor: number;
  readonly shift_factor: number | null;
  readonly mid_block_add_attention: boolean;
  readonly use_quant_conv: boolean;
  readonly use_post_quant_conv: boolean;
}

export function vaeConfig(json: Json, where = 'vae/config.json'): VaeConfig {
  const f = fields(json, where);
  const boc = f.ints('block_out_channels', [64]);
  const down = f.strs('down_block_types', boc.map(() => 'DownEncoderBlock2D'));
  const up = f.strs('up_block_types', boc.map(() => 'UpDecoderBlock2D'));
  if (down.length !== boc.length || down.some((t) => t !== 'DownEncoderBlock2D')) throw new ConfigError(where, 'down_block_types', `${boc.length} × 'DownEncoderBlock2D'`, down);
  if (up.length !== boc.length || up.some((t) => t !== 'UpDecoderBlock2D')) throw new ConfigError(where, 'up_block_types', `${boc.length} × 'UpDecoderBlock2D'`, up);
  f.neutral('act_fn', 'silu');
  f.neutral('latents_mean', null);
  f.neutral('latents_std', null);
  return {
    in_channels: f.int('in_channels', 3),
    out_channels: f.int('out_channels', 3),
    latent_channels: f.int('latent_channels', 4),
    block_out_channels: boc,
    layers_per_block: f.int('layers_per_block', 1),
    norm_num_groups: f.int('norm_num_groups', 32),
    sample_size: f.int('sample_size', 32),
    scaling_factor: f.num('scaling_factor', 0.18215),
    shift_factor: json.shift_factor == null ? null : f.num('shift_factor'),
    mid_block_add_attention: f.bool('mid_block_add_attention', true),
    use_quant_conv: f.bool('use_quant_conv', true),
    use_post_quant_conv: f.bool('use_post_quant_conv', true),
  };
}
