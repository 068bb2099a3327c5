"""The ``'fused'`` neuron backend: one autograd node per neuron sequence.

spikingjelly's ``'torch'`` backend records an autograd graph for every
charge / fire / reset operation of every time step and keeps several float
tensors per step for backward. The fused backend runs the ``T`` steps of a
layer without recording a graph and gives the whole sequence one backward:
a single reverse pass with the surrogate gradient. Backward needs only the
pre-spike membrane ``H[t]`` of every step (the spikes are ``H[t] >= V_th``
and are recomputed from it), plus the input for PLIF's ``tau`` gradient.

The forward does each step's arithmetic in spikingjelly's order
(``H = V + (X - V) / tau``; fire on ``H - V_th >= 0``; reset), so the spikes
are bit-identical to the ``'torch'`` backend in float32 and float64, and the
gradients equal it up to rounding. Half / bfloat16 inputs keep a float32
membrane. CUDA tensors run the Triton kernels of
:mod:`spikedet.models.spiking.fused_triton`; other devices run the torch
implementation below.

Notation: ``X`` input, ``H`` membrane after charging, ``S`` spike,
``V`` membrane after reset (the next step's start), ``k = 1 / tau``.
"""
import contextlib
from typing import Iterator, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from spikingjelly.activation_based import neuron as sj_neuron
from spikingjelly.activation_based import surrogate as sj_surrogate

from .compact import mark_spikes

#: Neuron classes the fused backend implements (by factory type name).
FUSED_NEURONS = {
    'LIF': sj_neuron.LIFNode,
    'PLIF': sj_neuron.ParametricLIFNode,
    'IF': sj_neuron.IFNode,
}
#: Surrogates the fused backend implements, with spikingjelly's backward.
FUSED_SURROGATES = {
    'Sigmoid': (sj_surrogate.Sigmoid, sj_surrogate.sigmoid_backward),
    'ATan': (sj_surrogate.ATan, sj_surrogate.atan_backward),
    'PiecewiseQuadratic': (sj_surrogate.PiecewiseQuadratic,
                           sj_surrogate.piecewise_quadratic_backward),
}
IMPLS = ('auto', 'torch', 'triton')
_impl = 'auto'


class NeuronSpec(NamedTuple):
    """The static description of a neuron layer the kernels need.

    Attributes:
        kind (str): ``'LIF'``, ``'PLIF'`` or ``'IF'``.
        tau (float): LIF time constant (unused for PLIF / IF).
        v_threshold (float): Firing threshold.
        v_reset (float, optional): Hard-reset value, None for soft reset.
        detach_reset (bool): Whether the reset is cut from the graph.
        surrogate (str): Surrogate name, a key of :data:`FUSED_SURROGATES`.
        alpha (float): Surrogate sharpness.
    """
    kind: str
    tau: float
    v_threshold: float
    v_reset: Optional[float]
    detach_reset: bool
    surrogate: str
    alpha: float

    @property
    def v_init(self) -> float:
        """The resting membrane every sequence starts from."""
        return 0. if self.v_reset is None else self.v_reset


def _is_number(value) -> bool:
    return isinstance(value, (int, float))


def _supported() -> str:
    return (f'neurons {sorted(FUSED_NEURONS)} (LIF/PLIF with '
            f'decay_input=True), surrogates {sorted(FUSED_SURROGATES)} '
            "(spiking=True), detach_reset True/False, v_reset a float "
            '(hard reset) or None (soft reset), any v_threshold')


def neuron_spec(node: nn.Module) -> NeuronSpec:
    """Describe a spikingjelly node for the fused kernels.

    Args:
        node (nn.Module): A spikingjelly ``LIFNode``, ``ParametricLIFNode``
            or ``IFNode``.

    Returns:
        NeuronSpec: Its static settings.

    Raises:
        ValueError: If the fused backend does not implement the node.
    """
    kind = next((k for k, cls in FUSED_NEURONS.items() if type(node) is cls),
                None)
    sur = getattr(node, 'surrogate_function', None)
    sur_name = next(
        (k for k, (cls, _) in FUSED_SURROGATES.items() if type(sur) is cls),
        None)
    problem = None
    if kind is None:
        problem = f'neuron {type(node).__name__}'
    elif kind != 'IF' and not node.decay_input:
        problem = 'decay_input=False'
    elif sur_name is None:
        problem = f'surrogate {type(sur).__name__}'
    elif not sur.spiking:
        problem = 'a surrogate with spiking=False'
    elif not _is_number(node.v_threshold) or not (node.v_reset is None
                                                  or _is_number(node.v_reset)):
        problem = 'a non-float v_threshold / v_reset'
    if problem is not None:
        raise ValueError(
            f"The 'fused' neuron backend does not support {problem}. It "
            f'supports {_supported()}. Use backend=\'torch\' for anything '
            'else.')
    return NeuronSpec(
        kind=kind,
        tau=float(getattr(node, 'tau', 1.)) if kind == 'LIF' else 1.,
        v_threshold=float(node.v_threshold),
        v_reset=None if node.v_reset is None else float(node.v_reset),
        detach_reset=bool(node.detach_reset),
        surrogate=sur_name,
        alpha=float(sur.alpha))


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The membrane dtype: float32 for half / bfloat16 inputs."""
    if dtype in (torch.float16, torch.bfloat16):
        return torch.float32
    return dtype


# --- the torch implementation ------------------------------------------------
def _charge(spec: NeuronSpec, x: torch.Tensor, v, k):
    """One charge step in spikingjelly's operation order."""
    if spec.kind == 'IF':
        return v + x
    if spec.v_reset is None or spec.v_reset == 0.:
        d = x - v
    else:
        d = x - (v - spec.v_reset)
    if spec.kind == 'LIF':
        return v + d / spec.tau
    return v + d * k


