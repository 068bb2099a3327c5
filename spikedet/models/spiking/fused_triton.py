"""Triton kernels of the fused neuron backend (CUDA tensors).

One program handles ``BLOCK`` neurons for all ``T`` steps: the forward keeps
the membrane in registers (float32, whatever the input dtype) and writes the
spikes and the pre-spike membrane ``H``; the backward walks the steps in
reverse with the surrogate gradient and, for PLIF, writes each neuron's
share of the ``k = 1 / tau`` gradient (summed by torch). Only Triton
builtins are used in the kernels (no ``tl.zeros`` / ``tl.sum``, which
are themselves jitted), so they also run interpreted when
``TRITON_INTERPRET`` was not set before Triton was imported. The
arithmetic follows :mod:`spikedet.models.spiking.fused` step by step
(IEEE division, no fused multiply-add), so spikes match the torch
implementation bit for bit (spikingjelly's torch backend on CUDA divides
by ``tau`` as a multiplication by ``1 / tau``: the same for the default
``tau=2``, possibly one rounding apart for other ``tau``).

On CPU tensors the kernels run in Triton's interpreter (used by the tests,
see :func:`spikedet.models.spiking.fused.fused_impl`); setting
``TRITON_INTERPRET=1`` interprets them for CUDA tensors too.
"""
import os
from typing import Optional, Tuple

import torch
import triton
import triton.language as tl

from .fused import NeuronSpec

_KINDS = {'LIF': 0, 'PLIF': 1, 'IF': 2}
_SURROGATES = {'Sigmoid': 0, 'ATan': 1, 'PiecewiseQuadratic': 2}
_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
BLOCK = 1024


