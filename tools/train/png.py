"""Minimal PNG writer/reader (8-bit RGB, no filters on write) with zlib."""
import struct
import zlib

import numpy as np


def write_png(path, img):
    img = np.ascontiguousarray(img, dtype=np.uint8)
    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def grid(imgs, cols, pad=2, value=255):
    n = len(imgs)
    h, w, c = imgs[0].shape
    rows = (n + cols - 1) // cols
    g = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), value, np.uint8)
    for i, im in enumerate(imgs):
        r, k = divmod(i, cols)
        g[pad + r * (h + pad):pad + r * (h + pad) + h, pad + k * (w + pad):pad + k * (w + pad) + w] = im
    return g


def upscale(img, k):
    return np.repeat(np.repeat(img, k, axis=0), k, axis=1)
