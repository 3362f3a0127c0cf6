"""The whole LFM3D forward pass as ONE Triton kernel launch, for low-latency inference.

Why: at batch 1 a 17-keypoint skeleton is a tiny amount of arithmetic (~2 MFLOP for the
`small` preset), yet PyTorch runs it as ~100 small kernels. Even replayed from a CUDA graph
that costs ~0.35 ms on an H100, almost all of it kernel launches and the gaps between them.
Here one Triton program computes one whole instance (normalisation, RFF encoding, every
hybrid attention layer, decoder) with the activations kept in registers; only the weights
come from global memory (L2-resident after the first call). A launch of B programs serves a
batch of B. Built for small batches (B up to a few hundred) and N <= 64 keypoints.

Semantics follow `training.model.LFM3D.forward` exactly (same masking rules, -1e4 attention
bias, LayerNorm eps 1e-5, exact erf GELU, zeros at masked points). Keypoints are padded to
NP = max(16, next_pow2(N)) tokens (tl.dot needs every dim >= 16); padded tokens behave like
masked ones, so they never change real tokens.

Packed weights (built once in `FusedLFM3D.__init__`, on the model's device). Every dimension
is padded to a power of two >= 16 with zero weights, which keeps padded features exactly 0:
    D  -> DP   (model width),            Dh -> DHP  (head width),     H -> HP (heads),
    F/2 -> FHP (RFF frequencies),        mlp hidden -> HIDP (a multiple of the chunk HC),
    3  -> OP = 16 (decoder output).
Matrices (`wmat`, the dot dtype: fp16 / bf16 / fp32), stored as (in, out) row-major so a
tile feeds tl.dot's right operand directly, in this order:
    enc_sin (FHP, DP), enc_cos (FHP, DP)            token projection rows for sin / cos feats
    per layer l (stride LM):
        qkv  (3, DP, 2, HP, DHP)  qkv.weight.T as [q/k/v][input][branch (local, global), head, e]
        proj (2, HP, DHP, DP)     rows of proj.weight.T for [branch, head, e] of the concat input
        w1   (NCH, DP, HC)        mlp[0].weight.T cut into NCH column chunks of HC
        w2   (HIDP, DP)           mlp[2].weight.T
    dec1 (DP / DC, DP, DC)     decoder[0].weight.T cut into column chunks of DC
    dec2 (DP, OP)
Vectors (`wvec`, always fp32):
    omega (2, FHP), rff_bias (FHP), enc_side (DP) (side column of proj.weight),
    enc_front (DP) (front column, 0 without use_fronts), enc_b (DP)
    per layer l (stride LV): ln1_w, ln1_b (DP), qkv_b (3, 2, HP, DHP), proj_b (DP),
                             ln2_w, ln2_b (DP), b1 (HIDP), b2 (DP)
    lnf_w, lnf_b (DP), dec1_b (DP), dec2_b (OP)
The offsets are passed to the kernel as constexprs, so the kernel is specialised per config.
"""

from __future__ import annotations

import math
import os

import torch

import triton
import triton.language as tl

from training.model import LFM3D, MASK_BIAS, SCALE_EPS, check_inputs

#: Largest keypoint count the kernel supports (NP = 64 tokens held in registers).
MAX_KEYPOINTS = 64
LN_EPS = 1e-5  # nn.LayerNorm default, used by every LayerNorm of the model
OUT_PAD = 16  # decoder output 3 padded to 16 columns


def _pow2(n: int, floor: int = 16) -> int:
    return max(floor, triton.next_power_of_2(int(n)))


# ----------------------------------------------------------------------------------------
# Device helpers (inlined into the kernel)


