export { SD15_UNET, SD15_VAE, SD15_TEXT_ENCODER } from './sd15.js';
export { SD21_UNET, SD21_VAE, SD21_TEXT_ENCODER } from './sd21.js';
export { TINY_UNET, TINY_VAE, TINY_TEXT_ENCODER, writeTinyPipeline, randomWeights, type TinyLayout, type TinyPipeline } from './tiny.js';
export { ConfigError, fields, type Json } from './fields.js';