def _charge_from_rest(spec: NeuronSpec, x: torch.Tensor, k):
    """The first charge step. From ``V = 0`` it drops spikingjelly's
    ``+ 0`` / ``- 0``, which changes at most the sign of a zero ``H``
    (never a spike or a gradient)."""
    if spec.v_init != 0.:
        return _charge(spec, x, spec.v_init, k)
    if spec.kind == 'IF':
        return x
    return x / spec.tau if spec.kind == 'LIF' else x * k


def _reset(spec: NeuronSpec, h: torch.Tensor,
           spike: torch.Tensor) -> torch.Tensor:
    """The membrane after the spike (values of spikingjelly's reset)."""
    if spec.v_reset is None:
        return torch.where(spike, h - spec.v_threshold, h)
    return h.masked_fill(spike, spec.v_reset)


def torch_forward(spec: NeuronSpec, x: torch.Tensor, k: Optional[torch.Tensor],
                  keep_h: bool) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Run the sequence; return the spikes and (if asked) ``H`` per step.

    Args:
        spec (NeuronSpec): The neuron.
        x (Tensor): Input ``[T, ...]``.
        k (Tensor, optional): PLIF's ``1 / tau`` (0-dim), else None.
        keep_h (bool): Return the membrane per step for backward.

    Returns:
        tuple[Tensor, Tensor | None]: Spikes in ``x.dtype`` and ``H``.
    """
    cdtype = compute_dtype(x.dtype)
    xc = x.to(cdtype)
    if k is not None:
        k = k.to(cdtype)
    T = x.shape[0]
    if T == 1:
        # Closed form from rest: one charge, one comparison.
        h = _charge_from_rest(spec, xc, k)
        return torch.ge(h, spec.v_threshold).to(x.dtype), (
            h if keep_h else None)
    h_seq = torch.empty_like(xc) if keep_h else None
    spikes = torch.empty(x.shape, dtype=torch.bool, device=x.device)
    v = None
    for t in range(T):
        h = (
            _charge_from_rest(spec, xc[t], k) if t == 0 else _charge(
                spec, xc[t], v, k))
        # ``H - V_th >= 0`` (spikingjelly) is ``H >= V_th`` for floats.
        torch.ge(h, spec.v_threshold, out=spikes[t])
        if h_seq is not None:
            h_seq[t] = h
        if t + 1 < T:
            v = _reset(spec, h, spikes[t])
    return spikes.to(x.dtype), h_seq


def _v_prev(spec: NeuronSpec, h: torch.Tensor) -> torch.Tensor:
    """``V[t-1]`` for every step from the saved ``H`` (``V[-1]`` = rest)."""
    v = torch.empty_like(h)
    v[0] = spec.v_init
    if h.shape[0] > 1:
        v[1:] = _reset(spec, h[:-1], h[:-1] >= spec.v_threshold)
    return v


def torch_backward(
        spec: NeuronSpec, grad_s: torch.Tensor, h: torch.Tensor,
        x: Optional[torch.Tensor], k: Optional[torch.Tensor]
) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """The reverse pass: gradients of the input and of PLIF's ``k``.

    ``dL/dH[t] = g[t] sg[t] + dL/dH[t+1] dH/dV (dV/dH[t] + dV/dS[t] sg[t])``
    with ``sg`` the surrogate derivative at ``H - V_th``.

    Args:
        spec (NeuronSpec): The neuron.
        grad_s (Tensor): Gradient of the spikes ``[T, ...]``.
        h (Tensor): Saved ``H`` ``[T, ...]`` (membrane dtype).
        x (Tensor, optional): The input (PLIF only).
        k (Tensor, optional): PLIF's ``1 / tau``.

    Returns:
        tuple[Tensor, Tensor | None]: ``dL/dX`` (membrane dtype) and
        ``dL/dk`` (0-dim, PLIF only).
    """
    sur_backward = FUSED_SURROGATES[spec.surrogate][1]
    g = grad_s.to(h.dtype)
    hm = h - spec.v_threshold
    grad_h = sur_backward(g, hm, spec.alpha)[0]
    T = h.shape[0]
    if T > 1:
        if spec.kind == 'LIF':
            dh_dv = 1. - 1. / spec.tau
        elif spec.kind == 'PLIF':
            dh_dv = 1. - k.to(h.dtype)
        else:
            dh_dv = 1.
        hp, hmp = h[:-1], hm[:-1]
        if spec.v_reset is None:
            coef = torch.ones_like(hp)
            if not spec.detach_reset:
                sg = sur_backward(torch.ones_like(hp[:1]), hmp, spec.alpha)[0]
                coef = coef.sub_(sg.mul_(spec.v_threshold))
        else:
            coef = (hmp < 0).to(h.dtype)
            if not spec.detach_reset:
                sg = sur_backward(torch.ones_like(hp[:1]), hmp, spec.alpha)[0]
                coef = coef.addcmul_(sg, spec.v_reset - hp)
        coef = coef.mul_(dh_dv)
        for t in range(T - 2, -1, -1):
            grad_h[t].addcmul_(coef[t], grad_h[t + 1])
    grad_k = None
    if spec.kind == 'PLIF':
        d = x.to(h.dtype) - _v_prev(spec, h)
        if spec.v_reset not in (None, 0.):
            d = d + spec.v_reset
        grad_k = (grad_h * d).sum()
        grad_x = grad_h.mul_(k.to(h.dtype))
    elif spec.kind == 'LIF':
        grad_x = grad_h.div_(spec.tau)
    else:
        grad_x = grad_h
    return grad_x, grad_k


# --- dispatch ----------------------------------------------------------------
@contextlib.contextmanager
def fused_impl(impl: str) -> Iterator[None]:
    """Choose the fused implementation inside a ``with`` block.

    ``'auto'`` (the default) runs Triton on CUDA tensors and torch elsewhere;
    ``'torch'`` always runs the torch code; ``'triton'`` always runs the
    Triton kernels, on CPU tensors through Triton's interpreter (for tests).

    Args:
        impl (str): One of :data:`IMPLS`.
    """
    global _impl
    if impl not in IMPLS:
        raise ValueError(f"Unknown fused implementation '{impl}'; choose "
                         f'one of {IMPLS}.')
    old, _impl = _impl, impl
    try:
        yield
    finally:
        _impl = old


def _use_triton(x: torch.Tensor) -> bool:
    if _impl == 'auto':
        # float64 stays on the torch code (the kernels compute in float32).
        return x.is_cuda and x.dtype != torch.float64
    return _impl == 'triton'


def _forward(spec, x, k, keep_h):
    if _use_triton(x):
        from .fused_triton import triton_forward
        return triton_forward(spec, x, k, keep_h)
    return torch_forward(spec, x, k, keep_h)


def _backward(spec, grad_s, h, x, k):
    if _use_triton(h):
        from .fused_triton import triton_backward
        return triton_backward(spec, grad_s, h, x, k)
    return torch_backward(spec, grad_s, h, x, k)


class FusedNeuronFunction(torch.autograd.Function):
    """A whole neuron sequence as one autograd node (see module doc)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, k: Optional[torch.Tensor],
                spec: NeuronSpec) -> torch.Tensor:
        spikes, h = _forward(spec, x, k, keep_h=True)
        ctx.spec = spec
        ctx.x_dtype = x.dtype
        if spec.kind == 'PLIF':
            ctx.save_for_backward(h, x, k)
        else:
            ctx.save_for_backward(h)
        return spikes

    @staticmethod
    def backward(ctx, grad_s: torch.Tensor):
        spec = ctx.spec
        if spec.kind == 'PLIF':
            h, x, k = ctx.saved_tensors
        else:
            (h, ), x, k = ctx.saved_tensors, None, None
        grad_x, grad_k = _backward(spec, grad_s, h, x, k)
        if grad_k is not None:
            grad_k = grad_k.to(k.dtype).reshape(k.shape)
        return grad_x.to(ctx.x_dtype), grad_k, None


def fused_neuron_forward(node: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run a spikingjelly node's multi-step forward with the fused backend.

    The node only supplies settings and parameters (PLIF's ``w``); its
    state is not used: every sequence starts from rest.

    Args:
        node (nn.Module): A node accepted by :func:`neuron_spec`.
        x (Tensor): Input ``[T, ...]``, floating point.

    Returns:
        Tensor: Spikes ``[T, ...]`` in ``x.dtype``.
    """
    spec = neuron_spec(node)
    if not x.is_floating_point():
        raise TypeError('The fused neuron backend needs a floating-point '
                        f'input, got {x.dtype}.')
    k = node.w.sigmoid() if spec.kind == 'PLIF' else None
    needs_grad = torch.is_grad_enabled() and (x.requires_grad or
                                              (k is not None
                                               and k.requires_grad))
    if needs_grad:
        spikes = FusedNeuronFunction.apply(x, k, spec)
    else:
        with torch.no_grad():
            spikes = _forward(spec, x, k, keep_h=False)[0]
    if torch.is_grad_enabled():
        # Tagged: layers reading the spikes may save them compactly.
        mark_spikes(spikes)
    return spikes