def _neuron_fwd(x_ptr, k_ptr, s_ptr, h_ptr, N, T, tau, vth, vr, v0,
                KIND: tl.constexpr, HARD: tl.constexpr, VR0: tl.constexpr,
                KEEP_H: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < N
    if KIND == 1:
        k = tl.load(k_ptr).to(tl.float32)
    x_ptrs = x_ptr + offs
    s_ptrs = s_ptr + offs
    h_ptrs = h_ptr + offs
    zero = tl.full([BLOCK], 0., tl.float32)
    v = zero + v0
    for _ in range(T):
        x = tl.load(x_ptrs, mask=mask, other=0.).to(tl.float32)
        if KIND == 2:
            h = v + x
        else:
            if VR0:
                d = x - v
            else:
                d = x - (v - vr)
            if KIND == 0:
                h = v + tl.math.div_rn(d, zero + tau)
            else:
                h = v + d * k
        spike = h >= vth
        tl.store(
            s_ptrs, spike.to(tl.float32).to(s_ptr.dtype.element_ty), mask=mask)
        if KEEP_H:
            tl.store(h_ptrs, h, mask=mask)
        if HARD:
            v = tl.where(spike, zero + vr, h)
        else:
            v = tl.where(spike, h - vth, h)
        x_ptrs += N
        s_ptrs += N
        h_ptrs += N


def _neuron_bwd(gs_ptr, h_ptr, x_ptr, k_ptr, gx_ptr, gk_ptr, N, T, last, tau,
                dh_dv, vth, vr, v0, alpha, KIND: tl.constexpr,
                HARD: tl.constexpr, VR0: tl.constexpr, DETACH: tl.constexpr,
                SUR: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < N
    if KIND == 1:
        k = tl.load(k_ptr).to(tl.float32)
        dh_dv = 1. - k
    zero = tl.full([BLOCK], 0., tl.float32)
    grad_next = zero
    acc = zero
    t_off = last
    for _ in range(T):
        h = tl.load(h_ptr + t_off + offs, mask=mask, other=0.)
        g = tl.load(gs_ptr + t_off + offs, mask=mask, other=0.).to(tl.float32)
        hm = h - vth
        if SUR == 0:
            sgax = 1. / (1. + tl.exp(-(hm * alpha)))
            sg = (1. - sgax) * sgax * alpha
        elif SUR == 1:
            u = 1.5707963267948966 * alpha * hm
            sg = alpha / 2. / (1. + u * u)
        else:
            a = tl.abs(hm)
            sg = tl.where(a > 1. / alpha, 0., -(alpha * alpha) * a + alpha)
        if HARD:
            coef = tl.where(hm < 0., 1., 0.)
            if not DETACH:
                coef = coef + sg * (vr - h)
        else:
            coef = zero + 1.
            if not DETACH:
                coef = coef - sg * vth
        grad_h = g * sg + coef * dh_dv * grad_next
        if KIND == 0:
            grad_x = grad_h / tau
        elif KIND == 1:
            grad_x = grad_h * k
        else:
            grad_x = grad_h
        tl.store(gx_ptr + t_off + offs, grad_x, mask=mask)
        if KIND == 1:
            x = tl.load(x_ptr + t_off + offs, mask=mask, other=0.)
            has_prev = t_off > 0
            hp = tl.load(
                h_ptr + t_off - N + offs, mask=mask & has_prev, other=0.)
            if HARD:
                vp = tl.where(hp >= vth, zero + vr, hp)
            else:
                vp = tl.where(hp >= vth, hp - vth, hp)
            vp = tl.where(has_prev, vp, zero + v0)
            d = x.to(tl.float32) - vp
            if not VR0:
                d = d + vr
            acc += grad_h * d
        grad_next = grad_h
        t_off -= N
    if KIND == 1:
        tl.store(gk_ptr + offs, acc, mask=mask)


_kernels = {}


def _interpreting(x: torch.Tensor) -> bool:
    return not x.is_cuda or os.environ.get('TRITON_INTERPRET', '0') == '1'


def _kernel(fn, interpret: bool):
    """The kernel compiled for the GPU, or interpreted (CPU tensors)."""
    key = (fn.__name__, interpret)
    if key not in _kernels:
        if interpret:
            from triton.runtime.interpreter import InterpretedFunction
            _kernels[key] = InterpretedFunction(fn)
        else:
            _kernels[key] = triton.jit(fn)
    return _kernels[key]


def _launch(fn, x: torch.Tensor, grid: Tuple[int], *args, **meta) -> None:
    interpret = _interpreting(x)
    if not interpret:
        # Separate multiply and add, as the torch implementation rounds.
        meta['enable_fp_fusion'] = False
    _kernel(fn, interpret)[grid](*args, **meta)


def _check(x: torch.Tensor) -> None:
    if x.dtype not in _DTYPES:
        raise TypeError(f'The Triton neuron kernels take {_DTYPES}, got '
                        f"{x.dtype}; use fused_impl('torch') for it.")


def _common(spec: NeuronSpec) -> dict:
    return dict(
        KIND=_KINDS[spec.kind],
        HARD=spec.v_reset is not None,
        VR0=spec.v_reset is None or spec.v_reset == 0.)


def triton_forward(
        spec: NeuronSpec, x: torch.Tensor, k: Optional[torch.Tensor],
        keep_h: bool) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Forward kernel; same contract as ``fused.torch_forward``."""
    _check(x)
    x = x.contiguous()
    T = x.shape[0]
    N = x[0].numel()
    spikes = torch.empty_like(x)
    h = torch.empty(
        x.shape, dtype=torch.float32, device=x.device) if keep_h else spikes
    kk = k if k is not None else x
    grid = (triton.cdiv(N, BLOCK), )
    vr = 0. if spec.v_reset is None else spec.v_reset
    _launch(
        _neuron_fwd,
        x,
        grid,
        x,
        kk,
        spikes,
        h,
        N,
        T,
        spec.tau,
        spec.v_threshold,
        vr,
        spec.v_init,
        KEEP_H=keep_h,
        BLOCK=BLOCK,
        **_common(spec))
    return spikes, h if keep_h else None


def triton_backward(
        spec: NeuronSpec, grad_s: torch.Tensor, h: torch.Tensor,
        x: Optional[torch.Tensor], k: Optional[torch.Tensor]
) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Backward kernel; same contract as ``fused.torch_backward``."""
    _check(grad_s)
    grad_s = grad_s.contiguous()
    T = h.shape[0]
    N = h[0].numel()
    grad_x = torch.empty_like(h)
    grid = (triton.cdiv(N, BLOCK), )
    grad_k = torch.zeros(
        N if spec.kind == 'PLIF' else 1, dtype=torch.float32, device=h.device)
    xx = x.contiguous() if x is not None else h
    kk = k if k is not None else h
    vr = 0. if spec.v_reset is None else spec.v_reset
    dh_dv = 1. - 1. / spec.tau if spec.kind == 'LIF' else 1.
    _launch(
        _neuron_bwd,
        h,
        grid,
        grad_s,
        h,
        xx,
        kk,
        grad_x,
        grad_k,
        N,
        T, (T - 1) * N,
        spec.tau,
        dh_dv,
        spec.v_threshold,
        vr,
        spec.v_init,
        spec.alpha,
        DETACH=spec.detach_reset,
        SUR=_SURROGATES[spec.surrogate],
        BLOCK=BLOCK,
        **_common(spec))
    return grad_x, grad_k.sum() if spec.kind == 'PLIF' else None
