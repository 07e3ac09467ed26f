"""Joint training of the kiln-shapes text encoder (CLIPTextModel) and UNet2DConditionModel on
latents of the frozen VAE. Resumable (checkpoint every few minutes, EMA weights kept).

/usr/bin/python3 tools/train/train_unet.py --vae tools/train/runs/vae/ckpt.pt --out tools/train/runs/unet
"""
import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze as A  # noqa: E402
import common as C  # noqa: E402
import configs  # noqa: E402
import dataset as D  # noqa: E402
import modules as M  # noqa: E402
import png  # noqa: E402
import sample as S  # noqa: E402
import tokenizer as T  # noqa: E402

LAB_KEYS = ("colour", "shape", "size", "position", "background")


def load_vae(path):
    s = torch.load(path)
    vae = M.AutoencoderKL(s["config"])
    vae.load_state_dict(s["model"])
    vae.eval()
    return vae


@torch.no_grad()
def prepare_latents(vae, n, seed, path, batch=64):
    t0 = time.time()
    means, stds, labs = [], [], {k: [] for k in LAB_KEYS}
    for s in range(0, n, batch):
        imgs, lb, _ = D.batch(seed, s, min(batch, n - s))
        x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
        mean, logvar = vae.encode(x)
        means.append(mean.half()); stds.append(torch.exp(0.5 * logvar).half())
        for l in lb:
            for k in LAB_KEYS:
                labs[k].append(l[k])
        if s % (batch * 50) == 0:
            print(f"encoded {s}/{n} {time.time()-t0:.0f}s", flush=True)
    mean = torch.cat(means).float(); std = torch.cat(stds).float()
    g = torch.Generator().manual_seed(0)
    z = mean + std * torch.randn(mean.shape, generator=g)
    sf = float(1.0 / z.std())
    out = {"mean": torch.cat(means), "std": torch.cat(stds), "scaling_factor": sf, "seed": seed,
           "labels": {k: torch.tensor(v, dtype=torch.int64) for k, v in labs.items()},
           "seconds": time.time() - t0, "latent_mean": float(z.mean()), "latent_std": float(z.std())}
    torch.save(out, path)
    print(f"latents: {n} images in {time.time()-t0:.0f}s, std {float(z.std()):.4f} -> scaling_factor {sf:.5f}", flush=True)
    return out


class Ema:
    def __init__(self, modules, decay):
        self.decay = decay
        self.shadow = [copy.deepcopy(m).eval() for m in modules]
        for s in self.shadow:
            for p in s.parameters():
                p.requires_grad_(False)

    @torch.no_grad()
    def update(self, modules, step):
        d = min(self.decay, (1 + step) / (10 + step))
        for s, m in zip(self.shadow, modules):
            for ps, pm in zip(s.parameters(), m.parameters()):
                ps.mul_(d).add_(pm.detach(), alpha=1 - d)


def eval_prompts(seed=0, n=None):
    """One canonical caption per held-out combination (sizes cycle)."""
    out = []
    for i, (c, s, p) in enumerate(D.SPEC["held_out"]):
        size = D.SIZES[i % len(D.SIZES)]
        reg = next(r for r in D.SPEC["positions"]["regions"] if r["name"] == p)
        out.append((f"a {size} {c} {s} {reg['phrases'][0]}", {"colour": c, "shape": s, "position": p}))
    return out[:n] if n else out


