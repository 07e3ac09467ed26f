"""Analysis of a generated kiln-shapes image from its pixels: the object's dominant colour,
the region of its centroid (position class) and a rough shape class. Mirrors
tests/support/shapes-analysis.ts; both read dataset-spec.json (the 'analysis' block).

Method
- background = per-channel median of the border pixels (border_px wide frame);
- d = Euclidean RGB distance of each pixel to the background; dmax = 99th percentile of d;
  if dmax < min_object_distance there is no object (all labels null);
- mask = d >= mask_fraction_of_max * dmax ; core = d >= core_fraction_of_max * dmax;
- colour = spec colour nearest (RGB Euclidean) to the mean of the core pixels;
- position = 3x3 region of the mask centroid (x * cols // W, y * rows // H);
- shape from the mask's bounding box (w, h), fill = area / (w*h) and the ratio of the
  mask area in the top half of the box to that in the bottom half (tb):
  tb < triangle_top_bottom_ratio_max -> triangle; else fill >= square_fill_min -> square;
  fill >= circle_fill_min -> circle; bars >= cross_bar_fraction_min -> cross; else star, where
  bars = mean of (fraction of box rows whose mask width >= 0.85 w, fraction of box columns whose
  mask height >= 0.85 h): a cross has a full-width bar and a full-height bar (~1/3 each).
"""
import numpy as np


def analyze(rgb, spec):
    """rgb: HxWx3 (or x4, alpha ignored) uint8 in 0..255, or float in [0, 1]."""
    a = spec["analysis"]
    arr = np.asarray(rgb)
    img = arr.astype(np.float64)
    if arr.dtype.kind == "f":  # float images are in [0, 1]
        img = img * 255.0
    img = img[..., :3]
    H, W, _ = img.shape
    b = a["border_px"]
    border = np.concatenate([img[:b].reshape(-1, 3), img[-b:].reshape(-1, 3), img[:, :b].reshape(-1, 3),
                             img[:, -b:].reshape(-1, 3)])
    bg = np.median(border, axis=0)
    d = np.sqrt(((img - bg) ** 2).sum(-1))
    dmax = np.percentile(d, 99)
    res = {"colour": None, "position": None, "shape": None}
    if dmax < a["min_object_distance"]:
        return res
    mask = d >= a["mask_fraction_of_max"] * dmax
    core = d >= a["core_fraction_of_max"] * dmax
    mean = img[core].mean(axis=0)
    cols = spec["colours"]
    dist = [np.sqrt(((mean - np.asarray(c["rgb"], np.float64)) ** 2).sum()) for c in cols]
    res["colour"] = cols[int(np.argmin(dist))]["name"]
    ys, xs = np.nonzero(mask)
    cy, cx = ys.mean() + 0.5, xs.mean() + 0.5
    gr, gc = spec["positions"]["grid"]
    row = min(gr - 1, int(cy * gr // H))
    col = min(gc - 1, int(cx * gc // W))
    for r in spec["positions"]["regions"]:
        if r["row"] == row and r["col"] == col:
            res["position"] = r["name"]
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    area = mask.sum()
    fill = area / float((y1 - y0) * (x1 - x0))
    mid = (y0 + y1) / 2.0
    top = float((ys + 0.5 < mid).sum())
    bot = float((ys + 0.5 > mid).sum())
    tb = top / max(bot, 1.0)
    box = mask[y0:y1, x0:x1]
    bh, bw = box.shape
    bars = 0.5 * (float((box.sum(axis=1) >= 0.85 * bw).mean()) + float((box.sum(axis=0) >= 0.85 * bh).mean()))
    if tb < a["triangle_top_bottom_ratio_max"]:
        shape = "triangle"
    elif fill >= a["square_fill_min"]:
        shape = "square"
    elif fill >= a["circle_fill_min"]:
        shape = "circle"
    elif bars >= a["cross_bar_fraction_min"]:
        shape = "cross"
    else:
        shape = "star"
    res["shape"] = shape
    res["_features"] = {"fill": float(fill), "tb": float(tb), "bars": bars, "bg": bg.tolist(), "mean": mean.tolist(), "dmax": float(dmax)}
    return res


if __name__ == "__main__":
    import sys, os
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import dataset as D
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    acc = {"colour": 0, "position": 0, "shape": 0}
    conf = {}
    feats = {}
    for i in range(n):
        img, lab, cap = D.item(7, i, "any")
        r = analyze(img, D.SPEC)
        t = D.label_names(lab)
        for k in acc:
            acc[k] += r[k] == t[k]
        if r["shape"] != t["shape"]:
            conf[(t["shape"], r["shape"], t["size"])] = conf.get((t["shape"], r["shape"], t["size"]), 0) + 1
        feats.setdefault(t["shape"], []).append((r["_features"]["fill"], r["_features"]["tb"], r["_features"]["bars"]))
    print({k: v / n for k, v in acc.items()})
    print(conf)
    for s, f in feats.items():
        f = np.array(f)
        print(s, "fill min/mean/max", f[:, 0].min().round(3), f[:, 0].mean().round(3), f[:, 0].max().round(3),
              "tb min/mean/max", f[:, 1].min().round(3), f[:, 1].mean().round(3), f[:, 1].max().round(3), "bars", f[:, 2].min().round(3), f[:, 2].mean().round(3), f[:, 2].max().round(3))
