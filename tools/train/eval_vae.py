"""Measure VAE reconstruction: PSNR and whether the pixel analysis still recovers the labels
of reconstructed held-out-seed images. Writes <out>/vae_eval.json and a side-by-side PNG."""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze as A  # noqa: E402
import dataset as D  # noqa: E402
import modules as M  # noqa: E402
import png  # noqa: E402
import train_unet as TU  # noqa: E402


@torch.no_grad()
def main(ckpt, out, n=300):
    torch.set_num_threads(1)
    M.FAST_LINEAR = True
    vae = TU.load_vae(ckpt)
    imgs, labs, _ = D.batch(99, 0, n, "any")
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    mean, _ = vae.encode(x)
    xr = vae.decode(mean).clamp(-1, 1)
    rec = ((xr + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    mse = float(((xr - x) ** 2).mean())
    psnr = 10 * np.log10(4.0 / mse)
    acc = {"colour": 0, "position": 0, "shape": 0}
    acc_orig = dict(acc)
    for im, r, lb in zip(imgs, rec, labs):
        t = D.label_names(lb)
        a, b = A.analyze(r, D.SPEC), A.analyze(im, D.SPEC)
        for k in acc:
            acc[k] += a[k] == t[k]
            acc_orig[k] += b[k] == t[k]
    res = {"n": n, "mse_pm1": mse, "psnr_db": float(psnr), "latent_shape": list(mean.shape[1:]),
           "analysis_acc_on_reconstructions": {k: v / n for k, v in acc.items()},
           "analysis_acc_on_originals": {k: v / n for k, v in acc_orig.items()}}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "vae_eval.json"), "w") as f:
        json.dump(res, f, indent=1)
    pairs = []
    for i in range(20):
        pairs += [imgs[i], rec[i]]
    png.write_png(os.path.join(out, "vae_recon.png"), png.upscale(png.grid(pairs, 10), 3))
    print(json.dumps(res))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 300)
