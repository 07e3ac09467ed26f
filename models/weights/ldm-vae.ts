// VAE parameter path → original LDM key (first_stage_model.…): down.i.block.j, mid.block_1/attn_1/block_2,
// up.{n−1−i} (the LDM decoder numbers its levels from the bottom), norm_out; attention q/k/v/proj_out are 1×1 convs.
import type { VaeConfig } from '../vae/config.js';
import { type LdmRef, UnmappedParameterError } from './ldm-ref.js';

export const LDM_VAE_PREFIX = 'first_stage_model.';

const resnetRest = (rest: string) => rest.replace(/^conv_shortcut\./, 'nin_shortcut.');
const ATTENTION: Record<string, string> = { group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' };

export function ldmVaeKeys(c: VaeConfig): (name: string) => LdmRef {
  const n = c.block_out_channels.length;
  const key = (k: string, conv1x1 = false): LdmRef => ({ key: LDM_VAE_PREFIX + k, ...(conv1x1 ? { conv1x1 } : {}) });
  return (name) => {
    let m: RegExpMatchArray | null;
    if ((m = name.match(/^(quant_conv|post_quant_conv)\.(.+)$/))) return key(name);
    if ((m = name.match(/^(encoder|decoder)\.(conv_in|conv_out)\.(.+)$/))) return key(name);
    if ((m = name.match(/^(encoder|decoder)\.conv_norm_out\.(.+)$/))) return key(`${m[1]}.norm_out.${m[2]}`);
    if ((m = name.match(/^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) return key(`encoder.down.${m[1]}.block.${m[2]}.${resnetRest(m[3])}`);
    if ((m = name.match(/^encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/))) return key(`encoder.down.${m[1]}.downsample.conv.${m[2]}`);
    if ((m = name.match(/^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) return key(`decoder.up.${n - 1 - +m[1]}.block.${m[2]}.${resnetRest(m[3])}`);
    if ((m = name.match(/^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/))) return key(`decoder.up.${n - 1 - +m[1]}.upsample.conv.${m[2]}`);
    if ((m = name.match(/^(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.+)$/))) return key(`${m[1]}.mid.block_${+m[2] + 1}.${resnetRest(m[3])}`);
    if ((m = name.match(/^(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(weight|bias)$/))) {
      return key(`${m[1]}.mid.attn_1.${ATTENTION[m[2]]}.${m[3]}`, m[2] !== 'group_norm' && m[3] === 'weight');
    }
    throw new UnmappedParameterError('vae', name);
  };
}
