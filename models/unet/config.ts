// UNet2DConditionModel's config.json, with diffusers' int-or-list fields normalised to per-block lists.
import { type Json, ConfigError, fields } from '../configs/fields.js';

export type DownBlockType = 'CrossAttnDownBlock2D' | 'DownBlock2D';
export type UpBlockType = 'CrossAttnUpBlock2D' | 'UpBlock2D';

export interface UNetConfig {
  readonly sample_size: number;
  readonly in_channels: number;
  readonly out_channels: number;
  readonly center_input_sample: boolean;
  readonly flip_sin_to_cos: boolean;
  readonly freq_shift: number;
  readonly down_block_types: readonly DownBlockType[];
  readonly mid_block_type: 'UNetMidBlock2DCrossAttn' | null;
  readonly up_block_types: readonly UpBlockType[];
  readonly block_out_channels: readonly number[];
  /** Per down block (up blocks use it reversed, +1). */
  readonly layers_per_block: readonly number[];
  readonly downsample_padding: number;
  readonly mid_block_scale_factor: number;
  readonly norm_num_groups: number;
  readonly norm_eps: number;
  /** Per down block. */
  readonly cross_attention_dim: readonly number[];
  readonly transformer_layers_per_block: readonly number[];
  /**
   * Heads per down block. diffusers reads `num_attention_heads ?? attention_head_dim`: in SD configs
   * `attention_head_dim` is the head COUNT (8 for SD 1.x, [5,10,20,20] for SD 2.x), not the head width.
   */
  readonly num_attention_heads: readonly number[];
  readonly use_linear_projection: boolean;
  readonly only_cross_attention: boolean;
  readonly upcast_attention: boolean;
  readonly conv_in_kernel: number;
  readonly conv_out_kernel: number;
  readonly time_embedding_dim: number | null;
}

/** Validate a parsed unet/config.json (defaults are diffusers' UNet2DConditionModel defaults). */
export function unetConfig(json: Json, where = 'unet/config.json'): UNetConfig {
  const f = fields(json, where);
  const down = f.strs('down_block_types', ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D']);
  const up = f.strs('up_block_types', ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D']);
  for (const [k, list, ok] of [['down_block_types', down, ['CrossAttnDownBlock2D', 'DownBlock2D']], ['up_block_types', up, ['CrossAttnUpBlock2D', 'UpBlock2D']]] as const) {
    for (const t of list) if (!(ok as readonly string[]).includes(t)) throw new ConfigError(where, k, ok.join(' | '), t);
  }
  const boc = f.ints('block_out_channels', [320, 640, 1280, 1280]);
  const n = boc.length;
  if (down.length !== n || up.length !== n) throw new ConfigError(where, 'down_block_types/up_block_types', `${n} entries each (one per block_out_channels)`, { down, up });
  const mid = json.mid_block_type === undefined ? 'UNetMidBlock2DCrossAttn' : json.mid_block_type;
  if (mid !== 'UNetMidBlock2DCrossAttn' && mid !== null) throw new ConfigError(where, 'mid_block_type', "'UNetMidBlock2DCrossAttn' or null", mid);
  for (const k of ['class_embed_type', 'addition_embed_type', 'encoder_hid_dim', 'encoder_hid_dim_type', 'time_cond_proj_dim',
    'timestep_post_act', 'time_embedding_act_fn', 'num_class_embeds', 'cross_attention_norm']) f.neutral(k, null);
  f.neutral('act_fn', 'silu');
  f.neutral('time_embedding_type', 'positional');
  f.neutral('resnet_time_scale_shift', 'default');
  f.neutral('dual_cross_attention', false);
  f.neutral('attention_type', 'default');
  f.neutral('class_embeddings_concat', false);
  f.neutral('resnet_skip_time_act', false);
  f.neutral('resnet_out_scale_factor', 1, 1.0);
  f.neutral('mid_block_only_cross_attention', null, false);
  f.neutral('reverse_transformer_layers_per_block', null);
  const onlyCross = json.only_cross_attention ?? false;
  if (typeof onlyCross !== 'boolean') throw new ConfigError(where, 'only_cross_attention', 'a boolean (per-block lists are not implemented)', onlyCross);
  const heads = json.num_attention_heads ?? json.attention_head_dim ?? 8;
  return {
    sample_size: f.int('sample_size', 64),
    in_channels: f.int('in_channels', 4),
    out_channels: f.int('out_channels', 4),
    center_input_sample: f.bool('center_input_sample', false),
    flip_sin_to_cos: f.bool('flip_sin_to_cos', true),
    freq_shift: f.num('freq_shift', 0),
    down_block_types: down as DownBlockType[],
    mid_block_type: mid,
    up_block_types: up as UpBlockType[],
    block_out_channels: boc,
    layers_per_block: f.perBlock('layers_per_block', n, 2),
    downsample_padding: f.int('downsample_padding', 1),
    mid_block_scale_factor: f.num('mid_block_scale_factor', 1),
    norm_num_groups: f.int('norm_num_groups', 32),
    norm_eps: f.num('norm_eps', 1e-5),
    cross_attention_dim: f.perBlock('cross_attention_dim', n, 1280),
    transformer_layers_per_block: f.perBlock('transformer_layers_per_block', n, 1),
    num_attention_heads: fields({ heads }, where).perBlock('heads', n),
    use_linear_projection: f.bool('use_linear_projection', false),
    only_cross_attention: onlyCross,
    upcast_attention: f.bool('upcast_attention', false),
    conv_in_kernel: f.int('conv_in_kernel', 3),
    conv_out_kernel: f.int('conv_out_kernel', 3),
    time_embedding_dim: json.time_embedding_dim == null ? null : f.int('time_embedding_dim'),
  };
}
