"""The training tool's own model code, run like kiln's pipeline, for the cross-check test
(tests/shapes/crosscheck.test.ts): same folder, prompt, seed, DPM-Solver++ 2M steps and CFG scale.
Prints the decoded image as JSON: floats in [0, 1], HWC, before 8-bit rounding.

/usr/bin/python3 tools/train/crosscheck.py pretrained/kiln-shapes "a red circle" 3 25 7.5
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sample import DPMSolverPP2M, Pipeline  # noqa: E402


@torch.no_grad()
def generate(p, prompt, seed, steps, scale):
    cond, unc = p.encode_text([prompt]), p.encode_text([""])
    L = p.unet_cfg_latent_hw
    torch.manual_seed(seed)  # torch.manual_seed(seed); torch.randn(shape): what kiln's seeds reproduce
    x = torch.randn(1, 4, *L)
    sch = DPMSolverPP2M(p.sched_cfg)
    for t in sch.set_timesteps(steps):
        e = p.unet(torch.cat([x, x]), torch.tensor([int(t)]), torch.cat([unc, cond]))
        eu, ec = e.chunk(2)
        x = sch.step(eu + scale * (ec - eu), x)
    img = p.vae.decode(x / p.sf)
    return (img / 2 + 0.5).clamp(0, 1)[0].permute(1, 2, 0)


if __name__ == "__main__":
    torch.set_num_threads(1)
    folder, prompt, seed, steps, scale = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    p = Pipeline.load(folder)
    unet_cfg = json.load(open(os.path.join(folder, "unet/config.json")))
    vae_cfg = json.load(open(os.path.join(folder, "vae/config.json")))
    f = 2 ** (len(vae_cfg["block_out_channels"]) - 1)
    size = unet_cfg["sample_size"]
    p.unet_cfg_latent_hw = (size, size)
    img = generate(p, prompt, seed, steps, scale)
    print(json.dumps({"height": img.shape[0], "width": img.shape[1], "data": [round(float(v), 7) for v in img.flatten()]}))
