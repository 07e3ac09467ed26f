// CLIPEncoderLayer: pre-LN transformer block.  x + attn(ln1 x);  x + mlp(ln2 x);  mlp = fc2(act(fc1 ·)).
import { type Tensor, add, gelu, module, nn, quickGelu } from '../../dsl/index.js';
import { clipAttention } from './attention.js';
import type { ClipTextConfig } from './config.js';

export const clipMlp = (c: ClipTextConfig) =>
  module({ fc1: nn.linear(c.hidden_size, c.intermediate_size), fc2: nn.linear(c.intermediate_size, c.hidden_size) },
    (p, x: Tensor) => p.fc2((c.hidden_act === 'gelu' ? gelu : quickGelu)(p.fc1(x))));

export const clipEncoderLayer = (c: ClipTextConfig) =>
  module({
    layer_norm1: nn.layerNorm(c.hidden_size, c.layer_norm_eps), self_attn: clipAttention(c),
    layer_norm2: nn.layerNorm(c.hidden_size, c.layer_norm_eps), mlp: clipMlp(c),
  }, (p, x: Tensor, causalMask: Tensor) => {
    const h = add(x, p.self_attn(p.layer_norm1(x), causalMask));
    return add(h, p.mlp(p.layer_norm2(h)));
  });
