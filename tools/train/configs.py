"""Model configs of kiln-shapes in the exact format diffusers / transformers write them."""


def unet_config(boc=(64, 128, 128), layers=1, heads=4, groups=32, xdim=128, down=None, up=None):
    n = len(boc)
    down = down or (["CrossAttnDownBlock2D"] * (n - 1) + ["DownBlock2D"])
    up = up or (["UpBlock2D"] + ["CrossAttnUpBlock2D"] * (n - 1))
    return {
        "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.31.0", "act_fn": "silu",
        "addition_embed_type": None, "addition_embed_type_num_heads": 64, "addition_time_embed_dim": None,
        "attention_head_dim": heads, "attention_type": "default", "block_out_channels": list(boc),
        "center_input_sample": False, "class_embed_type": None, "class_embeddings_concat": False,
        "conv_in_kernel": 3, "conv_out_kernel": 3, "cross_attention_dim": xdim, "cross_attention_norm": None,
        "down_block_types": down, "downsample_padding": 1, "dropout": 0.0, "dual_cross_attention": False,
        "encoder_hid_dim": None, "encoder_hid_dim_type": None, "flip_sin_to_cos": True, "freq_shift": 0,
        "in_channels": 4, "layers_per_block": layers, "mid_block_only_cross_attention": None,
        "mid_block_scale_factor": 1, "mid_block_type": "UNetMidBlock2DCrossAttn", "norm_eps": 1e-05,
        "norm_num_groups": groups, "num_attention_heads": None, "num_class_embeds": None,
        "only_cross_attention": False, "out_channels": 4, "projection_class_embeddings_input_dim": None,
        "resnet_out_scale_factor": 1.0, "resnet_skip_time_act": False, "resnet_time_scale_shift": "default",
        "reverse_transformer_layers_per_block": None, "sample_size": 8, "time_cond_proj_dim": None,
        "time_embedding_act_fn": None, "time_embedding_dim": None, "time_embedding_type": "positional",
        "timestep_post_act": None, "transformer_layers_per_block": 1, "up_block_types": up,
        "upcast_attention": False, "use_linear_projection": False,
    }


def text_config(vocab_size, hidden=128, layers=3, heads=4, inter=512, max_pos=20, bos=None, eos=None):
    return {
        "architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": bos, "eos_token_id": eos,
        "hidden_act": "quick_gelu", "hidden_size": hidden, "initializer_factor": 1.0, "initializer_range": 0.02,
        "intermediate_size": inter, "layer_norm_eps": 1e-05, "max_position_embeddings": max_pos,
        "model_type": "clip_text_model", "num_attention_heads": heads, "num_hidden_layers": layers,
        "pad_token_id": eos, "projection_dim": hidden, "torch_dtype": "float32",
        "transformers_version": "4.48.0.dev0", "vocab_size": vocab_size,
    }


def dpm_scheduler_config():
    # DPMSolverMultistepScheduler defaults + SD 1.5 betas, as diffusers 0.31 writes it
    return {
        "_class_name": "DPMSolverMultistepScheduler", "_diffusers_version": "0.31.0", "algorithm_type": "dpmsolver++",
        "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "dynamic_thresholding_ratio": 0.995,
        "euler_at_final": False, "final_sigmas_type": "zero", "lambda_min_clipped": float("-inf"),
        "lower_order_final": True, "num_train_timesteps": 1000, "prediction_type": "epsilon",
        "rescale_betas_zero_snr": False, "sample_max_value": 1.0, "solver_order": 2, "solver_type": "midpoint",
        "steps_offset": 1, "thresholding": False, "timestep_spacing": "linspace", "trained_betas": None,
        "use_beta_sigmas": False, "use_exponential_sigmas": False, "use_karras_sigmas": False,
        "use_lu_lambdas": False, "variance_type": None,
    }
