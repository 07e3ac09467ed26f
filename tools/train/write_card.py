"""Write pretrained/kiln-shapes/README.md (the model card) from the run's recorded numbers.

/usr/bin/python3 tools/train/write_card.py tools/train/runs pretrained/kiln-shapes
"""
import glob
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset as D  # noqa: E402


def j(p, default=None):
    if not os.path.exists(p):
        return default
    with open(p) as f:
        return json.load(f)


def jl(p):
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return [json.loads(l) for l in f if l.strip()]


def pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"


def threads(n):
    return f"{n} thread{'s' if n > 1 else ''}"


def mins(s):
    return "n/a" if s is None else f"{s / 60:.1f} min"


def main(runs, out):
    ucfg = j(os.path.join(out, "unet", "config.json"))
    tcfg = j(os.path.join(out, "text_encoder", "config.json"))
    vcfg = j(os.path.join(out, "vae", "config.json"))
    tokc = j(os.path.join(out, "tokenizer", "tokenizer_config.json"))
    # Stages this runs/ folder did not train itself (an imported VAE, a stage 1 from an earlier session) are
    # described from the committed record of the run that did.
    rec = j(os.path.join(os.path.dirname(os.path.abspath(__file__)), "records", "stage1.json"), {})
    vcfg_run = j(os.path.join(runs, "vae", "config.json"))
    vrun = vcfg_run["args"] if vcfg_run else rec["vae"]["args"]
    vdone = j(os.path.join(runs, "vae", "DONE"), {})
    if "seconds" not in vdone:
        vdone = rec["vae"]
    udone = j(os.path.join(runs, "unet", "DONE"))
    urun = j(os.path.join(runs, "unet", "config.json"))["args"] if udone else rec["unet"]["args"]
    udone = udone or rec["unet"]
    prun = (j(os.path.join(runs, "unet_position", "config.json"), {}) or {}).get("args")
    pdone = j(os.path.join(runs, "unet_position", "DONE"), {})
    pevals = jl(os.path.join(runs, "unet_position", "evals.jsonl"))
    stages = jl(os.path.join(runs, "stages.jsonl"))
    ve0 = j(os.path.join(runs, "vae", "vae_eval.json"), {})
    ve = j(os.path.join(runs, "vae_dec", "vae_eval.json"), ve0)
    ddone = j(os.path.join(runs, "vae_dec", "DONE"), {})
    drun = (j(os.path.join(runs, "vae_dec", "config.json"), {}) or {}).get("args", {})
    ev = j(os.path.join(runs, "eval", "eval.json"), {})
    sizes = {}
    for sub in ("unet", "vae", "text_encoder"):
        for f in os.listdir(os.path.join(out, sub)):
            if f.endswith(".safetensors"):
                sizes[sub] = os.path.getsize(os.path.join(out, sub, f))
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(out) for f in fs)
    import numpy as np
    import png
    npz = os.path.join(runs, "eval", "heldout_first40.npz")
    if os.path.exists(npz):  # small: 40 held-out generations at 1x, 20 per row
        png.write_png(os.path.join(out, "samples_heldout.png"), png.grid(list(np.load(npz)["images"]), 20))
    if os.path.exists(os.path.join(out, "vae_reconstructions.png")):
        os.remove(os.path.join(out, "vae_reconstructions.png"))
    ho = ev.get("held_out", {})
    tr = ev.get("train_combos", {})
    c1 = ev.get("held_out_cfg1", {})
    ch = ev.get("chance", {})
    acc = ho.get("accuracy", {})
    racc = ve.get("analysis_acc_on_reconstructions", {})
    SIZES_TXT = ", ".join(f"{s['name']} {s['pixels']}px" for s in D.SPEC["sizes"])
    held = ", ".join(f"{c} {s} @ {p}" for c, s, p in D.SPEC["held_out"])
    L = []
    w = L.append
    w("# kiln-shapes\n")
    w("kiln's built-in text-to-image model: a tiny Stable-Diffusion-family pipeline (CLIP text encoder, "
      "UNet2DConditionModel with cross-attention, AutoencoderKL) trained from scratch, on a CPU, by the code in "
      "`tools/train/` of this repository, on a synthetic world of simple coloured shapes. It generates a 64×64 image "
      "of one object from captions such as *\"a small red circle at the top left\"* or *\"a large blue square in the "
      "center\"*, in a few seconds on a CPU (through kiln on lavapipe, 2 cores: ~2.8 s per image in a running process, 5.4 s for `kiln generate` from a new process). The folder has the exact diffusers/transformers layout and key "
      "names of a real SD 1.x checkpoint, so everything kiln does with a real checkpoint works on it.\n")
    w("## Files\n")
    w("| folder | class | config | weights |\n|---|---|---|---|")
    w(f"| `text_encoder/` | transformers `CLIPTextModel` | hidden {tcfg['hidden_size']}, {tcfg['num_hidden_layers']} layers, "
      f"{tcfg['num_attention_heads']} heads, MLP {tcfg['intermediate_size']}, quick_gelu, max_position_embeddings "
      f"{tcfg['max_position_embeddings']}, vocab {tcfg['vocab_size']} | {sizes.get('text_encoder', 0)/1e6:.2f} MB f32 |")
    w(f"| `tokenizer/` | transformers `CLIPTokenizer` | CLIP byte-level BPE (vocab.json, merges.txt), "
      f"model_max_length {tokc['model_max_length']}, bos `<|startoftext|>`={tcfg['bos_token_id']}, eos=pad "
      f"`<|endoftext|>`={tcfg['eos_token_id']} | – |")
    w(f"| `unet/` | diffusers `UNet2DConditionModel` | block_out_channels {ucfg['block_out_channels']}, layers_per_block "
      f"{ucfg['layers_per_block']}, down {ucfg['down_block_types']}, up {ucfg['up_block_types']}, mid "
      f"UNetMidBlock2DCrossAttn, attention_head_dim (heads) {ucfg['attention_head_dim']}, norm_num_groups "
      f"{ucfg['norm_num_groups']}, cross_attention_dim {ucfg['cross_attention_dim']}, conv proj_in/out "
      f"(use_linear_projection false), GEGLU feed-forward, sample_size {ucfg['sample_size']} | "
      f"{sizes.get('unet', 0)/1e6:.2f} MB f32 |")
    w(f"| `vae/` | diffusers `AutoencoderKL` | block_out_channels {vcfg['block_out_channels']}, layers_per_block "
      f"{vcfg['layers_per_block']}, norm_num_groups {vcfg['norm_num_groups']}, latent_channels 4, "
      f"{2 ** (len(vcfg['block_out_channels']) - 1)}× downsampling (64×64×3 ↔ 8×8×4), mid-block attention, "
      f"**scaling_factor {vcfg['scaling_factor']}** | {sizes.get('vae', 0)/1e6:.2f} MB f32 |")
    w(f"| `scheduler/` | diffusers `DPMSolverMultistepScheduler` | DPM-Solver++ 2M, SD 1.5 betas (scaled_linear "
      f"0.00085–0.012, 1000 steps), timestep_spacing linspace, steps_offset 1, lower_order_final; "
      f"`lambda_min_clipped` is `-Infinity` as diffusers writes it | – |")
    w(f"\nTotal folder size: {total/1e6:.2f} MB. Prediction type: epsilon. Recommended: 25 DPM-Solver++ steps, "
      f"guidance 7.5, 64×64 (latent 8×8).\n")
    w("## Data\n")
    w("A deterministic synthetic generator (`tools/train/dataset.py`; the world's vocabulary is "
      "`tools/train/dataset-spec.json`, shared with the TypeScript analysis `tests/support/shapes-analysis.ts`): "
      f"64×64 RGB, one object per image — {len(D.SHAPES)} shapes ({', '.join(D.SHAPES)}), {len(D.COLOURS)} colours "
      f"({', '.join(D.COLOURS)}), {len(D.SIZES)} sizes ({SIZES_TXT}), "
      "9 positions on a 3×3 grid (top left … bottom right, ±3 px jitter), on white, gray or black backgrounds that "
      "are plain or lightly textured (noise, gradient, stripes); anti-aliased edges, ±10 colour jitter. Captions "
      f"use {len(D.SPEC['caption']['templates'])} templates with synonyms (disk/dot, box, violet, turquoise, "
      "little/tiny/big/huge, middle/upper/lower, optional size and background words), e.g. *\"there is a big orange "
      "cross in the bottom right corner\"*, *\"top left, a small green star\"*, *\"purple box, large, center\"*.\n")
    w(f"**Held out from all training** (VAE and UNet): {len(D.SPEC['held_out'])} colour × shape × position "
      f"combinations: {held}. Every colour, shape and position is seen in training, only these combinations are not.\n")
    w("## Training (CPU, PyTorch 1.13)\n")
    w(f"1. **VAE** ({mins(vdone.get('seconds'))}, {vdone.get('steps', vrun['steps'])} steps × batch {vrun['batch']}, "
      f"fresh images every step): AdamW lr {vrun['lr']} (100 warmup, cosine), loss = object-weighted (6× on pixels "
      f"away from the background colour) L1 + L2 reconstruction + KL weight {vrun['kl']} on the summed KL per image against the per-pixel mean reconstruction loss. "
      f"8× downsampling was kept because it reconstructs the shapes well enough for the analysis (below); it makes "
      f"the UNet's latent 8×8, which is what made the UNet affordable on a CPU. scaling_factor = 1/std of "
      f"posterior samples of {urun['n_images']} encoded training images = **{vcfg['scaling_factor']}**.")
    if ddone:
        w(f"   Then the **decoder alone** was fine-tuned ({mins(ddone.get('seconds'))}, {ddone.get('steps')} steps × "
          f"batch {drun.get('batch')}, lr {drun.get('lr')}) with the encoder and quant_conv frozen, so the latents "
          f"the UNet is trained on do not change."
          + (f" Before it, the VAE reconstructed with PSNR {ve0['psnr_db']:.1f} dB and shape-analysis accuracy "
             f"{pct(ve0['analysis_acc_on_reconstructions']['shape'])}." if ve0 else ""))
    w(f"2. **Stage 1: text encoder + UNet jointly, from scratch** ({mins(udone.get('seconds'))}, "
      f"{udone.get('steps')} steps × batch {urun['batch']}, {threads(urun.get('threads', rec.get('threads', 1)))}) on latents of the frozen VAE "
      f"({urun['n_images']} pre-encoded images; a fresh posterior sample and a freshly worded caption each time): "
      f"epsilon prediction, SD 1.5 scaled_linear betas, 1000 training timesteps, {int(100 * urun['uncond_p'])}% "
      f"caption dropout to the empty caption (for classifier-free guidance), min-SNR-γ={urun['min_snr']} loss "
      f"weighting, AdamW lr {urun['lr']} (200 warmup, cosine), grad-clip 1.0, EMA {urun['ema']}; from step "
      f"{urun['hi_w_from']} on the loss was also multiplied by clamp(1/SNR(t), 1, {urun['hi_w']}).")
    if prun:
        st1 = rec.get("unet", {}).get("heldout_eval", {})
        first = next((e for e in pevals if e["position"] >= 0.5), None)
        w(f"3. **Stage 2: the layout** ({mins(pdone.get('seconds'))}, {pdone.get('steps')} steps × batch "
          f"{prun['batch']}, {threads(prun.get('threads', 1))}), starting from stage 1's EMA weights, same loss and "
          f"data, AdamW lr {prun['lr']} ({prun['warmup']} warmup, cosine), EMA {prun['ema']} (exported), and two "
          f"changes: **{int(100 * prun['hi_frac'])}% of every batch draws t from [{prun['hi_t_min']}, 999]** instead "
          f"of [0, 999], and the loss is multiplied by clamp(1/SNR(t), 1, {prun['hi_w']}) throughout (towards an "
          f"x0-space loss at high noise)"
          + (f"; from {int(100 * prun['late_from'])}% of the budget on (once the layout was learned) "
             f"{int(100 * prun['late_hi_frac'])}% and clamp(1/SNR(t), 1, {prun['late_hi_w']}), which gives the "
             f"low-noise steps, where colour and edges are settled, more of the gradient."
             if prun.get("late_hi_frac") is not None and prun.get("late_from", 2) < 1 else "."))
        w(f"   Why: stage 1 learned colour and shape but ignored the position words entirely"
          + (f" (held-out position accuracy {pct(st1.get('position'))}, chance 11.1%)" if st1 else "")
          + ". Measured on it: for a fixed seed the object landed in the same place for all nine position words, "
          "and the x0 prediction at t = 999 averaged over 64 seeds was centred whatever the caption said. SD 1.5's "
          "schedule does not reach zero SNR (alpha_bar(999) = 0.0047), so during training a single saturated object "
          "stays detectable in x_t down to t ≈ 700 and the UNet can read its position from x_t instead of from the "
          "caption; with uniformly drawn t the few steps where only the caption can decide the layout are rare and, "
          "under an epsilon loss, weakly weighted (the x0 error is scaled by SNR ≈ 0.005–0.09 there). Concentrating "
          "half the batch there with an x0-like weight made the caption decide the layout"
          + (f": quick held-out position accuracy reached {pct(first['position'])} at step {first['step']}" if first else "")
          + ". Prediction type, betas and sampler are unchanged, so the model is still a plain SD 1.x-style "
          "epsilon model.")
    w(f"{4 if prun else 3}. Tokenizer: CLIP BPE merges trained on the caption corpus until every caption word is one token "
      f"({tcfg['vocab_size'] - 514} merges; the golden `tokenizer-clip-small` vocabulary is rebuilt exactly by the "
      f"same trainer in `check_golden.py`).\n")
    if stages:
        w("Stage timings of the run that produced this folder:\n")
        w("| stage | wall time |\n|---|---|")
        for s in stages:
            w(f"| {s['stage']} | {mins(s['seconds'])} |")
        w("")
    w("![loss curves](loss_curves.png)\n")
    w("*Loss curves* (`loss_curves.png`, drawn by `tools/train/plot.py` from this run's logs): "
      + ("left, stage 2's weighted loss (log scale, smoothed); right, its quick held-out accuracy every "
         f"{prun.get('sample_every', 300)} steps (20 prompts, 1 sample each, EMA weights; red colour, green position, "
         "blue shape)" + (f"; the loss steps down at {int(100 * prun['late_from'])}% of the budget because its "
                           "weighting changes there" if prun.get("late_from", 2) < 1 else "") + ". Stage 1's curves (VAE reconstruction MSE, stage-1 UNet loss, its quick accuracy) are in "
         "`loss_curves_stage1.png`.\n" if prun else
         "left, VAE reconstruction MSE (log scale, images in [-1, 1]); middle, UNet min-SNR-weighted epsilon loss "
         "(log scale, smoothed); right, quick held-out accuracy during training (20 prompts, 1 sample each, EMA "
         "weights; red colour, green position, blue shape).\n"))
    w("## Measured quality\n")
    w("Analysis from pixels (`tools/train/analyze.py` = `tests/support/shapes-analysis.ts`): background = median "
      "border colour; object = pixels far from it; colour = nearest spec colour to the object's core; position = "
      "3×3 region of the centroid; shape from bounding-box fill, top/bottom mass ratio and full-width/height bars. "
      "On dataset images it recovers the true labels ≥ 99.9%.\n")
    if ve:
        w(f"**VAE** (300 images, 8×8×4 latents): PSNR {ve['psnr_db']:.1f} dB; analysis on reconstructions: colour "
          f"{pct(racc.get('colour'))}, position {pct(racc.get('position'))}, shape {pct(racc.get('shape'))}.\n")
    if ho:
        w(f"**Text-to-image on held-out combinations** ({ho['n']} generations: {ho['n'] // len(D.SPEC['held_out'])} "
          f"seeds × {len(D.SPEC['held_out'])} held-out combinations, captions \"a {{size}} {{colour}} {{shape}} "
          f"{{position}}\", DPM-Solver++ 2M, 25 steps, CFG 7.5):\n")
        w("| | colour | position | shape | all three |\n|---|---|---|---|---|")
        w(f"| held-out combos, CFG 7.5 (n={ho['n']}) | **{pct(acc.get('colour'))}** | **{pct(acc.get('position'))}** | "
          f"**{pct(acc.get('shape'))}** | {pct(acc.get('all'))} |")
        for seed0 in (5000, 9000):
            more = ev.get(f"held_out_seeds{seed0}")
            if more:
                a4 = more["accuracy"]
                w(f"| same prompts, seeds {seed0}+ (n={more['n']}) | {pct(a4['colour'])} | {pct(a4['position'])} | "
                  f"{pct(a4['shape'])} | {pct(a4['all'])} |")
        pooled = ev.get("held_out_pooled")
        if pooled:
            a5 = pooled["accuracy"]
            w(f"| all held-out generations (n={pooled['n']}) | {pct(a5['colour'])} | {pct(a5['position'])} | "
              f"{pct(a5['shape'])} | {pct(a5['all'])} |")
        if tr:
            a2 = tr["accuracy"]
            w(f"| training combos, CFG 7.5 (n={tr['n']}) | {pct(a2['colour'])} | {pct(a2['position'])} | "
              f"{pct(a2['shape'])} | {pct(a2['all'])} |")
        if c1:
            a3 = c1["accuracy"]
            w(f"| held-out combos, CFG 1.0 (n={c1['n']}) | {pct(a3['colour'])} | {pct(a3['position'])} | "
              f"{pct(a3['shape'])} | {pct(a3['all'])} |")
        w(f"| chance | {pct(ch.get('colour'))} | {pct(ch.get('position'))} | {pct(ch.get('shape'))} | |\n")
        kb = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "results",
                                           "default-model-*.json")))
        if kb:
            k = json.load(open(kb[-1]))
            r = {row["measure"]: row["accuracy"] for row in k["rows"]}
            w(f"Through kiln itself (WGSL on Dawn, `npx tsx bench/default-model.ts`, the first row's {k['generations']} "
              f"prompts and seeds, on {k['adapter'].split(' / ')[-1]}): colour {pct(r.get('colour'))}, position "
              f"{pct(r.get('position'))}, shape {pct(r.get('shape'))}, all three {pct(r.get('all three'))}.\n")
        if ev.get("single_image_seconds_torch_cpu_1thread"):
            w(f"One image (text encoding, 25 DPM-Solver++ steps each evaluating the UNet on a "
              f"batch of 2 for CFG, VAE decode) takes {ev['single_image_seconds_torch_cpu_1thread']:.2f} s with the PyTorch reference "
              f"sampler on one CPU thread of the (shared) training machine.\n")
        w(f"Shape confusion on held-out (true->analysed: count): {json.dumps(ho.get('shape_confusion'))}\n")
        w("![held-out samples](samples_heldout.png)\n")
        w("*Held-out samples* (`samples_heldout.png`, the first 40 generations of the evaluation, 20 per row in the "
          "order of the held-out list above, sizes cycling small/medium/large; 64×64 each).\n")
    w("## Reproduce\n")
    w("```\ntools/train/train.sh            # everything, from scratch; rerun to resume after an interruption\n"
      "/usr/bin/python3 tools/train/check_golden.py   # modules == diffusers/transformers golden outputs\n"
      "/usr/bin/python3 tools/train/sample.py pretrained/kiln-shapes \"a large blue square in the center\" out.png\n```\n")
    w("Debian's PyTorch 1.13 (CPU) and numpy only; no diffusers/transformers needed. Training runs with "
      "`OMP_WAIT_POLICY=PASSIVE`, `KILN_THREADS` threads (default 1), `nice -n 5`. Checkpoints every 3 minutes in "
      "`tools/train/runs/` (git-ignored). Each UNet stage stops at `--steps` or `--max_minutes`, whichever comes "
      "first, with its cosine learning-rate schedule following the larger of the two fractions, so on a busier or "
      "faster machine the step count differs. From scratch the stages take about 34 + 5 + 70 + 75 minutes "
      "(longer than one 3-hour session: rerun `train.sh` and it resumes). `REUSE_VAE=pretrained/kiln-shapes` skips "
      "the VAE by importing the shipped one (`tools/train/import_vae.py`). The shipped stage 1 was resumed twice "
      "from its checkpoints: at step 1798 to raise its budget from 60 to 70 minutes (a small learning-rate bump, as "
      "the schedule follows the time fraction), and at step 3120 to switch on `--hi_w`; `train.sh`'s flags reproduce "
      "that schedule apart from the bump. The shipped stage 2 ran in a later session from the exported stage-1 "
      "weights (identical to stage 1's EMA checkpoint, which `train.sh` uses) on the imported VAE, with "
      "`KILN_THREADS=2`. Stage 1 shared the CPU with other work, so its wall times are upper bounds.\n")
    if not prun:
        w("## Known problem: the position words are not obeyed\n")
        w(f"Position accuracy is at chance ({pct(acc.get('position'))} vs {pct(ch.get('position'))}): the layout "
          "follows the initial noise. Stage 2 of `train.sh` fixes this.\n")
    w("## Limitations\n")
    w("- One object per image, 64×64 only; no relations (\"left of\"), counting, or multiple objects.\n"
      "- Tiny, briefly trained models: edges are soft and small stars/crosses are often blobs; the shape accuracy "
      "is well above chance but below the colour and position accuracy.\n"
      "- The VAE only knows this world; it does not reconstruct natural images.\n"
      "- Colour errors are neighbouring hues (green→cyan, red→orange, pink→purple), and they are what moves "
      "most from one seed set to another (table above). Measured cause: guidance 7.5 leaves the object's latent "
      "~1.5× further from the background than guidance 1, and this VAE's latent space puts red, orange and yellow "
      "along nearly one direction (cosine 0.98) of growing magnitude, so overshoot shifts hue. A decoder "
      "fine-tune that fed it such stretched latents (target: the original image) was tried and made colour worse "
      "(91.5% → 78.5% on the same 200 generations of a mid-stage-2 UNet), so it was dropped; a VAE with a better "
      "conditioned latent space is the real fix.\n")
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(L))
    print("wrote", os.path.join(out, "README.md"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
