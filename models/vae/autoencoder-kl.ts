// AutoencoderKL: encode(image) → (mean, logvar) of the latent; decode(latent) → image. scaling_factor is the pipeline's.
import { type Tensor, ShapeError, chunk, fmtShape, maximum, minimum, module, nn, tag } from '../../dsl/index.js';
import type { VaeConfig } from './config.js';
import { vaeDecoder } from './decoder.js';
import { vaeEncoder } from './encoder.js';

export interface VaeGraphs {
  /** image [B, in_channels, H, W] → latent mean and logvar [B, latent_channels, H/f, W/f] (logvar clamped to [−30, 20]). */
  readonly encode: (image: Tensor) => { readonly mean: Tensor; readonly logvar: Tensor };
  /** latent [B, latent_channels, h, w] (already divided by scaling_factor) → image [B, out_channels, h·f, w·f]. */
  readonly decode: (latent: Tensor) => Tensor;
}

/** Instantiate, then call with no arguments to get { encode, decode }; each graph reads only its own half's parameters. */
export const autoencoderKL = (c: VaeConfig) => {
  const L = c.latent_channels;
  return module({
    encoder: vaeEncoder(c),
    decoder: vaeDecoder(c),
    quant_conv: c.use_quant_conv ? nn.conv2d(2 * L, 2 * L, 1) : undefined,
    post_quant_conv: c.use_post_quant_conv ? nn.conv2d(L, L, 1) : undefined,
  }, (p): VaeGraphs => ({
    encode: (image) => {
      if (image.rank !== 4 || image.shape[1] !== c.in_channels) throw new ShapeError(`AutoencoderKL.encode(image: ${fmtShape(image.shape)}): expected [B, ${c.in_channels}, H, W]`);
      const h = p.encoder(image);
      const moments = tag(p.quant_conv ? p.quant_conv(h) : h, 'encoder.quant_conv');
      const [mean, logvar] = chunk(moments, 2, 1);
      return { mean, logvar: minimum(maximum(logvar, -30), 20) };
    },
    decode: (latent) => {
      if (latent.rank !== 4 || latent.shape[1] !== L) throw new ShapeError(`AutoencoderKL.decode(latent: ${fmtShape(latent.shape)}): expected [B, ${L}, h, w]`);
      return p.decoder(tag(p.post_quant_conv ? p.post_quant_conv(latent) : latent, 'decoder.post_quant_conv'));
    },
  }));
};
