// CLIPTextConfig as transformers writes it to text_encoder/config.json (the fields the text model reads).
import { type Json, ConfigError, fields } from '../configs/fields.js';

export type ClipActivation = 'quick_gelu' | 'gelu';

export interface ClipTextConfig {
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly max_position_embeddings: number;
  readonly hidden_act: ClipActivation;
  readonly layer_norm_eps: number;
  readonly bos_token_id: number;
  readonly eos_token_id: number;
}

/** Validate a parsed config.json (defaults are transformers' CLIPTextConfig defaults). */
export function clipTextConfig(json: Json, where = 'text_encoder/config.json'): ClipTextConfig {
  const f = fields(json, where);
  const act = f.str('hidden_act', 'quick_gelu');
  if (act !== 'quick_gelu' && act !== 'gelu') f.neutral('hidden_act', 'quick_gelu', 'gelu');
  const c: ClipTextConfig = {
    vocab_size: f.int('vocab_size', 49408),
    hidden_size: f.int('hidden_size', 512),
    intermediate_size: f.int('intermediate_size', 2048),
    num_hidden_layers: f.int('num_hidden_layers', 12),
    num_attention_heads: f.int('num_attention_heads', 8),
    max_position_embeddings: f.int('max_position_embeddings', 77),
    hidden_act: act as ClipActivation,
    layer_norm_eps: f.num('layer_norm_eps', 1e-5),
    bos_token_id: f.int('bos_token_id', 49406),
    eos_token_id: f.int('eos_token_id', 49407),
  };
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw new ConfigError(where, 'num_attention_heads', `a divisor of hidden_size ${c.hidden_size}`, c.num_attention_heads);
  }
  return c;
}
