"""Train the kiln-shapes VAE (diffusers AutoencoderKL layout). Resumable.

/usr/bin/python3 tools/train/train_vae.py --out tools/train/runs/vae --steps 2500
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import dataset as D  # noqa: E402
import modules as M  # noqa: E402


def vae_config(boc, groups, layers):
    return {
        "_class_name": "AutoencoderKL", "_diffusers_version": "0.31.0", "act_fn": "silu",
        "block_out_channels": boc, "down_block_types": ["DownEncoderBlock2D"] * len(boc), "force_upcast": True,
        "in_channels": 3, "latent_channels": 4, "latents_mean": None, "latents_std": None,
        "layers_per_block": layers, "mid_block_add_attention": True, "norm_num_groups": groups, "out_channels": 3,
        "sample_size": 64, "scaling_factor": 1.0, "shift_factor": None,
        "up_block_types": ["UpDecoderBlock2D"] * len(boc), "use_post_quant_conv": True, "use_quant_conv": True,
    }


def to_tensor(imgs):
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def pixel_weights(x):
    """Up-weight object pixels: those far from the border-median background colour."""
    b = torch.cat([x[:, :, :2, :].flatten(2), x[:, :, -2:, :].flatten(2), x[:, :, :, :2].flatten(2),
                   x[:, :, :, -2:].flatten(2)], dim=2).median(dim=2).values[:, :, None, None]
    d = (x - b).norm(dim=1, keepdim=True)
    return 1.0 + 5.0 * (d > 0.25).float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(C.RUNS, "vae"))
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--boc", default="32,64,64,64")
    ap.add_argument("--groups", type=int, default=16)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--kl", type=float, default=1e-6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ckpt_every_s", type=float, default=180)
    ap.add_argument("--bench", type=int, default=0)
    ap.add_argument("--max_minutes", type=float, default=1e9)
    ap.add_argument("--decoder_from", default=None,
                    help="fine-tune only the decoder (post_quant_conv + decoder) of this checkpoint; the encoder "
                         "and quant_conv stay frozen, so latents (and a UNet trained on them) stay valid")
    a = ap.parse_args()
    C.setup_threads()
    os.makedirs(a.out, exist_ok=True)
    ck = os.path.join(a.out, "ckpt.pt")
    cfg = vae_config([int(v) for v in a.boc.split(",")], a.groups, a.layers)
    torch.manual_seed(a.seed)
    vae = M.AutoencoderKL(cfg)
    train_params = list(vae.parameters())
    if a.decoder_from:
        s0 = torch.load(a.decoder_from)
        cfg = s0["config"]
        vae = M.AutoencoderKL(cfg)
        vae.load_state_dict(s0["model"])
        train_params = list(vae.decoder.parameters()) + list(vae.post_quant_conv.parameters())
        for p in list(vae.encoder.parameters()) + list(vae.quant_conv.parameters()):
            p.requires_grad_(False)
    opt = torch.optim.AdamW(train_params, lr=a.lr, weight_decay=0.0, betas=(0.9, 0.99))
    step, elapsed = 0, 0.0
    if os.path.exists(ck) and not a.bench:
        s = torch.load(ck)
        vae.load_state_dict(s["model"]); opt.load_state_dict(s["opt"])
        step, elapsed = s["step"], s["elapsed"]
        print(f"resumed at step {step} ({elapsed:.0f}s)", flush=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump({"vae": cfg, "args": vars(a)}, f, indent=1)
    nparams = sum(p.numel() for p in vae.parameters())
    print(f"VAE params {nparams/1e6:.3f}M", flush=True)
    logf = os.path.join(a.out, "loss.jsonl")
    t_last_ck = time.time()
    t0 = time.time() - elapsed
    total = a.bench or a.steps
    def progress():
        return max(step / total, (time.time() - t0) / (a.max_minutes * 60.0))

    while progress() < 1.0:
        ts = time.time()
        imgs, _, _ = D.batch(a.seed * 1000003, step * a.batch, a.batch)
        x = to_tensor(imgs)
        lr = C.lr_progress(step, max((step - 100) / (total - 100), (time.time() - t0) / (a.max_minutes * 60.0)),
                           a.lr, warmup=100, final_frac=0.1)
        for g in opt.param_groups:
            g["lr"] = lr
        if a.decoder_from:
            with torch.no_grad():
                mean, logvar = vae.encode(x)
        else:
            mean, logvar = vae.encode(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        xr = vae.decode(z)
        w = pixel_weights(x)
        err = (xr - x)
        rec = (w * (err.abs() + err.pow(2))).mean()
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).sum(dim=(1, 2, 3)).mean() / (3 * 64 * 64)
        loss = rec + a.kl * kl * (3 * 64 * 64)  # per-pixel mean reconstruction + kl_weight * summed KL
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(train_params, 1.0)
        opt.step()
        step += 1
        mse = err.pow(2).mean().item()
        if step % 10 == 0 or a.bench:
            C.log_line(logf, {"step": step, "loss": loss.item(), "rec": rec.item(), "mse": mse, "kl": kl.item(),
                              "lr": lr, "t": time.time() - t0})
        if step % 50 == 0 or a.bench:
            print(f"step {step} loss {loss.item():.4f} mse {mse:.5f} kl {kl.item():.3f} "
                  f"{time.time()-ts:.2f}s/it elapsed {time.time()-t0:.0f}s", flush=True)
        if not a.bench and (time.time() - t_last_ck > a.ckpt_every_s or progress() >= 1.0):
            C.save_ckpt(ck, model=vae.state_dict(), opt=opt.state_dict(), step=step, elapsed=time.time() - t0, config=cfg)
            t_last_ck = time.time()
    if not a.bench:
        with open(os.path.join(a.out, "DONE"), "w") as f:
            f.write(json.dumps({"steps": step, "seconds": time.time() - t0}))
    print("done", flush=True)


if __name__ == "__main__":
    main()
