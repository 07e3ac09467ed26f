// UNet parameter path → original LDM (CompVis) key, for ANY geometry: block indices follow openaimodel.py's own numbering.
//   input_blocks:  0 = conv_in; level i holds L_i resnet(+attention) blocks, then a downsampler unless last.
//   middle_block:  resnet, (attention, resnet)…
//   output_blocks: level i holds L_i+1 resnet(+attention) blocks; the upsampler sits in the last of them (index 1, or 2 after an attention).
import type { UNetConfig } from '../unet/config.js';
import { type LdmRef, UnmappedParameterError } from './ldm-ref.js';

export const LDM_UNET_PREFIX = 'model.diffusion_model.';

const RESNET: Record<string, string> = {
  norm1: 'in_layers.0', conv1: 'in_layers.2', time_emb_proj: 'emb_layers.1',
  norm2: 'out_layers.0', conv2: 'out_layers.3', conv_shortcut: 'skip_connection',
};

const resnetRest = (rest: string, name: string): string => {
  const [layer, ...tail] = rest.split('.');
  if (!(layer in RESNET)) throw new UnmappedParameterError('unet', name);
  return [RESNET[layer], ...tail].join('.');
};

export function ldmUnetKeys(c: UNetConfig): (name: string) => LdmRef {
  const inStart = c.layers_per_block.map((_, i) => 1 + c.layers_per_block.slice(0, i).reduce((a, l) => a + l + 1, 0));
  const upLayers = [...c.layers_per_block].reverse().map((l) => l + 1);
  const outStart = upLayers.map((_, i) => upLayers.slice(0, i).reduce((a, l) => a + l, 0));
  const key = (k: string): LdmRef => ({ key: LDM_UNET_PREFIX + k });
  return (name) => {
    let m: RegExpMatchArray | null;
    if ((m = name.match(/^time_embedding\.linear_([12])\.(.+)$/))) return key(`time_embed.${m[1] === '1' ? 0 : 2}.${m[2]}`);
    if ((m = name.match(/^conv_in\.(.+)$/))) return key(`input_blocks.0.0.${m[1]}`);
    if ((m = name.match(/^conv_norm_out\.(.+)$/))) return key(`out.0.${m[1]}`);
    if ((m = name.match(/^conv_out\.(.+)$/))) return key(`out.2.${m[1]}`);
    if ((m = name.match(/^down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) return key(`input_blocks.${inStart[+m[1]] + +m[2]}.0.${resnetRest(m[3], name)}`);
    if ((m = name.match(/^down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/))) return key(`input_blocks.${inStart[+m[1]] + +m[2]}.1.${m[3]}`);
    if ((m = name.match(/^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/))) return key(`input_blocks.${inStart[+m[1]] + c.layers_per_block[+m[1]]}.0.op.${m[2]}`);
    if ((m = name.match(/^mid_block\.resnets\.(\d+)\.(.+)$/))) return key(`middle_block.${2 * +m[1]}.${resnetRest(m[2], name)}`);
    if ((m = name.match(/^mid_block\.attentions\.(\d+)\.(.+)$/))) return key(`middle_block.${2 * +m[1] + 1}.${m[2]}`);
    if ((m = name.match(/^up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) return key(`output_blocks.${outStart[+m[1]] + +m[2]}.0.${resnetRest(m[3], name)}`);
    if ((m = name.match(/^up_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/))) return key(`output_blocks.${outStart[+m[1]] + +m[2]}.1.${m[3]}`);
    if ((m = name.match(/^up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/))) {
      const i = +m[1], withAttention = c.up_block_types[i] === 'CrossAttnUpBlock2D';
      return key(`output_blocks.${outStart[i] + upLayers[i] - 1}.${withAttention ? 2 : 1}.conv.${m[2]}`);
    }
    throw new UnmappedParameterError('unet', name);
  };
}
