"""Synthetic kiln-shapes dataset: 64x64 RGB images of one simple object with a caption.

Everything is deterministic from (seed, index): item(seed, i) always returns the same
image, labels and caption. The vocabulary of the world lives in dataset-spec.json.
"""
import json
import os
import re

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_PATH = os.path.join(HERE, "dataset-spec.json")


def load_spec(path=SPEC_PATH):
    with open(path) as f:
        return json.load(f)


SPEC = load_spec()
COLOURS = [c["name"] for c in SPEC["colours"]]
SHAPES = [s["name"] for s in SPEC["shapes"]]
SIZES = [s["name"] for s in SPEC["sizes"]]
POSITIONS = [p["name"] for p in SPEC["positions"]["regions"]]
BACKGROUNDS = [b["name"] for b in SPEC["backgrounds"]]
HELD_OUT = {tuple(h) for h in SPEC["held_out"]}
SS = 4  # supersampling factor for anti-aliased shape edges


def shape_mask(shape, cx, cy, s, size=64):
    """Coverage in [0,1] (HxW float32) of a shape with bbox side s centred at (cx, cy)."""
    o = (np.arange(size * SS, dtype=np.float64) + 0.5) / SS
    X, Y = np.meshgrid(o, o)
    dx, dy = X - cx, Y - cy
    h = s / 2.0
    if shape == "circle":
        m = dx * dx + dy * dy <= h * h
    elif shape == "square":
        m = (np.abs(dx) <= h) & (np.abs(dy) <= h)
    elif shape == "triangle":
        t = (dy + h) / s  # 0 at apex, 1 at base
        m = (t >= 0) & (t <= 1) & (np.abs(dx) <= t * h)
    elif shape == "cross":
        w = s / 6.0
        m = ((np.abs(dx) <= w) & (np.abs(dy) <= h)) | ((np.abs(dy) <= w) & (np.abs(dx) <= h))
    elif shape == "star":
        R, r = h * 1.06, h * 1.06 * 0.45
        ang = -np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, R, r)
        vx, vy = rad * np.cos(ang), rad * np.sin(ang)
        dy = dy - 0.1 * R  # centre the star's bbox vertically
        m = np.zeros_like(dx, dtype=bool)
        for k in range(10):
            ax, ay, bx, by = vx[k], vy[k], vx[(k + 1) % 10], vy[(k + 1) % 10]
            # point in triangle (0,0),(a),(b): same-sign cross products
            c1 = ax * dy - ay * dx
            c2 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
            c3 = -bx * dy + by * dx
            m |= ((c1 >= 0) & (c2 >= 0) & (c3 >= 0)) | ((c1 <= 0) & (c2 <= 0) & (c3 <= 0))
    else:
        raise ValueError(shape)
    return m.reshape(size, SS, size, SS).mean(axis=(1, 3)).astype(np.float32)


def background(bg_rgb, texture, rng, size=64):
    img = np.tile(np.asarray(bg_rgb, np.float32), (size, size, 1))
    if texture == "noise":
        img += rng.normal(0, 5.0, (size, size, 1)).astype(np.float32)
    elif texture == "gradient":
        a = rng.uniform(0, 2 * np.pi)
        o = np.arange(size, dtype=np.float32) / (size - 1) - 0.5
        X, Y = np.meshgrid(o, o)
        img += (12.0 * (np.cos(a) * X + np.sin(a) * Y))[..., None]
    elif texture == "stripes":
        a = rng.uniform(0, np.pi)
        period = rng.uniform(6, 14)
        o = np.arange(size, dtype=np.float32)
        X, Y = np.meshgrid(o, o)
        img += (5.0 * np.sin(2 * np.pi * (np.cos(a) * X + np.sin(a) * Y) / period))[..., None]
    return img


def sample_labels(rng, held_out="exclude"):
    """held_out: 'exclude' (training), 'only' (evaluation) or 'any'."""
    while True:
        c = int(rng.integers(len(COLOURS)))
        s = int(rng.integers(len(SHAPES)))
        p = int(rng.integers(len(POSITIONS)))
        ho = (COLOURS[c], SHAPES[s], POSITIONS[p]) in HELD_OUT
        if held_out == "any" or (held_out == "exclude") != ho:
            break
    return {
        "colour": c, "shape": s, "position": p,
        "size": int(rng.integers(len(SIZES))),
        "background": int(rng.integers(len(BACKGROUNDS))),
        "texture": int(rng.integers(len(SPEC["textures"]))),
        "jx": float(rng.uniform(-1, 1)), "jy": float(rng.uniform(-1, 1)), "js": float(rng.uniform(-1, 1)),
        "cj": [float(v) for v in rng.uniform(-1, 1, 3)],
    }


