// CLIPTextModel: token + position embeddings → causal pre-LN transformer → final layer norm; pooled token.
// Parameter paths are transformers' state-dict keys (text_model.embeddings.token_embedding.weight, …).
import {
  type Tensor, ShapeError, add, constant, fmtShape, module, nn, paramSpec, slice, tag,
} from '../../dsl/index.js';
import type { ClipTextConfig } from './config.js';
import { clipEncoderLayer } from './encoder-layer.js';
import { poolAt, pooledPosition } from './pooling.js';

export interface ClipTextOptions {
  /**
   * Which hidden state conditions the UNet: 0 = last_hidden_state; k > 0 = hidden_states[-(k+1)] passed through
   * final_layer_norm, as diffusers' `clip_skip` does. (SD 2.x needs none: its config already stops at layer 23.)
   */
  readonly clipSkip?: number;
}

export interface ClipTextOutput {
  /** Embeddings output, then every encoder layer's output (before final_layer_norm). */
  readonly hidden_states: readonly Tensor[];
  readonly last_hidden_state: Tensor;
  readonly pooler_output: Tensor;
  /** What the UNet's cross-attention reads (see ClipTextOptions.clipSkip). */
  readonly conditioning: Tensor;
}

/** Additive causal mask [L, L]: position i sees positions ≤ i (transformers fills the rest with f32's minimum). */
export const causalMask = (L: number): Tensor =>
  constant(Array.from({ length: L * L }, (_, k) => (k % L > Math.floor(k / L) ? -3.4028234663852886e38 : 0)), [L, L]);

const embeddings = (c: ClipTextConfig) =>
  module({
    token_embedding: nn.embedding(c.vocab_size, c.hidden_size),
    position_embedding: module({ weight: paramSpec([c.max_position_embeddings, c.hidden_size]) },
      (p, L: number) => slice(p.weight, 0, 0, L)),                      // position_ids = 0..L-1
  }, (p, ids: Tensor) => add(p.token_embedding(ids), p.position_embedding(ids.shape[1] as number)));

const encoder = (c: ClipTextConfig) =>
  module({ layers: Array.from({ length: c.num_hidden_layers }, () => clipEncoderLayer(c)) },
    (p, x: Tensor, mask: Tensor) => p.layers.reduce<Tensor[]>((hs, layer, i) => [...hs, tag(layer(hs[hs.length - 1], mask), `hidden_states.${i + 1}`)], [x]));

const textTransformer = (c: ClipTextConfig, o: ClipTextOptions) =>
  module({ embeddings: embeddings(c), encoder: encoder(c), final_layer_norm: nn.layerNorm(c.hidden_size, c.layer_norm_eps) },
    (p, ids: Tensor): ClipTextOutput => {
      const L = ids.shape[1];
      if (ids.rank !== 2 || ids.dtype !== 'i32' || typeof L !== 'number' || L > c.max_position_embeddings) {
        throw new ShapeError(`CLIPTextModel(input_ids: ${fmtShape(ids.shape)} ${ids.dtype}): expected i32 [B, L] with concrete L ≤ ${c.max_position_embeddings}`);
      }
      const hidden_states = p.encoder(tag(p.embeddings(ids), 'hidden_states.0'), causalMask(L));
      const last_hidden_state = tag(p.final_layer_norm(hidden_states[hidden_states.length - 1]), 'last_hidden_state');
      const pooler_output = tag(poolAt(last_hidden_state, pooledPosition(ids, c.eos_token_id)), 'pooler_output');
      const skip = o.clipSkip ?? 0;
      if (!Number.isInteger(skip) || skip < 0 || skip >= hidden_states.length) {
        throw new ShapeError(`CLIPTextModel: clipSkip ${skip} must be an integer in [0, ${hidden_states.length - 1}]`);
      }
      const conditioning = skip === 0 ? last_hidden_state : p.final_layer_norm(hidden_states[hidden_states.length - 1 - skip]);
      return { hidden_states, last_hidden_state, pooler_output, conditioning };
    });

/** transformers' CLIPTextModel: call the instantiated module with i32 input_ids [B, L]. */
export const clipTextModel = (c: ClipTextConfig, o: ClipTextOptions = {}) =>
  module({ text_model: textTransformer(c, o) }, (p, ids: Tensor) => p.text_model(ids));