@triton.jit
def _ld_mat(ptr, R: tl.constexpr, C: tl.constexpr, S: tl.constexpr = None, rmask=None,
            cmask=None, SKIP_PAD: tl.constexpr = False):
    """(R, C) row-major tile at ptr, rows S elements apart (None: dense, S = C). With
    SKIP_PAD, rmask (R,) / cmask (C,) bool (None: all) mark the rows / columns to read: the
    others are zero padding, returned as 0 without a memory access. Why a switch: skipping
    the padding nearly doubles full-GPU throughput (the programs share L2 bandwidth) but
    costs batch 1 a few percent (bench/results/speed_h100_fused_v4.md)."""
    r = tl.arange(0, R)
    c = tl.arange(0, C)
    stride: tl.constexpr = C if S is None else S
    ptrs = ptr + r[:, None] * stride + c[None, :]
    if not SKIP_PAD or (rmask is None and cmask is None):
        return tl.load(ptrs)
    m = (tl.full((R, 1), 1, tl.int1) if rmask is None else rmask[:, None]) \
        & (tl.full((1, C), 1, tl.int1) if cmask is None else cmask[None, :])
    return tl.load(ptrs, mask=m, other=0.0)


@triton.jit
def _ld_vec(ptr, C: tl.constexpr):
    """(1, C) fp32 row vector at ptr (broadcasts over tokens)."""
    return tl.load(ptr + tl.arange(0, C))[None, :]


@triton.jit
def _mm(a, w, WDT: tl.constexpr, PREC: tl.constexpr):
    """a (M, K) fp32 @ w (K, N) (already WDT) -> (M, N) fp32, fp32 accumulation."""
    return tl.dot(a.to(WDT), w, input_precision=PREC, out_dtype=tl.float32)


@triton.jit
def _layernorm(x, w_ptr, b_ptr, D: tl.constexpr, DP: tl.constexpr):
    """LayerNorm over the first D of DP columns of x (NP, DP); padded columns stay 0."""
    cmask = (tl.arange(0, DP) < D)[None, :]
    mean = tl.sum(x, axis=1)[:, None] / D  # padded columns of x are 0
    xc = tl.where(cmask, x - mean, 0.0)
    var = tl.sum(xc * xc, axis=1)[:, None] / D
    y = xc / tl.sqrt(var + 1e-5)
    return y * _ld_vec(w_ptr, DP) + _ld_vec(b_ptr, DP)  # padded w, b are 0


@triton.jit
def _heads(t, NP: tl.constexpr, NH: tl.constexpr, DHP: tl.constexpr, WDT: tl.constexpr):
    """(NP, NH * DHP) fp32, columns (head, e) -> (NH, NP, DHP) in WDT, for batched dots."""
    return tl.permute(tl.reshape(t.to(WDT), (NP, NH, DHP)), (1, 0, 2))


@triton.jit
def _gelu(x):
    """Exact (erf) GELU, as nn.GELU()."""
    return 0.5 * x * (1.0 + tl.math.erf(x * 0.7071067811865476))


# ----------------------------------------------------------------------------------------
# The kernel: one program = one instance of the batch


