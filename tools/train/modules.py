"""PyTorch modules with diffusers' / transformers' exact state-dict names and forward semantics.

AutoencoderKL (diffusers), UNet2DConditionModel (diffusers, the SD 1.x subset: positional
time embedding, CrossAttn/plain down & up blocks, UNetMidBlock2DCrossAttn, conv proj_in/out),
CLIPTextModel (transformers, quick_gelu, causal mask). Written from the reference
semantics; checked against golden outputs by check_golden.py.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------- shared

# Debian's CPU torch has a generic (slow) BLAS but a fast oneDNN convolution: when FAST_LINEAR
# is set, Linear layers run as 1x1 convolutions over the flattened tokens (same math, same
# parameters, same state-dict keys), which is ~10x faster for training here.
FAST_LINEAR = False


class Linear(nn.Linear):
    def forward(self, x):
        if not FAST_LINEAR:
            return F.linear(x, self.weight, self.bias)
        shp = x.shape
        y = F.conv2d(x.reshape(-1, shp[-1], 1, 1), self.weight[:, :, None, None], self.bias)
        return y.reshape(*shp[:-1], self.weight.shape[0])


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb_channels, groups, eps, output_scale_factor=1.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        if temb_channels is not None:
            self.time_emb_proj = Linear(temb_channels, cout)
        else:
            self.time_emb_proj = None
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps, affine=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1, 1, 0) if cin != cout else None
        self.output_scale_factor = output_scale_factor

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None and temb is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return (x + h) / self.output_scale_factor


class Downsample2D(nn.Module):
    def __init__(self, ch, padding):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(ch, ch, 3, 2, padding)

    def forward(self, x):
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1), mode="constant", value=0.0)
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Attention(nn.Module):
    """diffusers Attention with AttnProcessor semantics (subset used by SD 1.x / AutoencoderKL)."""

    def __init__(self, query_dim, heads, dim_head, cross_attention_dim=None, bias=False, out_bias=True,
                 norm_num_groups=None, eps=1e-5, residual_connection=False, rescale_output_factor=1.0):
        super().__init__()
        inner = heads * dim_head
        kv = cross_attention_dim if cross_attention_dim is not None else query_dim
        self.heads = heads
        self.scale = dim_head ** -0.5
        self.group_norm = nn.GroupNorm(norm_num_groups, query_dim, eps=eps, affine=True) if norm_num_groups else None
        self.to_q = Linear(query_dim, inner, bias=bias)
        self.to_k = Linear(kv, inner, bias=bias)
        self.to_v = Linear(kv, inner, bias=bias)
        self.to_out = nn.ModuleList([Linear(inner, query_dim, bias=out_bias), nn.Dropout(0.0)])
        self.residual_connection = residual_connection
        self.rescale_output_factor = rescale_output_factor
        self.probe = None  # set to a list to capture attention probabilities

    def forward(self, hidden_states, encoder_hidden_states=None):
        residual = hidden_states
        ndim = hidden_states.ndim
        if ndim == 4:
            b, c, hh, ww = hidden_states.shape
            hidden_states = hidden_states.view(b, c, hh * ww).transpose(1, 2)
        if self.group_norm is not None:
            hidden_states = self.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        ctx = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        q, k, v = self.to_q(hidden_states), self.to_k(ctx), self.to_v(ctx)
        B, N, D = q.shape
        H = self.heads
        d = D // H

        def split(t):
            return t.reshape(B, t.shape[1], H, d).permute(0, 2, 1, 3).reshape(B * H, t.shape[1], d)

        q, k, v = split(q), split(k), split(v)
        # diffusers: baddbmm(empty, q, k^T, beta=0, alpha=scale); the same value without reading
        # uninitialised memory (torch 1.13's CPU baddbmm backward can propagate NaNs from it)
        scores = torch.bmm(q, k.transpose(-1, -2)) * self.scale
        probs = scores.softmax(dim=-1)
        if self.probe is not None:
            self.probe.append(probs.detach())
        out = torch.bmm(probs, v)
        out = out.reshape(B, H, N, d).permute(0, 2, 1, 3).reshape(B, N, H * d)
        out = self.to_out[1](self.to_out[0](out))
        if ndim == 4:
            out = out.transpose(-1, -2).reshape(b, c, hh, ww)
        if self.residual_connection:
            out = out + residual
        return out / self.rescale_output_factor


# ----------------------------------------------------------------------------- AutoencoderKL

class UNetMidBlock2D(nn.Module):
    def __init__(self, ch, groups, eps, add_attention=True):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, None, groups, eps), ResnetBlock2D(ch, ch, None, groups, eps)])
        self.attentions = nn.ModuleList(
            [Attention(ch, heads=1, dim_head=ch, bias=True, norm_num_groups=groups, eps=eps, residual_connection=True)]
            if add_attention else [])

    def forward(self, x):
        x = self.resnets[0](x)
        for attn, res in zip(self.attentions, self.resnets[1:]):
            x = attn(x)
            x = res(x)
        if not len(self.attentions):
            x = self.resnets[1](x)
        return x


class _Block(nn.Module):
    pass


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        boc, g, L = cfg["block_out_channels"], cfg["norm_num_groups"], cfg["layers_per_block"]
        self.conv_in = nn.Conv2d(cfg["in_channels"], boc[0], 3, 1, 1)
        self.down_blocks = nn.ModuleList()
        out = boc[0]
        for i in range(len(boc)):
            cin, out = out, boc[i]
            blk = _Block()
            blk.resnets = nn.ModuleList([ResnetBlock2D(cin if j == 0 else out, out, None, g, 1e-6) for j in range(L)])
            if i != len(boc) - 1:
                blk.downsamplers = nn.ModuleList([Downsample2D(out, padding=0)])
            else:
                blk.downsamplers = None
            self.down_blocks.append(blk)
        self.mid_block = UNetMidBlock2D(boc[-1], g, 1e-6, cfg.get("mid_block_add_attention", True))
        self.conv_norm_out = nn.GroupNorm(g, boc[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(boc[-1], 2 * cfg["latent_channels"], 3, 1, 1)

    def forward(self, x, hooks=None):
        x = self.conv_in(x)
        _hook(hooks, "encoder.conv_in", x)
        for i, blk in enumerate(self.down_blocks):
            for r in blk.resnets:
                x = r(x)
            if blk.downsamplers is not None:
                x = blk.downsamplers[0](x)
            _hook(hooks, f"encoder.down_blocks.{i}", x)
        x = self.mid_block(x)
        _hook(hooks, "encoder.mid_block", x)
        x = self.conv_norm_out(x)
        _hook(hooks, "encoder.conv_norm_out", x)
        return self.conv_out(F.silu(x))


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        boc, g, L = cfg["block_out_channels"], cfg["norm_num_groups"], cfg["layers_per_block"]
        self.conv_in = nn.Conv2d(cfg["latent_channels"], boc[-1], 3, 1, 1)
        self.mid_block = UNetMidBlock2D(boc[-1], g, 1e-6, cfg.get("mid_block_add_attention", True))
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(boc))
        out = rev[0]
        for i in range(len(rev)):
            prev, out = out, rev[i]
            blk = _Block()
            blk.resnets = nn.ModuleList([ResnetBlock2D(prev if j == 0 else out, out, None, g, 1e-6) for j in range(L + 1)])
            blk.upsamplers = nn.ModuleList([Upsample2D(out)]) if i != len(rev) - 1 else None
            self.up_blocks.append(blk)
        self.conv_norm_out = nn.GroupNorm(g, boc[0], eps=1e-6)
        self.conv_out = nn.Conv2d(boc[0], cfg["out_channels"], 3, 1, 1)

    def forward(self, z, hooks=None):
        x = self.conv_in(z)
        _hook(hooks, "decoder.conv_in", x)
        x = self.mid_block(x)
        _hook(hooks, "decoder.mid_block", x)
        for i, blk in enumerate(self.up_blocks):
            for r in blk.resnets:
                x = r(x)
            if blk.upsamplers is not None:
                x = blk.upsamplers[0](x)
            _hook(hooks, f"decoder.up_blocks.{i}", x)
        x = self.conv_norm_out(x)
        _hook(hooks, "decoder.conv_norm_out", x)
        return self.conv_out(F.silu(x))


def _hook(hooks, name, x):
    if hooks is not None:
        hooks[name] = x


class AutoencoderKL(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        L = cfg["latent_channels"]
        self.quant_conv = nn.Conv2d(2 * L, 2 * L, 1) if cfg.get("use_quant_conv", True) else None
        self.post_quant_conv = nn.Conv2d(L, L, 1) if cfg.get("use_post_quant_conv", True) else None

    def encode(self, x, hooks=None):
        h = self.encoder(x, hooks)
        if self.quant_conv is not None:
            h = self.quant_conv(h)
        _hook(hooks, "encoder.quant_conv", h)
        mean, logvar = torch.chunk(h, 2, dim=1)
        logvar = torch.clamp(logvar, -30.0, 20.0)
        return mean, logvar

    def decode(self, z, hooks=None):
        if self.post_quant_conv is not None:
            z = self.post_quant_conv(z)
        _hook(hooks, "decoder.post_quant_conv", z)
        return self.decoder(z, hooks)


# ----------------------------------------------------------------------------- UNet2DConditionModel

def timestep_embedding(timesteps, dim, flip_sin_to_cos=True, downscale_freq_shift=0.0, max_period=10000):
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(0, half, dtype=torch.float32, device=timesteps.device)
    exponent = exponent / (half - downscale_freq_shift)
    emb = torch.exp(exponent)
    emb = timesteps[:, None].float() * emb[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear_1 = Linear(cin, dim)
        self.linear_2 = Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class GEGLU(nn.Module):
    def __init__(self, din, dout):
        super().__init__()
        self.proj = Linear(din, dout * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        inner = dim * mult
        self.net = nn.ModuleList([GEGLU(dim, inner), nn.Dropout(0.0), Linear(inner, dim)])

    def forward(self, x):
        for m in self.net:
            x = m(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, dim_head, cross_attention_dim, eps=1e-5):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn1 = Attention(dim, heads, dim_head, None, bias=False)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.attn2 = Attention(dim, heads, dim_head, cross_attention_dim, bias=False)
        self.norm3 = nn.LayerNorm(dim, eps=eps)
        self.ff = FeedForward(dim)

    def forward(self, x, ctx):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), ctx) + x
        x = self.ff(self.norm3(x)) + x
        return x


class Transformer2DModel(nn.Module):
    def __init__(self, heads, dim_head, cin, cross_attention_dim, groups, num_layers=1):
        super().__init__()
        inner = heads * dim_head
        self.norm = nn.GroupNorm(groups, cin, eps=1e-6, affine=True)
        self.proj_in = nn.Conv2d(cin, inner, 1)
        self.transformer_blocks = nn.ModuleList(
            [BasicTransformerBlock(inner, heads, dim_head, cross_attention_dim) for _ in range(num_layers)])
        self.proj_out = nn.Conv2d(inner, cin, 1)

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        res = x
        x = self.proj_in(self.norm(x))
        inner = x.shape[1]
        x = x.permute(0, 2, 3, 1).reshape(b, h * w, inner)
        for blk in self.transformer_blocks:
            x = blk(x, ctx)
        x = x.reshape(b, h, w, inner).permute(0, 3, 1, 2).contiguous()
        return self.proj_out(x) + res


def _per_block(v, n):
    return list(v) if isinstance(v, (list, tuple)) else [v] * n


class UNet2DConditionModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        boc = cfg["block_out_channels"]
        n = len(boc)
        heads = _per_block(cfg["num_attention_heads"] if cfg.get("num_attention_heads") else cfg["attention_head_dim"], n)
        L = _per_block(cfg["layers_per_block"], n)
        g, eps, xdim = cfg["norm_num_groups"], cfg["norm_eps"], cfg["cross_attention_dim"]
        tdim = boc[0] * 4
        self.conv_in = nn.Conv2d(cfg["in_channels"], boc[0], 3, 1, 1)
        self.time_proj_dim = boc[0]
        self.time_embedding = TimestepEmbedding(boc[0], tdim)
        self.down_blocks = nn.ModuleList()
        out = boc[0]
        for i, bt in enumerate(cfg["down_block_types"]):
            cin, out = out, boc[i]
            final = i == n - 1
            blk = _Block()
            blk.kind = bt
            blk.resnets = nn.ModuleList([ResnetBlock2D(cin if j == 0 else out, out, tdim, g, eps) for j in range(L[i])])
            if bt == "CrossAttnDownBlock2D":
                blk.attentions = nn.ModuleList([Transformer2DModel(heads[i], out // heads[i], out, xdim, g) for _ in range(L[i])])
            else:
                assert bt == "DownBlock2D", bt
                blk.attentions = None
            blk.downsamplers = nn.ModuleList([Downsample2D(out, padding=cfg.get("downsample_padding", 1))]) if not final else None
            self.down_blocks.append(blk)
        assert cfg.get("mid_block_type", "UNetMidBlock2DCrossAttn") == "UNetMidBlock2DCrossAttn"
        mid = _Block()
        msf = cfg.get("mid_block_scale_factor", 1)
        mid.resnets = nn.ModuleList([ResnetBlock2D(boc[-1], boc[-1], tdim, g, eps, msf) for _ in range(2)])
        mid.attentions = nn.ModuleList([Transformer2DModel(heads[-1], boc[-1] // heads[-1], boc[-1], xdim, g)])
        self.mid_block = mid
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(boc))
        rheads = list(reversed(heads))
        rL = list(reversed(L))
        out = rev[0]
        for i, bt in enumerate(cfg["up_block_types"]):
            final = i == n - 1
            prev, out = out, rev[i]
            cin = rev[min(i + 1, n - 1)]
            nl = rL[i] + 1
            blk = _Block()
            blk.kind = bt
            rs = []
            for j in range(nl):
                skip = cin if j == nl - 1 else out
                rin = prev if j == 0 else out
                rs.append(ResnetBlock2D(rin + skip, out, tdim, g, eps))
            blk.resnets = nn.ModuleList(rs)
            if bt == "CrossAttnUpBlock2D":
                blk.attentions = nn.ModuleList([Transformer2DModel(rheads[i], out // rheads[i], out, xdim, g) for _ in range(nl)])
            else:
                assert bt == "UpBlock2D", bt
                blk.attentions = None
            blk.upsamplers = nn.ModuleList([Upsample2D(out)]) if not final else None
            self.up_blocks.append(blk)
        self.conv_norm_out = nn.GroupNorm(g, boc[0], eps=eps)
        self.conv_out = nn.Conv2d(boc[0], cfg["out_channels"], 3, 1, 1)

    def forward(self, sample, timesteps, encoder_hidden_states, hooks=None):
        if not torch.is_tensor(timesteps):
            timesteps = torch.tensor([timesteps], dtype=torch.int64)
        if timesteps.ndim == 0:
            timesteps = timesteps[None]
        timesteps = timesteps.expand(sample.shape[0])
        t = timestep_embedding(timesteps, self.time_proj_dim, self.config.get("flip_sin_to_cos", True),
                               self.config.get("freq_shift", 0)).to(sample.dtype)
        _hook(hooks, "time_proj", t)
        emb = self.time_embedding(t)
        _hook(hooks, "time_embedding", emb)
        ctx = encoder_hidden_states
        x = self.conv_in(sample)
        _hook(hooks, "conv_in", x)
        skips = [x]
        for i, blk in enumerate(self.down_blocks):
            rs = []
            for j, r in enumerate(blk.resnets):
                x = r(x, emb)
                if blk.attentions is not None:
                    x = blk.attentions[j](x, ctx)
                rs.append(x)
            if blk.downsamplers is not None:
                x = blk.downsamplers[0](x)
                rs.append(x)
            _hook(hooks, f"down_blocks.{i}", x)
            for k, r in enumerate(rs):
                _hook(hooks, f"down_blocks.{i}.res_samples.{k}", r)
            skips += rs
        x = self.mid_block.resnets[0](x, emb)
        x = self.mid_block.attentions[0](x, ctx)
        x = self.mid_block.resnets[1](x, emb)
        _hook(hooks, "mid_block", x)
        for i, blk in enumerate(self.up_blocks):
            for j, r in enumerate(blk.resnets):
                x = torch.cat([x, skips.pop()], dim=1)
                x = r(x, emb)
                if blk.attentions is not None:
                    x = blk.attentions[j](x, ctx)
            if blk.upsamplers is not None:
                x = blk.upsamplers[0](x)
            _hook(hooks, f"up_blocks.{i}", x)
        x = self.conv_norm_out(x)
        _hook(hooks, "conv_norm_out", x)
        return self.conv_out(F.silu(x))


# ----------------------------------------------------------------------------- CLIPTextModel

class CLIPAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.k_proj = Linear(dim, dim)
        self.v_proj = Linear(dim, dim)
        self.q_proj = Linear(dim, dim)
        self.out_proj = Linear(dim, dim)

    def forward(self, x, mask):
        B, N, D = x.shape
        H = self.heads
        d = D // H
        q = (self.q_proj(x) * self.scale).view(B, N, H, d).transpose(1, 2)
        k = self.k_proj(x).view(B, N, H, d).transpose(1, 2)
        v = self.v_proj(x).view(B, N, H, d).transpose(1, 2)
        w = torch.matmul(q, k.transpose(-1, -2)) + mask
        w = w.softmax(dim=-1)
        o = torch.matmul(w, v).transpose(1, 2).reshape(B, N, D)
        return self.out_proj(o)


class CLIPMLP(nn.Module):
    def __init__(self, dim, inter):
        super().__init__()
        self.fc1 = Linear(dim, inter)
        self.fc2 = Linear(inter, dim)

    def forward(self, x):
        h = self.fc1(x)
        h = h * torch.sigmoid(1.702 * h)  # quick_gelu
        return self.fc2(h)


class CLIPEncoderLayer(nn.Module):
    def __init__(self, dim, heads, inter, eps):
        super().__init__()
        self.self_attn = CLIPAttention(dim, heads)
        self.layer_norm1 = nn.LayerNorm(dim, eps=eps)
        self.mlp = CLIPMLP(dim, inter)
        self.layer_norm2 = nn.LayerNorm(dim, eps=eps)

    def forward(self, x, mask):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        x = x + self.mlp(self.layer_norm2(x))
        return x


class CLIPTextModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        assert cfg.get("hidden_act", "quick_gelu") == "quick_gelu"
        self.config = cfg
        D = cfg["hidden_size"]
        tm = _Block()
        tm.embeddings = _Block()
        tm.embeddings.token_embedding = nn.Embedding(cfg["vocab_size"], D)
        tm.embeddings.position_embedding = nn.Embedding(cfg["max_position_embeddings"], D)
        tm.encoder = _Block()
        tm.encoder.layers = nn.ModuleList([CLIPEncoderLayer(D, cfg["num_attention_heads"], cfg["intermediate_size"],
                                                            cfg.get("layer_norm_eps", 1e-5))
                                           for _ in range(cfg["num_hidden_layers"])])
        tm.final_layer_norm = nn.LayerNorm(D, eps=cfg.get("layer_norm_eps", 1e-5))
        self.text_model = tm

    def forward(self, input_ids, output_hidden_states=False):
        tm = self.text_model
        B, N = input_ids.shape
        pos = torch.arange(N, device=input_ids.device)[None]
        x = tm.embeddings.token_embedding(input_ids) + tm.embeddings.position_embedding(pos)
        hs = [x]
        mask = torch.full((N, N), torch.finfo(x.dtype).min, dtype=x.dtype).triu(1)[None, None]
        for layer in tm.encoder.layers:
            x = layer(x, mask)
            hs.append(x)
        last = tm.final_layer_norm(x)
        eos = self.config.get("eos_token_id", 2)
        if eos == 2:
            idx = input_ids.to(torch.int).argmax(dim=-1)
        else:
            idx = (input_ids == eos).int().argmax(dim=-1)
        pooled = last[torch.arange(B), idx]
        return {"last_hidden_state": last, "pooler_output": pooled, "hidden_states": hs if output_hidden_states else None}


def load_state(module, tensors, strict=True):
    sd = {k: torch.from_numpy(v.astype("float32") if v.dtype.kind == "f" else v) for k, v in tensors.items()}
    missing, unexpected = module.load_state_dict(sd, strict=strict)
    return missing, unexpected
