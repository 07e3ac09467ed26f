import json
import os
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = os.path.join(HERE, "runs")


def setup_threads():
    torch.set_num_threads(int(os.environ.get("KILN_THREADS", "1")))


def save_ckpt(path, **kw):
    tmp = path + ".tmp"
    torch.save(kw, tmp)
    os.replace(tmp, path)


def log_line(path, obj):
    with open(path, "a") as f:
        f.write(json.dumps(obj) + "\n")


def lr_at(step, total, base, warmup=200, final_frac=0.1):
    import math
    if step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * p)))


class Timer:
    def __init__(self):
        self.t0 = time.time()

    def s(self):
        return time.time() - self.t0


def lr_progress(step, prog, base, warmup=200, final_frac=0.05):
    """Warmup by steps, then cosine decay by progress in [0, 1] (max of step and time fractions)."""
    import math
    if step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, max(0.0, prog))
    return base * (final_frac + (1 - final_frac) * 0.5 * (1 + math.cos(math.pi * p)))