def render(lab, rng, size=64):
    pos = SPEC["positions"]
    region = pos["regions"][lab["position"]]
    cen = pos["centers_px"]
    j = pos["jitter_px"]
    cx = cen[region["col"]] + j * lab["jx"]
    cy = cen[region["row"]] + j * lab["jy"]
    s = SPEC["sizes"][lab["size"]]["pixels"] + 1.0 * lab["js"]
    img = background(SPEC["backgrounds"][lab["background"]]["rgb"], SPEC["textures"][lab["texture"]], rng, size)
    col = np.asarray(SPEC["colours"][lab["colour"]]["rgb"], np.float32) + 10.0 * np.asarray(lab["cj"], np.float32)
    m = shape_mask(SHAPES[lab["shape"]], cx, cy, s, size)[..., None]
    img = img * (1 - m) + col * m
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def _article(next_word):
    return "an" if next_word[0] in "aeiou" else "a"


def caption(lab, rng):
    """A plain-English caption for the labels, with varied wording."""
    col = SPEC["colours"][lab["colour"]]
    shp = SPEC["shapes"][lab["shape"]]
    siz = SPEC["sizes"][lab["size"]]
    reg = SPEC["positions"]["regions"][lab["position"]]
    bg = SPEC["backgrounds"][lab["background"]]
    tpls = SPEC["caption"]["templates"]
    t = tpls[int(rng.integers(len(tpls)))]
    pick = lambda xs: xs[int(rng.integers(len(xs)))]
    if "{position}," in t or t.endswith("{position}") and t.startswith("{colour}"):
        ph = pick(reg["phrases"])
    else:
        ph = pick(reg["phrases"][:-1])
    if t.startswith("{position}"):
        ph = pick(reg["phrases"][:-1])
    text = t.format(size=pick(siz["synonyms"]), colour=pick(col["synonyms"]), shape=pick(shp["synonyms"]),
                    position=ph, background=pick(bg["phrases"]))
    # fix articles: 'a' before a vowel -> 'an'
    words = text.split(" ")
    for i in range(len(words) - 1):
        if words[i] in ("a", "an"):
            words[i] = _article(words[i + 1])
    return " ".join(words)


def item(seed, index, held_out="exclude", size=64):
    rng = np.random.default_rng([seed, index])
    lab = sample_labels(rng, held_out)
    img = render(lab, rng, size)
    cap = caption(lab, rng)
    return img, lab, cap


def label_names(lab):
    return {"colour": COLOURS[lab["colour"]], "shape": SHAPES[lab["shape"]], "position": POSITIONS[lab["position"]],
            "size": SIZES[lab["size"]], "background": BACKGROUNDS[lab["background"]]}


def batch(seed, start, n, held_out="exclude"):
    imgs, labs, caps = [], [], []
    for i in range(start, start + n):
        im, lb, cp = item(seed, i, held_out)
        imgs.append(im); labs.append(lb); caps.append(cp)
    return np.stack(imgs), labs, caps


def caption_corpus(n=20000, seed=12345):
    """Captions used to train the BPE merges (covers all synonyms/templates)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lab = sample_labels(rng, "any")
        out.append(caption(lab, rng))
    # make sure every word of the spec appears
    words = set()
    for c in SPEC["colours"]:
        words.update(c["synonyms"])
    for key in ("shapes", "sizes"):
        for x in SPEC[key]:
            words.update(x["synonyms"])
    for r in SPEC["positions"]["regions"]:
        for p in r["phrases"]:
            words.update(p.split())
    for b in SPEC["backgrounds"]:
        for p in b["phrases"]:
            words.update(p.split())
    for t in SPEC["caption"]["templates"]:
        words.update(w for w in re.sub(r"\{[a-z]+\}", " ", t).replace(",", " ").split())
    words.update(["a", "an"])
    out.append(" ".join(sorted(words)))
    return out


if __name__ == "__main__":
    import time
    t = time.time()
    for i in range(8):
        im, lb, cp = item(0, i)
        print(cp, "|", label_names(lb))
    n = 200
    t = time.time()
    batch(0, 0, n)
    print("ms/image", 1000 * (time.time() - t) / n)
