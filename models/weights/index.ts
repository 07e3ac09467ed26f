export { expectedParameters } from './expected.js';
export { loadDiffusersComponent, readComponentConfig, type WeightMap } from './diffusers.js';
export { loadLdmComponents, loadStableDiffusionCheckpoint, detectTextEncoderLayout, type LdmComponent, type StableDiffusionParts } from './single-file.js';
export { ldmUnetKeys, LDM_UNET_PREFIX } from './ldm-unet.js';
export { ldmVaeKeys, LDM_VAE_PREFIX } from './ldm-vae.js';
export { ldmClipKeys, LDM_CLIP_PREFIX, type TextEncoderLayout } from './ldm-clip.js';
export { type LdmRef, UnmappedParameterError, storedShape } from './ldm-ref.js';
export { toLdmTensors, type LdmTensor } from './ldm-export.js';
