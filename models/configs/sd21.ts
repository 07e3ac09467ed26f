// Stable Diffusion 2.1 (768-v)'s component configs, as in the stabilityai/stable-diffusion-2-1 folders' config.json files.
// The UNet uses linear proj_in/proj_out and per-block head counts (attention_head_dim is the head COUNT in diffusers);
// the text encoder is OpenCLIP ViT-H/14 with gelu, stored with 23 of its 24 layers: the penultimate layer, then
// final_layer_norm, is what conditions the UNet.
export const SD21_UNET = {
  _class_name: 'UNet2DConditionModel', act_fn: 'silu', attention_head_dim: [5, 10, 20, 20], block_out_channels: [320, 640, 1280, 1280],
  center_input_sample: false, cross_attention_dim: 1024,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  downsample_padding: 1, dual_cross_attention: false, flip_sin_to_cos: true, freq_shift: 0, in_channels: 4, layers_per_block: 2,
  mid_block_scale_factor: 1, norm_eps: 1e-5, norm_num_groups: 32, num_class_embeds: null, only_cross_attention: false,
  out_channels: 4, sample_size: 96,
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  upcast_attention: true, use_linear_projection: true,
} as const;

export const SD21_VAE = {
  _class_name: 'AutoencoderKL', act_fn: 'silu', block_out_channels: [128, 256, 512, 512],
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  in_channels: 3, latent_channels: 4, layers_per_block: 2, norm_num_groups: 32, out_channels: 3, sample_size: 768,
  scaling_factor: 0.18215,
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
} as const;

export const SD21_TEXT_ENCODER = {
  architectures: ['CLIPTextModel'], attention_dropout: 0.0, bos_token_id: 0, eos_token_id: 2, hidden_act: 'gelu',
  hidden_size: 1024, initializer_factor: 1.0, initializer_range: 0.02, intermediate_size: 4096, layer_norm_eps: 1e-5,
  max_position_embeddings: 77, model_type: 'clip_text_model', num_attention_heads: 16, num_hidden_layers: 23, pad_token_id: 1,
  projection_dim: 512, vocab_size: 49408,
} as const;
