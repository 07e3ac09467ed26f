"""Prove tools/train modules equal diffusers/transformers on the golden cases (rel-L2 <= 1e-5).

Usage: /usr/bin/python3 tools/train/check_golden.py [golden_dir]
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modules as M  # noqa: E402
import st  # noqa: E402

G = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "golden")
TOL = 1e-5
torch.set_num_threads(1)
fails = []


def rel(a, b):
    a = np.asarray(a, np.float64); b = np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def check(case, name, ours, ref):
    ours = ours.detach().numpy() if torch.is_tensor(ours) else np.asarray(ours)
    if ours.shape != ref.shape:
        fails.append(f"{case}:{name} shape {ours.shape} vs {ref.shape}")
        print(f"  FAIL {name}: shape {ours.shape} vs {ref.shape}")
        return
    r = rel(ours, ref)
    ok = r <= TOL
    if not ok:
        fails.append(f"{case}:{name} rel {r:.3g}")
    print(f"  {'ok  ' if ok else 'FAIL'} {name:70s} rel_l2={r:.2e}")


def cfg(path):
    with open(path) as f:
        return json.load(f)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def vae_case():
    d = os.path.join(G, "vae-tiny")
    io = st.load(os.path.join(d, "io.safetensors"))
    m = M.AutoencoderKL(cfg(os.path.join(d, "vae/config.json")))
    mi, un = M.load_state(m, st.load(os.path.join(d, "vae/diffusion_pytorch_model.safetensors")))
    m.eval()
    print("vae-tiny")
    with torch.no_grad():
        hooks = {}
        out = m.decode(t(io["latent"]), hooks)
        check("vae", "decode.sample", out, io["decode.sample"])
        mean, logvar = m.encode(t(io["image"]), hooks)
        check("vae", "encode.mean", mean, io["encode.mean"])
        check("vae", "encode.logvar", logvar, io["encode.logvar"])
        check("vae", "encode.std", torch.exp(0.5 * logvar), io["encode.std"])
        for k, v in io.items():
            if k.startswith("encoder.") or k.startswith("decoder."):
                check("vae", k, hooks[k], v)


def unet_case():
    d = os.path.join(G, "unet-sd15-tiny")
    io = st.load(os.path.join(d, "io.safetensors"))
    m = M.UNet2DConditionModel(cfg(os.path.join(d, "unet/config.json")))
    M.load_state(m, st.load(os.path.join(d, "unet/diffusion_pytorch_model.safetensors")))
    m.eval()
    print("unet-sd15-tiny")
    probe_name = "down_blocks.0.attentions.0.transformer_blocks.0.attn2"
    attn = m.get_submodule(probe_name)
    attn.probe = []
    cap = {}
    h1 = attn.register_forward_hook(lambda mod, inp, out: cap.update(inp=inp[0], out=out))
    with torch.no_grad():
        hooks = {}
        out = m(t(io["sample"]), t(io["timesteps"]), t(io["encoder_hidden_states"]), hooks)
    h1.remove()
    check("unet", "out", out, io["out"])
    for k, v in io.items():
        if k in hooks:
            check("unet", k, hooks[k], v)
    check("unet", "attn_probs." + probe_name, attn.probe[0], io["attn_probs." + probe_name])
    check("unet", "attn_in." + probe_name, cap["inp"], io["attn_in." + probe_name])
    check("unet", "attn_out." + probe_name, cap["out"], io["attn_out." + probe_name])
    attn.probe = None


def clip_case():
    d = os.path.join(G, "clip-tiny")
    io = st.load(os.path.join(d, "io.safetensors"))
    m = M.CLIPTextModel(cfg(os.path.join(d, "text_encoder/config.json")))
    M.load_state(m, st.load(os.path.join(d, "text_encoder/model.safetensors")))
    m.eval()
    print("clip-tiny")
    with torch.no_grad():
        o = m(t(io["input_ids"]), output_hidden_states=True)
    check("clip", "last_hidden_state", o["last_hidden_state"], io["last_hidden_state"])
    check("clip", "pooler_output", o["pooler_output"], io["pooler_output"])
    for i, h in enumerate(o["hidden_states"]):
        check("clip", f"hidden_states.{i}", h, io[f"hidden_states.{i}"])


def tokenizer_case():
    import tokenizer as T
    d = os.path.join(G, "tokenizer-clip-small")
    tok = T.CLIPTokenizer(os.path.join(d, "tokenizer"))
    ref = cfg(os.path.join(d, "tokens.json"))
    ref_s = cfg(os.path.join(d, "token_strings.json"))
    bad = 0
    for text, ids in ref.items():
        if tok(text, 77) != ids or tok.tokenize(text) != ref_s[text]:
            bad += 1
            print("  mismatch:", repr(text))
    print(f"tokenizer-clip-small\n  {'ok  ' if not bad else 'FAIL'} {len(ref) - bad}/{len(ref)} strings")
    if bad:
        fails.append(f"tokenizer: {bad} mismatches")
    # our own BPE trainer must rebuild the golden vocabulary from its corpus
    case = cfg(os.path.join(d, "case.json"))
    vocab, merges = T.train_bpe(case["corpus"].split("\n"), n_merges=case["vocabulary"]["n_merges"])
    gv = cfg(os.path.join(d, "tokenizer/vocab.json"))
    with open(os.path.join(d, "tokenizer/merges.txt"), encoding="utf-8") as f:
        gm = [tuple(l.split()) for l in f.read().split("\n")[1:] if l]
    ok = vocab == gv and merges == gm
    print(f"  {'ok  ' if ok else 'FAIL'} BPE trainer reproduces golden vocab.json/merges.txt")
    if not ok:
        fails.append("bpe trainer")


def sched_case():
    import sample as S
    d = os.path.join(G, "sched-sd15")
    io = st.load(os.path.join(d, "io.safetensors"))
    sch = S.DPMSolverPP2M(cfg(os.path.join(d, "dpmpp2m25/scheduler_config.json")))
    ts = sch.set_timesteps(25)
    print("sched-sd15 (dpmpp2m25)")
    ok = list(ts) == io["dpmpp2m25.timesteps"].tolist()
    print(f"  {'ok  ' if ok else 'FAIL'} timesteps")
    if not ok:
        fails.append("sched timesteps")
    check("sched", "sigmas", sch.sigmas.astype(np.float32), io["dpmpp2m25.sigmas"])
    x = t(io["dpmpp2m25.start_sample"])
    traj = []
    for tt in ts:
        eps = ((0.1 * x) * float(tt)) / 1000.0
        x = sch.step(eps, x)
        traj.append(x)
    check("sched", "trajectory", torch.stack(traj), io["dpmpp2m25.trajectory"])


if __name__ == "__main__":
    for fast in (False, True):
        M.FAST_LINEAR = fast
        print(f"== modules.FAST_LINEAR = {fast}")
        vae_case()
        unet_case()
        clip_case()
    M.FAST_LINEAR = False
    for f in (tokenizer_case, sched_case):
        try:
            f()
        except ImportError as e:
            print("skip", f.__name__, e)
            fails.append(f"{f.__name__} import {e}")
    print("ALL OK" if not fails else "FAILURES:\n  " + "\n  ".join(fails))
    sys.exit(1 if fails else 0)
