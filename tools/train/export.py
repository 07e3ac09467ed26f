"""Export the trained kiln-shapes models as a diffusers-style pipeline folder.

/usr/bin/python3 tools/train/export.py tools/train/runs pretrained/kiln-shapes [--raw]
(EMA weights by default; --raw exports the raw training weights.)
"""
import json
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import configs  # noqa: E402
import sample as S  # noqa: E402
import st  # noqa: E402


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def weights(path, sd):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    st.save(path, {k: v.detach().float().numpy().astype(np.float32) for k, v in sd.items()}, {"format": "pt"})


def main(runs, out, raw=False):
    dec = os.path.join(runs, "vae_dec", "ckpt.pt")
    # the decoder fine-tune (frozen encoder) when it exists, else the VAE as first trained
    vck = torch.load(dec if os.path.exists(os.path.join(runs, "vae_dec", "DONE")) else os.path.join(runs, "vae", "ckpt.pt"))
    # the position fine-tune (stage 2) when it has finished, else the UNet + text encoder of stage 1
    udir = os.path.join(runs, "unet_position" if os.path.exists(os.path.join(runs, "unet_position", "DONE")) else "unet")
    uck = torch.load(os.path.join(udir, "ckpt.pt"))
    sf = float(uck["scaling_factor"])
    os.makedirs(out, exist_ok=True)
    dump(os.path.join(out, "model_index.json"), {
        "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.31.0",
        "feature_extractor": [None, None], "image_encoder": [None, None], "requires_safety_checker": False,
        "safety_checker": [None, None], "scheduler": ["diffusers", "DPMSolverMultistepScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]})
    dump(os.path.join(out, "scheduler", "scheduler_config.json"), configs.dpm_scheduler_config())
    vcfg = dict(vck["config"])
    vcfg["scaling_factor"] = round(sf, 5)
    dump(os.path.join(out, "vae", "config.json"), vcfg)
    weights(os.path.join(out, S.WEIGHT_FILES["vae"]), vck["model"])
    dump(os.path.join(out, "unet", "config.json"), uck["unet_config"])
    weights(os.path.join(out, S.WEIGHT_FILES["unet"]), uck["unet" if raw else "ema_unet"])
    dump(os.path.join(out, "text_encoder", "config.json"), uck["text_config"])
    weights(os.path.join(out, S.WEIGHT_FILES["text_encoder"]), uck["te" if raw else "ema_te"])
    tok_src = os.path.join(udir, "tokenizer")
    os.makedirs(os.path.join(out, "tokenizer"), exist_ok=True)
    for f in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(tok_src, f), os.path.join(out, "tokenizer", f))
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(out) for f in fs)
    print(f"exported to {out}: {total/1e6:.2f} MB, scaling_factor {vcfg['scaling_factor']}, {udir} step {uck['step']}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], "--raw" in sys.argv)
