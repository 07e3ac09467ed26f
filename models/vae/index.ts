export { type VaeConfig, vaeConfig } from './config.js';
export { autoencoderKL, type VaeGraphs } from './autoencoder-kl.js';
export { vaeEncoder } from './encoder.js';
export { vaeDecoder } from './decoder.js';
export { vaeMidBlock, vaeAttention } from './mid-block.js';
