"""Text-to-image sampling for evaluation: DPM-Solver++ 2M (diffusers DPMSolverMultistepScheduler
semantics: SD 1.5 betas, timestep_spacing linspace, final_sigmas_type zero, lower_order_final),
classifier-free guidance, VAE decode.

/usr/bin/python3 tools/train/sample.py pretrained/kiln-shapes "a small red circle at the top left" out.png
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modules as M  # noqa: E402
import st  # noqa: E402
import tokenizer as T  # noqa: E402


class DPMSolverPP2M:
    def __init__(self, cfg=None):
        cfg = cfg or {}
        self.n_train = cfg.get("num_train_timesteps", 1000)
        b0, b1 = cfg.get("beta_start", 0.00085), cfg.get("beta_end", 0.012)
        assert cfg.get("beta_schedule", "scaled_linear") == "scaled_linear"
        betas = torch.linspace(b0 ** 0.5, b1 ** 0.5, self.n_train, dtype=torch.float32) ** 2
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)

    def set_timesteps(self, n):
        ts = np.linspace(0, self.n_train - 1, n + 1).round()[::-1][:-1].copy().astype(np.int64)
        ac = self.alphas_cumprod
        sig = np.array(((1 - ac) / ac) ** 0.5)
        sig = np.interp(ts, np.arange(0, len(sig)), sig)
        self.sigmas = np.concatenate([sig, [0.0]]).astype(np.float32)
        self._sig = torch.from_numpy(self.sigmas)
        self.timesteps = ts
        self.i = 0
        self.lower_order_nums = 0
        self.outs = [None, None]
        return ts

    @staticmethod
    def _as(sigma):
        a = 1 / ((sigma ** 2 + 1) ** 0.5)
        return a, sigma * a

    def step(self, eps, sample):
        i = self.i
        sample = sample.to(torch.float32)
        a_s0, s_s0 = self._as(self._sig[i])
        x0 = (sample - s_s0 * eps) / a_s0
        self.outs = [self.outs[1], x0]
        last = i == len(self.timesteps) - 1  # final_sigmas_type 'zero' -> first order at the end
        a_t, s_t = self._as(self._sig[i + 1])
        lam_t = torch.log(a_t) - torch.log(s_t)
        lam_s0 = torch.log(a_s0) - torch.log(s_s0)
        h = lam_t - lam_s0
        if self.lower_order_nums < 1 or last:
            x = (s_t / s_s0) * sample - (a_t * (torch.exp(-h) - 1.0)) * x0
        else:
            a_s1, s_s1 = self._as(self._sig[i - 1])
            lam_s1 = torch.log(a_s1) - torch.log(s_s1)
            r0 = (lam_s0 - lam_s1) / h
            D0, D1 = self.outs[1], (1.0 / r0) * (self.outs[1] - self.outs[0])
            x = (s_t / s_s0) * sample - (a_t * (torch.exp(-h) - 1.0)) * D0 - 0.5 * (a_t * (torch.exp(-h) - 1.0)) * D1
        if self.lower_order_nums < 2:
            self.lower_order_nums += 1
        self.i += 1
        return x


# Where a diffusers/transformers pipeline folder keeps each component's weights.
WEIGHT_FILES = {"text_encoder": "text_encoder/model.safetensors",
                "unet": "unet/diffusion_pytorch_model.safetensors",
                "vae": "vae/diffusion_pytorch_model.safetensors"}


def load_component(module, folder, component):
    """Load the weights of one component (a WEIGHT_FILES key) of an exported pipeline folder into module."""
    return M.load_state(module, st.load(os.path.join(folder, WEIGHT_FILES[component])))


class Pipeline:
    def __init__(self, tok, text_encoder, unet, vae, scaling_factor, sched_cfg=None):
        self.tok, self.te, self.unet, self.vae = tok, text_encoder, unet, vae
        self.sf = scaling_factor
        self.sched_cfg = sched_cfg

    @classmethod
    def load(cls, folder):
        j = lambda p: json.load(open(os.path.join(folder, p)))
        tok = T.CLIPTokenizer(os.path.join(folder, "tokenizer"))
        te = M.CLIPTextModel(j("text_encoder/config.json"))
        load_component(te, folder, "text_encoder")
        unet = M.UNet2DConditionModel(j("unet/config.json"))
        load_component(unet, folder, "unet")
        vcfg = j("vae/config.json")
        vae = M.AutoencoderKL(vcfg)
        load_component(vae, folder, "vae")
        for m in (te, unet, vae):
            m.eval()
        return cls(tok, te, unet, vae, vcfg["scaling_factor"], j("scheduler/scheduler_config.json"))

    @torch.no_grad()
    def encode_text(self, prompts):
        ids = torch.tensor([self.tok(p) for p in prompts], dtype=torch.int64)
        return self.te(ids)["last_hidden_state"]

    @torch.no_grad()
    def __call__(self, prompts, seeds, steps=25, cfg=7.5, latent_hw=(8, 8)):
        n = len(prompts)
        cond = self.encode_text(prompts)
        unc = self.encode_text([""] * n)
        x = torch.stack([torch.randn(4, *latent_hw, generator=torch.Generator().manual_seed(int(s))) for s in seeds])
        sch = DPMSolverPP2M(self.sched_cfg)
        ts = sch.set_timesteps(steps)
        ctx = torch.cat([unc, cond])
        for t in ts:
            e = self.unet(torch.cat([x, x]), torch.tensor([int(t)]), ctx)
            eu, ec = e.chunk(2)
            x = sch.step(eu + cfg * (ec - eu), x)
        img = self.vae.decode(x / self.sf)
        img = ((img / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return img


if __name__ == "__main__":
    import png
    torch.set_num_threads(1)
    folder, prompt, out = sys.argv[1], sys.argv[2], sys.argv[3]
    p = Pipeline.load(folder)
    imgs = p([prompt] * 4, seeds=[0, 1, 2, 3])
    png.write_png(out, png.upscale(png.grid(list(imgs), 4), 4))
    print("wrote", out)
