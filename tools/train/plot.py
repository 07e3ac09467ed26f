"""Loss curves as a PNG, drawn with numpy only (tiny 3x5 bitmap font for axis numbers).

/usr/bin/python3 tools/train/plot.py tools/train/runs pretrained/kiln-shapes/loss_curves.png
Panels (left to right, those whose logs exist): VAE reconstruction MSE (log10), UNet loss of stage 1
and of stage 2 (weighted, log10, smoothed), held-out quick-eval accuracy of the last UNet stage
(colour red, position green, shape blue).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import png  # noqa: E402

FONT = {  # 3x5 glyphs, rows top to bottom
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
    "e": "000111101110111", "k": "100101110101101",
}


def text(img, x, y, s, col=(0, 0, 0), k=2):
    for ch in s:
        g = FONT.get(ch)
        if g:
            for r in range(5):
                for c in range(3):
                    if g[r * 3 + c] == "1":
                        img[y + r * k:y + (r + 1) * k, x + c * k:x + (c + 1) * k] = col
        x += 4 * k


def line(img, x0, y0, x1, y1, col):
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.linspace(x0, x1, n).round().astype(int)
    ys = np.linspace(y0, y1, n).round().astype(int)
    ok = (xs >= 0) & (xs < img.shape[1]) & (ys >= 0) & (ys < img.shape[0])
    img[ys[ok], xs[ok]] = col
    img[np.clip(ys[ok] + 1, 0, img.shape[0] - 1), xs[ok]] = col


def fmt(v):
    if v >= 1000:
        return f"{v/1000:.0f}k" if v % 1000 == 0 else f"{v/1000:.1f}k"
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"


def panel(series, w=420, h=300, ylog=False, yrange=None):
    img = np.full((h, w, 3), 255, np.uint8)
    L, R, T, B = 60, 12, 12, 34
    allx = np.concatenate([s[0] for s in series])
    ally = np.concatenate([s[1] for s in series])
    if ylog:
        ally = np.log10(np.maximum(ally, 1e-12))
    x0, x1 = 0, max(allx.max(), 1)
    y0, y1 = yrange if yrange else (ally.min(), ally.max())
    if y1 - y0 < 1e-9:
        y1 = y0 + 1
    X = lambda x: L + (x - x0) / (x1 - x0) * (w - L - R)
    Y = lambda y: h - B - (y - y0) / (y1 - y0) * (h - T - B)
    img[T:h - B, L] = 0
    img[h - B, L:w - R] = 0
    for k in range(5):
        yv = y0 + (y1 - y0) * k / 4
        yy = int(Y(yv))
        img[yy, L - 4:L] = 0
        img[yy, L + 1:w - R:4] = 200
        text(img, 4, yy - 5, fmt(10 ** yv) if ylog else fmt(yv))
        xv = x0 + (x1 - x0) * k / 4
        xx = int(X(xv))
        img[h - B:h - B + 4, xx] = 0
        text(img, max(0, xx - 12), h - B + 8, fmt(round(xv)))
    for xs, ys, col in series:
        if ylog:
            ys = np.log10(np.maximum(ys, 1e-12))
        for i in range(len(xs) - 1):
            line(img, X(xs[i]), Y(ys[i]), X(xs[i + 1]), Y(ys[i + 1]), col)
    return img


def smooth(y, k=25):
    if len(y) < k:
        return y
    c = np.cumsum(np.concatenate([[0], y]))
    s = (c[k:] - c[:-k]) / k
    return np.concatenate([y[:k - 1], s])


def read(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def curve(rows, key, col):
    """A log-scale panel of one logged quantity against the step, smoothed."""
    return panel([(np.array([r["step"] for r in rows], float), smooth(np.array([r[key] for r in rows])), col)], ylog=True)


def main(runs, out):
    """One panel per log that exists: VAE MSE, the UNet loss of stage 1 and of stage 2 (position fine-tune),
    and the quick held-out accuracy of the last UNet stage. A checkout whose earlier stages were imported
    (REUSE_VAE, or a stage 1 run from another session) draws only what it ran."""
    panels = []
    vp = os.path.join(runs, "vae", "loss.jsonl")
    if os.path.exists(vp):
        panels.append(curve(read(vp), "mse", (200, 30, 30)))
    last = None
    for stage in ("unet", "unet_position"):
        up = os.path.join(runs, stage, "loss.jsonl")
        if os.path.exists(up):
            panels.append(curve(read(up), "loss", (30, 30, 200)))
            last = stage
    ep = os.path.join(runs, last or "unet", "evals.jsonl")
    if os.path.exists(ep):
        e = read(ep)
        ex = np.array([r["step"] for r in e], float)
        panels.append(panel([(ex, np.array([r["colour"] for r in e]), (210, 40, 40)),
                             (ex, np.array([r["position"] for r in e]), (40, 160, 40)),
                             (ex, np.array([r["shape"] for r in e]), (40, 40, 210))], yrange=(0, 1)))
    if not panels:
        raise SystemExit(f"no training logs under {runs}")
    sep = np.full((panels[0].shape[0], 8, 3), 255, np.uint8)
    img = np.concatenate(sum([[p, sep] for p in panels], [])[:-1], axis=1)
    png.write_png(out, img)
    print("wrote", out, img.shape)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
