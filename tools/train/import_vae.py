"""Turn the VAE of an exported pipeline folder back into a training checkpoint, so that a UNet can be
retrained on the same latent space without retraining the VAE (34 min of the full run).

/usr/bin/python3 tools/train/import_vae.py pretrained/kiln-shapes tools/train/runs/vae
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import modules as M  # noqa: E402
import sample as S  # noqa: E402


def main(folder, out):
    cfg = json.load(open(os.path.join(folder, "vae", "config.json")))
    vae = M.AutoencoderKL(cfg)
    S.load_component(vae, folder, "vae")
    os.makedirs(out, exist_ok=True)
    C.save_ckpt(os.path.join(out, "ckpt.pt"), config=cfg, model=vae.state_dict(), imported_from=folder)
    with open(os.path.join(out, "DONE"), "w") as f:
        f.write(json.dumps({"imported_from": folder}))
    print(f"imported the VAE of {folder} into {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
