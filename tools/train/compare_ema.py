"""Quick check: EMA vs raw UNet/text-encoder weights on held-out prompts (2 seeds each).

/usr/bin/python3 tools/train/compare_ema.py tools/train/runs
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modules as M  # noqa: E402
import sample as S  # noqa: E402
import tokenizer as T  # noqa: E402
import train_unet as TU  # noqa: E402


def main(runs, ckpt=None):
    torch.set_num_threads(1)
    M.FAST_LINEAR = True
    ck = torch.load(ckpt or os.path.join(runs, "unet", "ckpt.pt"))
    vae = TU.load_vae(os.path.join(runs, "vae", "ckpt.pt"))
    tok = T.CLIPTokenizer(os.path.join(runs, "unet", "tokenizer"))
    prompts = TU.eval_prompts() * 2
    seeds = [500 + i for i in range(len(prompts))]
    for name, uk, tk in (("ema", "ema_unet", "ema_te"), ("raw", "unet", "te")):
        unet = M.UNet2DConditionModel(ck["unet_config"]); unet.load_state_dict(ck[uk]); unet.eval()
        te = M.CLIPTextModel(ck["text_config"]); te.load_state_dict(ck[tk]); te.eval()
        acc = TU.quick_eval(S.Pipeline(tok, te, unet, vae, ck["scaling_factor"]), prompts, seeds)
        print(name, "step", ck["step"], acc, "mean", sum(acc.values()) / 3, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
