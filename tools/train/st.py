"""Tiny numpy safetensors reader/writer (same file format as safetensors 0.4)."""
import json
import struct

import numpy as np

_DT = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
       "U8": np.uint8, "I8": np.int8, "I16": np.int16, "BOOL": np.bool_}
_RDT = {np.dtype(v).str: k for k, v in _DT.items()}


def load(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        dt = np.dtype(_DT[v["dtype"]]).newbyteorder("<")
        out[k] = np.frombuffer(b[base + s:base + e], dtype=dt).reshape(v["shape"]).copy()
    return out


def save(path, tensors, metadata=None):
    hdr = {}
    if metadata is not None:
        hdr["__metadata__"] = metadata
    off = 0
    blobs = []
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k])
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        raw = a.tobytes()
        hdr[k] = {"dtype": _RDT[np.dtype(a.dtype).newbyteorder("<").str if a.dtype.byteorder != "|" else a.dtype.str],
                  "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(hdr, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for r in blobs:
            f.write(r)
