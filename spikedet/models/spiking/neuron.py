"""The neuron factory: every spiking layer in spikedet gets its neurons here.

Neurons are spikingjelly's multi-step nodes wrapped in :class:`SpikingNeuron`,
which takes a whole time sequence ``[T, ...]`` per call and starts it from the
resting state. Models are therefore stateless between forwards: no reset hook
is needed, two forwards of the same input agree, the batch size may change
between calls and activation checkpointing recomputes the same spikes.
"""
import copy
import importlib.util
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from spikingjelly.activation_based import neuron as sj_neuron
from spikingjelly.activation_based import surrogate as sj_surrogate

from .fused import fused_neuron_forward, neuron_spec

#: The paper's neuron: LIF, tau 2, threshold 1, hard reset to 0, detached
#: reset, run by the fused backend (same spikes and gradients as spikingjelly's
#: ``'torch'`` backend, see :mod:`spikedet.models.spiking.fused`).
DEFAULT_NEURON_CFG = dict(
    type='LIF',
    tau=2.0,
    v_threshold=1.0,
    v_reset=0.0,
    detach_reset=True,
    surrogate=dict(type='Sigmoid', alpha=4.0),
    backend='fused',
    fallback_to_torch=False)

_NEURON_TYPES = {
    'LIF': sj_neuron.LIFNode,
    'PLIF': sj_neuron.ParametricLIFNode,
    'IF': sj_neuron.IFNode,
}
_SURROGATES = {
    'Sigmoid': sj_surrogate.Sigmoid,
    'ATan': sj_surrogate.ATan,
    'PiecewiseQuadratic': sj_surrogate.PiecewiseQuadratic,
}
_warned_fallback = False


def cupy_available() -> bool:
    """Whether spikingjelly's ``cupy`` backend can run here (cupy + a GPU)."""
    return (importlib.util.find_spec('cupy') is not None
            and torch.cuda.is_available())


def _resolve_backend(backend: str, fallback_to_torch: bool) -> str:
    global _warned_fallback
    if backend in ('fused', 'torch'):
        return backend
    if backend != 'cupy':
        raise ValueError(
            f"Unknown neuron backend '{backend}': use 'fused' (any device; "
            "Triton kernels on CUDA), 'torch' (spikingjelly's reference) or "
            "'cupy' (spikingjelly's, CUDA GPU with cupy).")
    if cupy_available():
        return backend
    why = ('the cupy package is not installed'
           if importlib.util.find_spec('cupy') is None else
           'no CUDA GPU is available')
    if not fallback_to_torch:
        raise RuntimeError(
            f"Neuron backend 'cupy' was asked for, but {why}. Install cupy "
            "for your CUDA version (e.g. 'pip install cupy-cuda12x') on a GPU "
            "machine, or set neuron_cfg=dict(backend='torch'), or "
            'neuron_cfg=dict(fallback_to_torch=True) to fall back '
            'automatically.')
    if not _warned_fallback:
        print_log(
            f"Neuron backend 'cupy' is unavailable ({why}); falling back to "
            "backend='torch' (same results, slower on GPU).",
            logger='current',
            level=30)
        _warned_fallback = True
    return 'torch'


class SpikingNeuron(nn.Module):
    """A multi-step spiking neuron layer that is stateless between calls.

    Args:
        node (nn.Module): A spikingjelly multi-step node (``step_mode='m'``).
        cfg (dict): The resolved config it was built from (kept for
            inspection, e.g. by the energy analysis).

    Input and output are time-major, ``[T, ...]``: membrane input in, binary
    spikes out. The neuron state is reset before and after every call.
    With ``cfg['backend'] == 'fused'`` the node only holds the settings and
    parameters, and :func:`~spikedet.models.spiking.fused.
    fused_neuron_forward` runs the sequence.
    """

    def __init__(self, node: nn.Module, cfg: dict) -> None:
        super().__init__()
        self.node = node
        self.cfg = cfg

    @property
    def v_threshold(self) -> float:
        return self.node.v_threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2:
            raise ValueError('SpikingNeuron expects a time-major tensor '
                             f'[T, ...], got shape {tuple(x.shape)}.')
        if self.cfg.get('backend') == 'fused':
            return fused_neuron_forward(self.node, x)
        self.node.reset()
        try:
            return self.node(x)
        finally:
            # Drop the last membrane state (and its graph) right away.
            self.node.reset()

    def extra_repr(self) -> str:
        c = self.cfg
        return (f"type={c['type']}, tau={c.get('tau')}, "
                f"v_threshold={c['v_threshold']}, backend={c['backend']}")


def merge_neuron_cfg(*cfgs: Optional[dict]) -> dict:
    """Merge neuron configs left to right on top of the paper's defaults."""
    merged = copy.deepcopy(DEFAULT_NEURON_CFG)
    for cfg in cfgs:
        if cfg:
            unknown = set(cfg) - set(DEFAULT_NEURON_CFG)
            if unknown:
                raise KeyError(
                    f'Unknown neuron_cfg keys {sorted(unknown)}; valid keys '
                    f'are {sorted(DEFAULT_NEURON_CFG)}.')
            merged.update(copy.deepcopy(dict(cfg)))
    return merged


def build_neuron(cfg: Optional[dict] = None, **overrides) -> SpikingNeuron:
    """Build a multi-step spiking neuron layer.

    Args:
        cfg (dict, optional): Neuron config; missing keys take the paper's
            values in :data:`DEFAULT_NEURON_CFG` (``type`` one of ``'LIF'``,
            ``'PLIF'``, ``'IF'``; ``surrogate`` a dict with ``type`` one of
            ``'Sigmoid'``, ``'ATan'``, ``'PiecewiseQuadratic'``; ``backend``
            ``'fused'``, ``'torch'`` or ``'cupy'``). Defaults to None.
        **overrides: Per-layer settings that win over ``cfg``, e.g.
            ``v_threshold=0.5`` for the attention neuron.

    Returns:
        SpikingNeuron: The neuron layer.
    """
    cfg = merge_neuron_cfg(cfg, overrides)
    ntype = cfg['type']
    if ntype not in _NEURON_TYPES:
        raise KeyError(f"Unknown neuron type '{ntype}'; choose one of "
                       f'{sorted(_NEURON_TYPES)}.')
    sur = dict(cfg['surrogate'])
    sur_type = sur.pop('type')
    if sur_type not in _SURROGATES:
        raise KeyError(f"Unknown surrogate '{sur_type}'; choose one of "
                       f'{sorted(_SURROGATES)}.')
    backend = _resolve_backend(cfg['backend'], cfg['fallback_to_torch'])
    cfg['backend'] = backend
    kwargs = dict(
        v_threshold=cfg['v_threshold'],
        v_reset=cfg['v_reset'],
        surrogate_function=_SURROGATES[sur_type](**sur),
        detach_reset=cfg['detach_reset'],
        step_mode='m',
        # The fused backend keeps a torch node for settings and parameters
        # (same state-dict keys) and runs its own kernels.
        backend='torch' if backend == 'fused' else backend)
    if ntype == 'LIF':
        kwargs.update(tau=cfg['tau'], decay_input=True)
    elif ntype == 'PLIF':
        kwargs.update(init_tau=cfg['tau'], decay_input=True)
    node = _NEURON_TYPES[ntype](**kwargs)
    if backend == 'fused':
        neuron_spec(node)  # unsupported settings fail here, at build time
    return SpikingNeuron(node, cfg)