def quick_eval(pipe, prompts, seeds, path=None):
    imgs = pipe([p for p, _ in prompts], seeds)
    acc = {"colour": 0, "position": 0, "shape": 0}
    for im, (_, truth) in zip(imgs, prompts):
        r = A.analyze(im, D.SPEC)
        for k in acc:
            acc[k] += r[k] == truth[k]
    if path:
        png.write_png(path, png.upscale(png.grid(list(imgs), 10), 2))
    return {k: v / len(prompts) for k, v in acc.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vae", default=os.path.join(C.RUNS, "vae", "ckpt.pt"))
    ap.add_argument("--out", default=os.path.join(C.RUNS, "unet"))
    ap.add_argument("--n_images", type=int, default=30000)
    ap.add_argument("--data_seed", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--max_minutes", type=float, default=1e9)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--boc", default="48,96,96")
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--groups", type=int, default=16)
    ap.add_argument("--text_hidden", type=int, default=96)
    ap.add_argument("--text_layers", type=int, default=3)
    ap.add_argument("--text_heads", type=int, default=4)
    ap.add_argument("--max_len", type=int, default=20)
    ap.add_argument("--uncond_p", type=float, default=0.1)
    ap.add_argument("--min_snr", type=float, default=5.0)
    ap.add_argument("--hi_w", type=float, default=0.0,
                    help="from step --hi_w_from on, multiply the loss by clamp(1/SNR, 1, hi_w): emphasises the "
                         "high-noise steps where the layout (position) is decided and which eps-prediction "
                         "otherwise barely trains")
    ap.add_argument("--hi_w_from", type=int, default=0)
    ap.add_argument("--hi_frac", type=float, default=0.0,
                    help="fraction of each batch whose timesteps are drawn from [--hi_t_min, 999] instead of "
                         "[0, 999]: the text must decide the layout there, the noisy latent cannot")
    ap.add_argument("--hi_t_min", type=int, default=700)
    ap.add_argument("--late_from", type=float, default=2.0,
                    help="training progress fraction from which --late_hi_frac / --late_hi_w replace --hi_frac / "
                         "--hi_w: once the layout is learned, give the low-noise steps (colour, edges) more weight")
    ap.add_argument("--late_hi_frac", type=float, default=None)
    ap.add_argument("--late_hi_w", type=float, default=None)
    ap.add_argument("--init_from", default=None,
                    help="start from the text encoder and UNet of an exported pipeline folder or of a training "
                         "checkpoint's EMA weights (fine-tuning)")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--ckpt_every_s", type=float, default=180)
    ap.add_argument("--sample_every", type=int, default=600)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    C.setup_threads()
    M.FAST_LINEAR = True
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(os.path.join(a.out, "samples"), exist_ok=True)
    timings_p = os.path.join(a.out, "timings.json")
    timings = json.load(open(timings_p)) if os.path.exists(timings_p) else {}

    # tokenizer (deterministic BPE on the caption corpus)
    tok_dir = os.path.join(a.out, "tokenizer")
    t0 = time.time()
    _, nv, nm, longest = T.build(tok_dir, a.max_len)
    tok = T.CLIPTokenizer(tok_dir)
    timings["tokenizer_s"] = time.time() - t0
    print(f"tokenizer: vocab {nv}, merges {nm}, longest caption {longest} tokens", flush=True)

    vae = load_vae(a.vae)
    lat_p = os.path.join(a.out, "latents.pt")
    if not os.path.exists(lat_p):
        prepare_latents(vae, a.n_images, a.data_seed, lat_p)
    lat = torch.load(lat_p)
    timings["latents_s"] = lat["seconds"]
    sf = lat["scaling_factor"]
    N = lat["mean"].shape[0]
    lmean, lstd = lat["mean"].float(), lat["std"].float()
    labels = lat["labels"]

    ucfg = configs.unet_config([int(v) for v in a.boc.split(",")], a.layers, a.heads, a.groups, a.text_hidden)
    tcfg = configs.text_config(nv, a.text_hidden, a.text_layers, a.text_heads, 4 * a.text_hidden, a.max_len,
                               tok.bos, tok.eos)
    torch.manual_seed(a.seed)
    unet = M.UNet2DConditionModel(ucfg)
    te = M.CLIPTextModel(tcfg)
    torch.nn.init.normal_(te.text_model.embeddings.token_embedding.weight, std=0.02)
    torch.nn.init.normal_(te.text_model.embeddings.position_embedding.weight, std=0.01)
    if a.init_from and os.path.isdir(a.init_from):  # an exported pipeline folder
        S.load_component(unet, a.init_from, "unet")
        S.load_component(te, a.init_from, "text_encoder")
        print(f"initialised from {a.init_from}", flush=True)
    elif a.init_from:  # a training checkpoint: its EMA weights, which are what that stage exports
        s0 = torch.load(a.init_from)
        unet.load_state_dict(s0["ema_unet"]); te.load_state_dict(s0["ema_te"])
        print(f"initialised from the EMA weights of {a.init_from} (step {s0['step']})", flush=True)
    params = list(unet.parameters()) + list(te.parameters())
    print(f"unet {sum(p.numel() for p in unet.parameters())/1e6:.3f}M params, text encoder "
          f"{sum(p.numel() for p in te.parameters())/1e6:.3f}M", flush=True)
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01, betas=(0.9, 0.99))
    ema = Ema([unet, te], a.ema)
    step, elapsed = 0, 0.0
    ck = os.path.join(a.out, "ckpt.pt")
    if os.path.exists(ck):
        s = torch.load(ck)
        unet.load_state_dict(s["unet"]); te.load_state_dict(s["te"]); opt.load_state_dict(s["opt"])
        ema.shadow[0].load_state_dict(s["ema_unet"]); ema.shadow[1].load_state_dict(s["ema_te"])
        step, elapsed = s["step"], s["elapsed"]
        print(f"resumed at step {step} ({elapsed:.0f}s)", flush=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump({"unet": ucfg, "text_encoder": tcfg, "args": {**vars(a), "threads": torch.get_num_threads()}, "scaling_factor": sf,
                   "vae": torch.load(a.vae)["config"]}, f, indent=1)

    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2
    ac = torch.cumprod(1 - betas, 0)
    snr = ac / (1 - ac)
    wt = torch.clamp(snr, max=a.min_snr) / snr if a.min_snr > 0 else torch.ones(1000)
    empty_ids = tok("")
    ids_cache = {}
    logf = os.path.join(a.out, "loss.jsonl")
    t_start = time.time() - elapsed
    t_ck = time.time()
    prompts = eval_prompts()
    def progress():
        return max(step / a.steps, (time.time() - t_start) / (a.max_minutes * 60.0))

    while progress() < 1.0:
        rng = np.random.default_rng([a.seed, step])
        idx = torch.from_numpy(rng.integers(0, N, a.batch))
        caps = []
        for i in idx.tolist():
            if rng.random() < a.uncond_p:
                caps.append("")
            else:
                caps.append(D.caption({k: int(labels[k][i]) for k in LAB_KEYS}, rng))
        ids = []
        for c in caps:
            if c not in ids_cache:
                ids_cache[c] = tok(c)
            ids.append(ids_cache[c])
        ids = torch.tensor(ids, dtype=torch.int64)
        g = torch.Generator().manual_seed(int(rng.integers(1 << 62)))
        z = (lmean[idx] + lstd[idx] * torch.randn(lmean[idx].shape, generator=g)) * sf
        t = torch.randint(0, 1000, (a.batch,), generator=g)
        late = progress() >= a.late_from
        hi_frac = a.late_hi_frac if late and a.late_hi_frac is not None else a.hi_frac
        hi_w = a.late_hi_w if late and a.late_hi_w is not None else a.hi_w
        n_hi = int(round(hi_frac * a.batch))
        if n_hi:
            t[:n_hi] = torch.randint(a.hi_t_min, 1000, (n_hi,), generator=g)
        eps = torch.randn(z.shape, generator=g)
        at = ac[t][:, None, None, None]
        xt = at.sqrt() * z + (1 - at).sqrt() * eps
        lr = C.lr_progress(step, progress(), a.lr, warmup=a.warmup)
        for gr in opt.param_groups:
            gr["lr"] = lr
        ctx = te(ids)["last_hidden_state"]
        pred = unet(xt, t, ctx)
        per = (pred - eps).pow(2).mean(dim=(1, 2, 3))
        w = wt[t]
        if hi_w > 0 and step >= a.hi_w_from:
            w = w * torch.clamp(1.0 / snr[t], min=1.0, max=hi_w)
        loss = (per * w).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        ema.update([unet, te], step)
        step += 1
        if step % 10 == 0:
            C.log_line(logf, {"step": step, "loss": loss.item(), "mse": per.mean().item(), "grad_norm": float(gn),
                              "lr": lr, "t": time.time() - t_start})
        if step % 50 == 0:
            print(f"step {step} loss {loss.item():.4f} mse {per.mean().item():.4f} gn {float(gn):.2f} lr {lr:.2e} "
                  f"elapsed {time.time()-t_start:.0f}s", flush=True)
        if step % a.sample_every == 0:
            ts = time.time()
            pipe = S.Pipeline(tok, ema.shadow[1], ema.shadow[0], vae, sf)
            acc = quick_eval(pipe, prompts, list(range(len(prompts))),
                             os.path.join(a.out, "samples", f"step{step:06d}.png"))
            C.log_line(os.path.join(a.out, "evals.jsonl"), {"step": step, "t": time.time() - t_start, **acc})
            print(f"  eval@{step} (held-out, 1 sample each, EMA): {acc}  [{time.time()-ts:.0f}s]", flush=True)
            t_start += time.time() - ts  # sampling time is not training time
        if time.time() - t_ck > a.ckpt_every_s:
            C.save_ckpt(ck, unet=unet.state_dict(), te=te.state_dict(), opt=opt.state_dict(),
                        ema_unet=ema.shadow[0].state_dict(), ema_te=ema.shadow[1].state_dict(), step=step,
                        elapsed=time.time() - t_start, unet_config=ucfg, text_config=tcfg, scaling_factor=sf)
            t_ck = time.time()
    C.save_ckpt(ck, unet=unet.state_dict(), te=te.state_dict(), opt=opt.state_dict(),
                ema_unet=ema.shadow[0].state_dict(), ema_te=ema.shadow[1].state_dict(), step=step,
                elapsed=time.time() - t_start, unet_config=ucfg, text_config=tcfg, scaling_factor=sf)
    timings["unet_text_train_s"] = time.time() - t_start
    timings["unet_text_steps"] = step
    with open(timings_p, "w") as f:
        json.dump(timings, f, indent=1)
    if progress() >= 1.0:
        with open(os.path.join(a.out, "DONE"), "w") as f:
            f.write(json.dumps({"steps": step, "seconds": time.time() - t_start}))
    print("done", step, flush=True)


if __name__ == "__main__":
    main()
