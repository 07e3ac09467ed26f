"""Write the TypeScript analysis test fixture: N dataset images tiled in one PNG (8 per row,
no padding) plus their true labels and the Python analysis result.

/usr/bin/python3 tools/train/make_fixture.py tests/shapes/fixtures [extra_images.npz]
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze as A  # noqa: E402
import dataset as D  # noqa: E402
import png  # noqa: E402


def tile(imgs, cols=8):
    n = len(imgs)
    rows = (n + cols - 1) // cols
    h, w, _ = imgs[0].shape
    g = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i, im in enumerate(imgs):
        r, c = divmod(i, cols)
        g[r * h:(r + 1) * h, c * w:(c + 1) * w] = im
    return g


def write(out_dir, name, imgs, entries):
    os.makedirs(out_dir, exist_ok=True)
    png.write_png(os.path.join(out_dir, name + ".png"), tile(imgs))
    meta = {"tile": [64, 64], "columns": 8, "count": len(imgs), "items": entries}
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump(meta, f, indent=1)


def main(out_dir, extra=None, n=40):
    imgs, entries = [], []
    for i in range(n):
        img, lab, cap = D.item(2024, i, "any")
        r = A.analyze(img, D.SPEC)
        t = D.label_names(lab)
        imgs.append(img)
        entries.append({"caption": cap, "truth": t, "python": {k: r[k] for k in ("colour", "position", "shape")},
                        "python_features": {k: r["_features"][k] for k in ("fill", "tb", "bars", "dmax")}})
    write(out_dir, "dataset", imgs, entries)
    print("wrote", n, "images")
    if extra:
        z = np.load(extra)
        gimgs, gentries = [], []
        for img, prompt in zip(z["images"][:16], z["prompts"][:16]):
            r = A.analyze(img, D.SPEC)
            gimgs.append(img)
            gentries.append({"caption": str(prompt), "python": {k: r[k] for k in ("colour", "position", "shape")},
                             "python_features": ({k: r["_features"][k] for k in ("fill", "tb", "bars", "dmax")}
                                                 if "_features" in r else None)})
        write(out_dir, "generated", gimgs, gentries)
        print("wrote", len(gimgs), "generated images")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