@triton.jit
def _lfm3d_kernel(
    kp_ptr, mask_ptr, adj_ptr, sides_ptr, fronts_ptr, out_ptr, wm, wv, N,
    # dims
    NP: tl.constexpr, D: tl.constexpr, DP: tl.constexpr, HP: tl.constexpr, DHP: tl.constexpr,
    DH: tl.constexpr, G: tl.constexpr, QC: tl.constexpr, SKIP_PAD: tl.constexpr,
    FH: tl.constexpr, FHP: tl.constexpr, FC: tl.constexpr, HID: tl.constexpr, HC: tl.constexpr,
    NCH: tl.constexpr, DC: tl.constexpr,
    L: tl.constexpr,
    OP: tl.constexpr, USE_SIDES: tl.constexpr, USE_FRONTS: tl.constexpr,
    SM_SCALE: tl.constexpr, GAIN: tl.constexpr,
    WDT: tl.constexpr, PREC: tl.constexpr,
    # MLP loop scheduling (tl.range): pipeline stages (None: the launch's num_stages,
    # which pipelines only the loads feeding dots) and unroll factor (< 2: none)
    LOOP_STAGES: tl.constexpr, MLP_UNROLL: tl.constexpr,
    # matrix offsets (elements of wm)
    M_ENC_S: tl.constexpr, M_ENC_C: tl.constexpr, M_L0: tl.constexpr, LM: tl.constexpr,
    M_QKV: tl.constexpr, M_PROJ: tl.constexpr, M_W1: tl.constexpr, M_W2: tl.constexpr,
    M_DEC1: tl.constexpr, M_DEC2: tl.constexpr,
    # vector offsets (elements of wv)
    V_OMEGA: tl.constexpr, V_RFFB: tl.constexpr, V_SIDE: tl.constexpr, V_FRONT: tl.constexpr,
    V_ENCB: tl.constexpr,
    V_L0: tl.constexpr, LV: tl.constexpr, V_LN1W: tl.constexpr, V_LN1B: tl.constexpr,
    V_QKVB: tl.constexpr, V_PROJB: tl.constexpr, V_LN2W: tl.constexpr, V_LN2B: tl.constexpr,
    V_B1: tl.constexpr, V_B2: tl.constexpr, V_LNFW: tl.constexpr, V_LNFB: tl.constexpr,
    V_DEC1B: tl.constexpr, V_DEC2B: tl.constexpr,
):
    """kp (B, N, 2) fp32, mask (B, N) u8, adj (B, N, N) u8, sides, fronts (B, N) fp32
    -> out (B, N, 3). fronts_ptr is not read unless USE_FRONTS."""
    b = tl.program_id(0).to(tl.int64)
    tok = tl.arange(0, NP)  # token index as query (rows)
    in_n = tok < N

    # -- normalize_2d: centre on the valid points' mean, scale by max |offset| ----------
    valid = (tl.load(mask_ptr + b * N + tok, mask=in_n, other=0) != 0) & in_n  # (NP,)
    px = tl.load(kp_ptr + b * N * 2 + tok * 2, mask=in_n, other=0.0)
    py = tl.load(kp_ptr + b * N * 2 + tok * 2 + 1, mask=in_n, other=0.0)
    count = tl.maximum(tl.sum(valid.to(tl.float32), axis=0), 1.0)
    cx = tl.sum(tl.where(valid, px, 0.0), axis=0) / count
    cy = tl.sum(tl.where(valid, py, 0.0), axis=0) / count
    ox = tl.where(valid, px - cx, 0.0)  # where(): masked points may hold inf / NaN
    oy = tl.where(valid, py - cy, 0.0)
    scale = tl.maximum(tl.max(tl.maximum(tl.abs(ox), tl.abs(oy)), axis=0), SCALE_EPS_C)
    nx = (ox / scale)[:, None]  # (NP, 1)
    ny = (oy / scale)[:, None]

    # -- token encoder: RFF (sin | cos) [+ side] [+ front] -> Linear --------------------
    # masks of the weight tiles' real rows / columns (used only with SKIP_PAD)
    feat = tl.arange(0, DP) < D  # real features of a width-DP tile side
    x = tl.zeros((NP, DP), dtype=tl.float32) + _ld_vec(wv + V_ENCB, DP)  # (NP, DP)
    for fc in tl.static_range(FHP // FC):  # frequencies in chunks of FC (small tiles)
        f0 = fc * FC
        proj = nx * _ld_vec(wv + V_OMEGA + f0, FC) + ny * _ld_vec(wv + V_OMEGA + FHP + f0, FC) \
            + _ld_vec(wv + V_RFFB + f0, FC)  # (NP, FC); padded freqs hit zero weight rows
        freq = f0 + tl.arange(0, FC) < FH
        x += _mm(GAIN * tl.sin(proj),
                 _ld_mat(wm + M_ENC_S + f0 * DP, FC, DP, None, freq, feat, SKIP_PAD), WDT, PREC)
        x += _mm(GAIN * tl.cos(proj),
                 _ld_mat(wm + M_ENC_C + f0 * DP, FC, DP, None, freq, feat, SKIP_PAD), WDT, PREC)
    if USE_SIDES:
        sd = tl.load(sides_ptr + b * N + tok, mask=in_n, other=0.0)
        x += sd[:, None] * _ld_vec(wv + V_SIDE, DP)
    if USE_FRONTS:
        fr = tl.load(fronts_ptr + b * N + tok, mask=in_n, other=0.0)
        x += fr[:, None] * _ld_vec(wv + V_FRONT, DP)

    # -- attention biases (attention_biases): diagonal always allowed -------------------
    key = tl.arange(0, NP)
    valid_k = (tl.load(mask_ptr + b * N + key, mask=key < N, other=0) != 0) & (key < N)
    both = valid[:, None] & valid_k[None, :]  # (NP, NP) query x key
    eye = tok[:, None] == key[None, :]
    adj = tl.load(adj_ptr + b * N * N + tok[:, None] * N + key[None, :],
                  mask=in_n[:, None] & (key < N)[None, :], other=0) != 0
    bias_local = tl.where((adj & both) | eye, 0.0, MASK_BIAS_C)
    bias_global = tl.where(both | eye, 0.0, MASK_BIAS_C)

    # -- hybrid attention layers ---------------------------------------------------------
    for layer in range(L):
        lm = wm + M_L0 + layer * LM
        lv = wv + V_L0 + layer * LV
        xn = _layernorm(x, lv + V_LN1W, lv + V_LN1B, D, DP).to(WDT)
        acc = tl.zeros((NP, DP), dtype=tl.float32)  # output projection, summed over heads
        # G heads per step, heads ordered (branch, head): one dot each for q, k and v, two
        # batched dots over the step's heads, one for the output projection. Why: at batch
        # 1 the kernel is a chain of dependent small dots; G = 2 HP makes it 6 per layer.
        for st in tl.range(0, 2 * HP // G, 1, num_stages=LOOP_STAGES):
            c0 = st * (G * DHP)  # first (branch, head, e) column of this step
            head_e = (c0 + tl.arange(0, G * DHP)) % DHP < DH  # real head-width columns
            # (loads written inside the dots: hoisted into named tiles first, the same
            # kernel measured 1.3 instead of 1.9 M skeletons/s at batch 1024)
            q = _heads(_mm(xn, _ld_mat(lm + M_QKV + c0, DP, G * DHP, QC, feat, head_e, SKIP_PAD),
                           WDT, PREC) + _ld_vec(lv + V_QKVB + c0, G * DHP), NP, G, DHP, WDT)
            k = _heads(_mm(xn, _ld_mat(lm + M_QKV + DP * QC + c0, DP, G * DHP, QC, feat, head_e,
                                       SKIP_PAD), WDT, PREC)
                       + _ld_vec(lv + V_QKVB + QC + c0, G * DHP), NP, G, DHP, WDT)
            v = _heads(_mm(xn, _ld_mat(lm + M_QKV + 2 * DP * QC + c0, DP, G * DHP, QC, feat,
                                       head_e, SKIP_PAD), WDT, PREC)
                       + _ld_vec(lv + V_QKVB + 2 * QC + c0, G * DHP), NP, G, DHP, WDT)
            s = tl.dot(q, tl.permute(k, (0, 2, 1)), input_precision=PREC, out_dtype=tl.float32)
            branch = ((st * G + tl.arange(0, G)) // HP)[:, None, None]  # 0 local, 1 global
            bias = tl.where(branch == 0, bias_local[None, :, :], bias_global[None, :, :])
            s = s * SM_SCALE + bias  # (G heads, NP query, NP key)
            s = s - tl.max(s, axis=2)[:, :, None]  # softmax in fp32
            p = tl.exp(s)
            p = p / tl.sum(p, axis=2)[:, :, None]
            o = tl.dot(p.to(WDT), v, input_precision=PREC, out_dtype=tl.float32)  # (G, NP, DHP)
            # out.permute(0, 3, 1, 2, 4).reshape(b, n, 2D): rows (branch, head, e) of proj.T
            o = tl.reshape(tl.permute(o, (1, 0, 2)), (NP, G * DHP))
            acc += _mm(o, _ld_mat(lm + M_PROJ + c0 * DP, G * DHP, DP, DP, head_e, feat, SKIP_PAD),
                       WDT, PREC)
        x += acc + _ld_vec(lv + V_PROJB, DP)

        # MLP, hidden dim in NCH chunks of HC: x += W2 gelu(W1 ln(x) + b1) + b2
        xn = _layernorm(x, lv + V_LN2W, lv + V_LN2B, D, DP).to(WDT)
        acc = tl.zeros((NP, DP), dtype=tl.float32)
        for c in tl.range(0, NCH, 1, num_stages=LOOP_STAGES, loop_unroll_factor=MLP_UNROLL):
            units = c * HC + tl.arange(0, HC) < HID
            hid = tl.dot(xn, _ld_mat(lm + M_W1 + c * DP * HC, DP, HC, None, feat, units, SKIP_PAD),
                         input_precision=PREC, out_dtype=tl.float32)
            hid = _gelu(hid + _ld_vec(lv + V_B1 + c * HC, HC))
            acc += _mm(hid, _ld_mat(lm + M_W2 + c * HC * DP, HC, DP, None, units, feat, SKIP_PAD),
                       WDT, PREC)
        x += acc + _ld_vec(lv + V_B2, DP)

    # -- final LayerNorm, decoder D -> D -> 3, zeros at masked points --------------------
    xn = _layernorm(x, wv + V_LNFW, wv + V_LNFB, D, DP).to(WDT)
    y = tl.zeros((NP, OP), dtype=tl.float32) + _ld_vec(wv + V_DEC2B, OP)
    for dc in tl.static_range(DP // DC):  # hidden D in chunks of DC, as the MLP
        units = dc * DC + tl.arange(0, DC) < D
        hid = tl.dot(xn, _ld_mat(wm + M_DEC1 + dc * DP * DC, DP, DC, None, feat, units, SKIP_PAD),
                     input_precision=PREC, out_dtype=tl.float32)
        hid = _gelu(hid + _ld_vec(wv + V_DEC1B + dc * DC, DC))
        y += _mm(hid, _ld_mat(wm + M_DEC2 + dc * DC * OP, DC, OP, None, units,
                              tl.arange(0, OP) < 3, SKIP_PAD), WDT, PREC)
    y = tl.where(valid[:, None], y, 0.0)  # (NP, OP)
    oc = tl.arange(0, OP)
    tl.store(out_ptr + b * N * 3 + tok[:, None] * 3 + oc[None, :], y,
             mask=in_n[:, None] & (oc < 3)[None, :])


# Python floats read as constexpr globals inside the kernel.
SCALE_EPS_C = tl.constexpr(SCALE_EPS)
MASK_BIAS_C = tl.constexpr(MASK_BIAS)


# ----------------------------------------------------------------------------------------
# Host side: weight packing and the callable wrapper

_TL_DTYPE = {torch.float16: tl.float16, torch.bfloat16: tl.bfloat16, torch.float32: tl.float32}


class FusedLFM3D:
    """Whole-network Triton kernel for inference. Built from a trained LFM3D (eval mode).

    The weights are packed once (see the module docstring for the layout) into two
    contiguous buffers on the model's device: `wmat` (matrices, in `dtype`, the tl.dot input
    type) and `wvec` (biases, LayerNorm and RFF parameters, fp32). `dtype=torch.float32`
    runs exact fp32 dots (input_precision="ieee") for parity checks; fp16 / bf16 is the
    fast path (fp32 accumulation, fp32 softmax / LayerNorm / GELU).
    Call it like `LFM3D.forward`; later changes to the model's weights are not seen.

    Launch and scheduling knobs (defaults measured best on the H100,
    bench/results/speed_h100_fused_v4.md): `num_warps` / `num_stages` (None: chosen per call
    from the batch and padded N), `mlp_chunk` (MLP hidden units per loop iteration),
    `loop_stages` (tl.range pipelining of every load in the MLP loop; None: off),
    `mlp_unroll` (its unroll factor; < 2: none), `heads_per_step` (attention heads per
    batched dot: 1, HP or 2 HP, HP = H padded to a power of two; None: 2 HP),
    `skip_padding` (weight loads skip the tiles' zero padding; None: chosen per call).
    """

    def __init__(self, model: LFM3D, dtype: torch.dtype = torch.float16,
                 num_warps: int | None = None, num_stages: int | None = None,
                 mlp_chunk: int = 64, loop_stages: int | None = None, mlp_unroll: int = 1,
                 heads_per_step: int | None = None, skip_padding: bool | None = None):
        if dtype not in _TL_DTYPE:
            raise ValueError(f"FusedLFM3D: dtype must be one of {list(_TL_DTYPE)}, got {dtype}")
        cfg = model.config
        self.config = cfg
        self.dtype = dtype
        # None: chosen per call from the batch and padded N (see __call__)
        self.num_warps = num_warps
        self.num_stages = num_stages  # software pipelining of the loops' weight loads (1 = none)
        d, h = cfg.dim, cfg.heads
        dh, fh, hid = d // h, cfg.rff_dim // 2, cfg.mlp_ratio * cfg.dim
        self.D, self.H, self.L = d, h, cfg.layers
        # heads padded to a power of two (zero weights: a padded head adds exactly 0)
        self.HP = triton.next_power_of_2(h)
        self.DP, self.DHP, self.FHP = _pow2(d), _pow2(dh), _pow2(fh)
        self.heads_per_step = heads_per_step  # None: 2 HP, all heads of both branches at once
        # None: chosen per call (see __call__)
        self.skip_padding = None if skip_padding is None else bool(skip_padding)
        self._fits: dict[tuple, list] = {}  # launch choice -> the (stages, heads) that fits
        if heads_per_step is not None and heads_per_step not in (1, self.HP, 2 * self.HP):
            raise ValueError(f"FusedLFM3D: heads_per_step must be 1, {self.HP} or {2 * self.HP} "
                             f"(None: 2 HP), got {heads_per_step}")
        self.FC = min(32, self.FHP)  # RFF frequencies per encoder chunk
        self.DC = min(64, self.DP)  # decoder hidden units per chunk
        self.HC = min(_pow2(mlp_chunk), _pow2(hid))  # MLP hidden units per chunk
        self.NCH = -(-hid // self.HC)
        self.HIDP = self.NCH * self.HC
        self.device = next(model.parameters()).device
        with torch.no_grad():
            self.wmat, self.wvec, self.offsets = self._pack(model)
        self.wmat = self.wmat.to(self.device, dtype).contiguous()
        self.wvec = self.wvec.to(self.device, torch.float32).contiguous()
        self._consts = dict(
            D=d, DP=self.DP, HP=self.HP, DH=dh, DHP=self.DHP, QC=2 * self.HP * self.DHP,
            FH=fh, HID=hid, FHP=self.FHP, FC=self.FC, HC=self.HC, NCH=self.NCH, DC=self.DC,
            L=self.L, OP=OUT_PAD, USE_SIDES=bool(cfg.use_sides), USE_FRONTS=bool(cfg.use_fronts),
            SM_SCALE=1.0 / math.sqrt(dh),
            GAIN=float(model.encoder.rff.gain), WDT=_TL_DTYPE[dtype],
            LOOP_STAGES=loop_stages, MLP_UNROLL=mlp_unroll,
            PREC="ieee" if dtype == torch.float32 else "tf32", **self.offsets)

    # -- packing ----------------------------------------------------------------------
    def _pack(self, model: LFM3D) -> tuple[torch.Tensor, torch.Tensor, dict]:
        """Flatten the model's weights (fp32, CPU) into (wmat, wvec, offsets)."""
        d, h, dh, HP = self.D, self.H, self.D // self.H, self.HP
        DP, DHP, FHP, HC, NCH, HIDP = self.DP, self.DHP, self.FHP, self.HC, self.NCH, self.HIDP
        fh = self.config.rff_dim // 2
        f32 = dict(dtype=torch.float32)
        mats: list[torch.Tensor] = []
        vecs: list[torch.Tensor] = []
        off: dict[str, int] = {}

        def put(store, key, t):
            if key is not None:
                off[key] = sum(x.numel() for x in store)
            store.append(t.detach().to("cpu", torch.float32).reshape(-1))

        def pad(t, *shape):  # zero-pad a tensor to `shape` (top-left corner aligned)
            out = torch.zeros(*shape, **f32)
            out[tuple(slice(0, s) for s in t.shape)] = t.detach().cpu().float()
            return out

        enc = model.encoder
        wt = enc.proj.weight.T  # (F [+ side] [+ front], D)
        put(mats, "M_ENC_S", pad(wt[:fh], FHP, DP))
        put(mats, "M_ENC_C", pad(wt[fh:2 * fh], FHP, DP))
        put(vecs, "V_OMEGA", pad(enc.rff.omega, 2, FHP))
        put(vecs, "V_RFFB", pad(enc.rff.bias, FHP))
        side = wt[2 * fh] if self.config.use_sides else torch.zeros(d)
        put(vecs, "V_SIDE", pad(side, DP))
        front = wt[-1] if self.config.use_fronts else torch.zeros(d)  # last column (TokenEncoder)
        put(vecs, "V_FRONT", pad(front, DP))
        put(vecs, "V_ENCB", pad(enc.proj.bias, DP))

        off["M_L0"] = sum(x.numel() for x in mats)
        off["V_L0"] = sum(x.numel() for x in vecs)
        for li, layer in enumerate(model.layers):
            lm, lv = [], []
            # qkv.weight (6D, D); output column index = ((br * 3 + j) * H + head) * Dh + e;
            # packed as [q/k/v][input row][branch, head, e]
            qkv_w = layer.qkv.weight.T.reshape(d, 2, 3, h, dh).permute(2, 0, 1, 3, 4)
            qkv_b = layer.qkv.bias.reshape(2, 3, h, dh).permute(1, 0, 2, 3)
            # proj.weight (D, 2D); input index = (br * H + head) * Dh + e
            proj_w = layer.proj.weight.T.reshape(2, h, dh, d)
            w1 = layer.mlp[0].weight.T  # (D, hid)
            w1 = pad(w1, DP, HIDP).reshape(DP, NCH, HC).permute(1, 0, 2)
            named_m = [("M_QKV", pad(qkv_w, 3, DP, 2, HP, DHP)),
                       ("M_PROJ", pad(proj_w, 2, HP, DHP, DP)),
                       ("M_W1", w1),
                       ("M_W2", pad(layer.mlp[2].weight.T, HIDP, DP))]
            named_v = [("V_LN1W", pad(layer.norm_attn.weight, DP)),
                       ("V_LN1B", pad(layer.norm_attn.bias, DP)),
                       ("V_QKVB", pad(qkv_b, 3, 2, HP, DHP)),
                       ("V_PROJB", pad(layer.proj.bias, DP)),
                       ("V_LN2W", pad(layer.norm_mlp.weight, DP)),
                       ("V_LN2B", pad(layer.norm_mlp.bias, DP)),
                       ("V_B1", pad(layer.mlp[0].bias, HIDP)),
                       ("V_B2", pad(layer.mlp[2].bias, DP))]
            for key, t in named_m:
                put(lm, key if li == 0 else None, t)
            for key, t in named_v:
                put(lv, key if li == 0 else None, t)
            off["LM"] = sum(x.numel() for x in lm)
            off["LV"] = sum(x.numel() for x in lv)
            mats += lm
            vecs += lv
        dec1 = pad(model.decoder[0].weight.T, DP, DP).reshape(DP, DP // self.DC, self.DC)
        put(mats, "M_DEC1", dec1.permute(1, 0, 2))
        put(mats, "M_DEC2", pad(model.decoder[2].weight.T, DP, OUT_PAD))
        put(vecs, "V_LNFW", pad(model.norm_out.weight, DP))
        put(vecs, "V_LNFB", pad(model.norm_out.bias, DP))
        put(vecs, "V_DEC1B", pad(model.decoder[0].bias, DP))
        put(vecs, "V_DEC2B", pad(model.decoder[2].bias, OUT_PAD))
        # per-layer offsets were recorded relative to the layer's own list
        return torch.cat(mats), torch.cat(vecs), off

    # -- call -------------------------------------------------------------------------
    def __call__(self, keypoints: torch.Tensor, mask: torch.Tensor, adjacency: torch.Tensor,
                 sides: torch.Tensor, fronts: torch.Tensor | None = None,
                 out: torch.Tensor | None = None) -> torch.Tensor:
        """keypoints (B, N, 2) float, mask (B, N) bool, adjacency (B, N, N) bool, sides (B, N)
        float, fronts (B, N) float or None (all 0) -> (B, N, 3) float32 (normalised units,
        zeros at masked points), as `LFM3D.forward`. `out` (B, N, 3) float32 may be given to
        skip the allocation."""
        if keypoints.ndim == 3 and keypoints.shape[1] > MAX_KEYPOINTS:
            raise ValueError(f"FusedLFM3D: N={keypoints.shape[1]} exceeds the fused kernel's limit of "
                             f"{MAX_KEYPOINTS} keypoints; use LFM3D for larger skeletons")
        check_inputs(keypoints, mask, adjacency, sides, self.config.max_keypoints, who="FusedLFM3D",
                     fronts=fronts)
        b, n, _ = keypoints.shape
        # no-ops (no extra kernels) when the inputs already have these dtypes / layouts
        kp = keypoints.to(torch.float32).contiguous()
        sd = sides.to(torch.float32).contiguous()
        if self.config.use_fronts:
            fr = torch.zeros_like(sd) if fronts is None else fronts.to(torch.float32).contiguous()
        else:
            fr = sd  # never read (USE_FRONTS False); any valid pointer will do
        mk = mask.contiguous().view(torch.uint8)
        adj = adjacency.contiguous().view(torch.uint8)
        if out is None:
            out = torch.empty((b, n, 3), dtype=torch.float32, device=kp.device)
        if b == 0 or n == 0:
            return out
        np_ = _pow2(n)
        # Measured on the H100 (bench/results/speed_h100_fused_v4.md): all 2 HP heads of both
        # branches in one batched dot (6 dots per layer's attention instead of 5 per head and
        # branch); 8 warps, and with 32-row tiles 3 pipeline stages, for latency (batch 1
        # 0.096 ms); from batch 1024 on, when many programs share each SM and L2's bandwidth,
        # 4 warps and weight loads that skip the zero padding (1.1 -> 1.9 M skeletons/s).
        full_gpu = b >= 1024
        if np_ > 32:
            warps, stages = 8, 1
        elif full_gpu:
            warps, stages = 4, 3
        else:
            warps, stages = 8, 3
        warps, stages = self.num_warps or warps, self.num_stages or stages
        heads = self.heads_per_step or 2 * self.HP
        skip = full_gpu if self.skip_padding is None else self.skip_padding
        if np_ < 64 or self.dtype == torch.float32:
            self._launch(b, kp, mk, adj, sd, fr, out, n, np_, warps, stages, heads, skip)
            return out
        # Workaround: with 64-row fp16/bf16 tiles Triton (seen with 3.6 on an H100) picks
        # Hopper wgmma for the dots and this kernel then computes garbage or faults; the
        # mma.sync path (what NP = 16 / 32 get anyway) is right. DISABLE_MMA_V3 is read by
        # the compiler and is part of Triton's cache key, so it is set around every launch
        # of these variants (a few microseconds of host time; nothing on the GPU).
        # Verified on the H100 in this per-launch form (tests/test_fused_triton.py, N = 40).
        old = os.environ.get("DISABLE_MMA_V3")
        os.environ["DISABLE_MMA_V3"] = "1"
        try:
            self._launch(b, kp, mk, adj, sd, fr, out, n, np_, warps, stages, heads, skip)
        finally:
            if old is None:
                del os.environ["DISABLE_MMA_V3"]
            else:
                os.environ["DISABLE_MMA_V3"] = old
        return out

    def _launch(self, b, kp, mk, adj, sd, fr, out, n, np_, warps, stages, heads, skip) -> None:
        """Launch the chosen variant. Where it needs more shared memory than the GPU has
        (fp32 weights, wider models: the tiles grow with D and heads per step), fall back to
        1 pipeline stage, then to fewer heads per step, but only where the caller left that
        choice to the kernel (an explicit num_stages / heads_per_step raises, so a benchmark
        row never runs another variant than it names); the variant that fits is remembered."""
        key = (np_, warps, stages, heads, skip)
        fewer_stages = stages if self.num_stages else 1
        fewer_heads = (heads,) if self.heads_per_step else dict.fromkeys((heads, self.HP, 1))
        options = self._fits.get(key) or list(dict.fromkeys(
            [(stages, heads)] + [(fewer_stages, g) for g in fewer_heads if g <= heads]))
        for i, (st, g) in enumerate(options):
            try:
                _lfm3d_kernel[(b,)](kp, mk, adj, sd, fr, out, self.wmat, self.wvec, n, NP=np_,
                                    G=g, SKIP_PAD=skip, num_warps=warps, num_stages=st,
                                    **self._consts)
            except triton.runtime.errors.OutOfResources:
                if i == len(options) - 1:
                    raise
                continue
            self._fits[key] = [(st, g)]
            return
