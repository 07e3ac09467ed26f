// Text encoder parameter path → original checkpoint key.
//  SD 1.x: cond_stage_model.transformer.<transformers key> (older exports omit 'text_model.').
//  SD 2.x: OpenCLIP under cond_stage_model.model.: transformer.resblocks.i.{ln_1, attn.in_proj (q,k,v stacked), attn.out_proj,
//          ln_2, mlp.c_fc, mlp.c_proj}, token_embedding, positional_embedding, ln_final. Extra resblocks (SD 2.x uses 23 of 24)
//          and text_projection / logit_scale are not parameters of the text model and are ignored.
import type { ClipTextConfig } from '../clip/config.js';
import { type LdmRef, UnmappedParameterError } from './ldm-ref.js';

export type TextEncoderLayout = 'sd1' | 'sd2';
export const LDM_CLIP_PREFIX: Record<TextEncoderLayout, string> = { sd1: 'cond_stage_model.transformer.', sd2: 'cond_stage_model.model.' };

export function ldmClipKeys(c: ClipTextConfig, layout: TextEncoderLayout): (name: string) => LdmRef {
  if (layout === 'sd1') {
    const p = LDM_CLIP_PREFIX.sd1;
    return (name) => ({ key: p + name, alternatives: [p + name.replace(/^text_model\./, '')] });
  }
  const p = LDM_CLIP_PREFIX.sd2, D = c.hidden_size;
  const PARTS: Record<string, string> = { layer_norm1: 'ln_1', layer_norm2: 'ln_2', 'self_attn.out_proj': 'attn.out_proj', 'mlp.fc1': 'mlp.c_fc', 'mlp.fc2': 'mlp.c_proj' };
  return (name) => {
    let m: RegExpMatchArray | null;
    if (name === 'text_model.embeddings.token_embedding.weight') return { key: `${p}token_embedding.weight` };
    if (name === 'text_model.embeddings.position_embedding.weight') return { key: `${p}positional_embedding` };
    if ((m = name.match(/^text_model\.final_layer_norm\.(weight|bias)$/))) return { key: `${p}ln_final.${m[1]}` };
    if ((m = name.match(/^text_model\.encoder\.layers\.(\d+)\.self_attn\.([qkv])_proj\.(weight|bias)$/))) {
      const at = 'qkv'.indexOf(m[2]);
      return { key: `${p}transformer.resblocks.${m[1]}.attn.in_proj_${m[3]}`, rows: [at * D, (at + 1) * D] };
    }
    if ((m = name.match(/^text_model\.encoder\.layers\.(\d+)\.(layer_norm1|layer_norm2|self_attn\.out_proj|mlp\.fc1|mlp\.fc2)\.(weight|bias)$/))) {
      return { key: `${p}transformer.resblocks.${m[1]}.${PARTS[m[2]]}.${m[3]}` };
    }
    throw new UnmappedParameterError('text_encoder', name);
  };
}
