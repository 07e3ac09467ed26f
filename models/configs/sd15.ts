// Stable Diffusion 1.5's component configs, as in the runwayml/stable-diffusion-v1-5 folders' config.json files.
export const SD15_UNET = {
  _class_name: 'UNet2DConditionModel', act_fn: 'silu', attention_head_dim: 8, block_out_channels: [320, 640, 1280, 1280],
  center_input_sample: false, cross_attention_dim: 768,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  downsample_padding: 1, flip_sin_to_cos: true, freq_shift: 0, in_channels: 4, layers_per_block: 2, mid_block_scale_factor: 1,
  norm_eps: 1e-5, norm_num_groups: 32, out_channels: 4, sample_size: 64,
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
} as const;

export const SD15_VAE = {
  _class_name: 'AutoencoderKL', act_fn: 'silu', block_out_channels: [128, 256, 512, 512],
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  in_channels: 3, latent_channels: 4, layers_per_block: 2, norm_num_groups: 32, out_channels: 3, sample_size: 512,
  scaling_factor: 0.18215,
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
} as const;

/** openai/clip-vit-large-patch14's text model (bos 0 / eos 2 in the config, hence transformers' legacy argmax pooling). */
export const SD15_TEXT_ENCODER = {
  architectures: ['CLIPTextModel'], attention_dropout: 0.0, bos_token_id: 0, eos_token_id: 2, hidden_act: 'quick_gelu',
  hidden_size: 768, initializer_factor: 1.0, initializer_range: 0.02, intermediate_size: 3072, layer_norm_eps: 1e-5,
  max_position_embeddings: 77, model_type: 'clip_text_model', num_attention_heads: 12, num_hidden_layers: 12, pad_token_id: 1,
  projection_dim: 768, vocab_size: 49408,
} as const;
