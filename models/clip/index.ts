export { type ClipTextConfig, type ClipActivation, clipTextConfig } from './config.js';
export { clipTextModel, causalMask, type ClipTextOptions, type ClipTextOutput } from './text-model.js';
export { clipEncoderLayer, clipMlp } from './encoder-layer.js';
export { clipAttention } from './attention.js';
export { pooledPosition, poolAt } from './pooling.js';
