"""Firing-rate recording: forward hooks on every spiking neuron.

Every neuron in spikedet is a :class:`~spikedet.models.spiking.SpikingNeuron`
whose output is time-major, ``[T, ...]``. The recorder hooks each of them and
accumulates, per time step ``t``, the number of spikes (the sum of the
output) and the number of output elements, so the firing rate of a layer at
step ``t`` is ``spikes[t] / elements[t]`` over all recorded images.
"""
import fnmatch
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn

from spikedet.models.spiking import SpikingNeuron

#: How a layer name is mapped to its stage, see :func:`stage_name`.
StageSpec = Optional[Union[int, Sequence[str]]]

#: Top-level submodules of OpenMMLab models summarised as one stage each.
TOP_LEVEL_STAGES = ('neck', 'head', 'decode_head', 'auxiliary_head',
                    'rpn_head', 'roi_head', 'bbox_head', 'mask_head',
                    'query_head', 'panoptic_head', 'data_preprocessor')


def stage_name(name: str, stages: StageSpec = None) -> str:
    """The stage a module belongs to, for per-stage summaries.

    Args:
        name (str): Dotted module name, e.g.
            ``'backbone.stages.2.0.mlp.lif1'``.
        stages (int | Sequence[str], optional): How to group.

            * ``None`` (default): inside ``backbone`` (or a bare backbone),
              the first component plus the index that follows it, if any
              (``'backbone.stages.2'``, ``'backbone.downsample_layers.2'``,
              ``'backbone.blocks.5'``, ``'backbone.stem.0'``,
              ``'backbone.patch_embed'``); other top-level parts of a model
              (:data:`TOP_LEVEL_STAGES`: ``neck``, ``head``,
              ``decode_head``, ``rpn_head``, ...) are one stage each.
            * an int ``d``: the first ``d`` name components.
            * a sequence of prefixes: the longest prefix that ``name`` starts
              with (at a component boundary), or ``'other'``.

    Returns:
        str: The stage name.
    """
    parts = name.split('.') if name else ['(model)']
    if stages is None:
        if parts[0] in TOP_LEVEL_STAGES:
            return parts[0]
        head = []
        if parts[0] == 'backbone' and len(parts) > 1:
            head, parts = ['backbone'], parts[1:]
        keep = 2 if len(parts) > 1 and parts[1].isdigit() else 1
        return '.'.join(head + parts[:keep])
    if isinstance(stages, int):
        if stages < 1:
            raise ValueError(f'stage depth must be >= 1, got {stages}.')
        return '.'.join(parts[:stages])
    best = None
    for prefix in stages:
        if name == prefix or name.startswith(prefix + '.') or prefix == '':
            if best is None or len(prefix) > len(best):
                best = prefix
    return best if best is not None else 'other'


def in_scope(name: str, scope: Optional[str]) -> bool:
    """Whether module ``name`` lies inside the module named ``scope``."""
    return (not scope or name == scope or name.startswith(scope + '.'))


def find_time_steps(model: nn.Module) -> Optional[int]:
    """The number of time steps ``T`` of a model: the ``T`` of its spiking
    backbone(s), else an int attribute ``T`` of the model or of one of its
    modules. Returns None if nothing declares one.

    Raises:
        ValueError: If modules declare different ``T``.
    """
    # Imported here: the backbones import the spiking package, not us.
    from spikedet.models.backbones.base import BaseSpikingBackbone
    found = {
        m.T
        for m in model.modules() if isinstance(m, BaseSpikingBackbone)
    }
    if not found:
        found = {
            m.T
            for m in model.modules() if isinstance(getattr(m, 'T', None), int)
        }
    if len(found) > 1:
        raise ValueError(f'The model has modules with different T '
                         f'{sorted(found)}; analyse them separately or pass '
                         'num_steps.')
    return found.pop() if found else None


class FiringRateRecorder:
    """Record the firing rate of every :class:`SpikingNeuron` per time step.

    Use as a context manager (hooks are removed on exit) or call
    :meth:`attach` / :meth:`detach`. Recording sums on the device and only
    converts to Python numbers when results are asked for, so it is cheap
    enough to run during training.

    Args:
        model (nn.Module): The model.
        scope (str, optional): Only record neurons inside this submodule
            (e.g. ``'backbone'``). Defaults to None (all).
        keep_maps (Sequence[str], optional): Glob patterns of neuron names
            whose spikes of the first image are kept (first forward only),
            for spike-map plots. Defaults to None.

    Example:
        >>> with FiringRateRecorder(model) as rec:
        ...     model(x)
        >>> rec.rates()['backbone.stages.0.0.mlp.lif1']  # [rate_t0, ...]
    """

    def __init__(self,
                 model: nn.Module,
                 scope: Optional[str] = None,
                 keep_maps: Optional[Sequence[str]] = None) -> None:
        self.model = model
        self.scope = scope
        self.keep_maps = list(keep_maps or [])
        self.neurons: Dict[str, SpikingNeuron] = OrderedDict(
            (n, m) for n, m in model.named_modules()
            if isinstance(m, SpikingNeuron) and in_scope(n, scope))
        if not self.neurons:
            where = f" inside '{scope}'" if scope else ''
            raise ValueError(
                f'The model has no SpikingNeuron{where}: nothing to record. '
                'Is it a spikedet spiking model?')
        self._handles: List = []
        self.reset()

    # -- hooks ----------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything recorded so far."""
        self._spikes: Dict[str, torch.Tensor] = OrderedDict()
        self._counts: Dict[str, int] = OrderedDict()
        self._shapes: Dict[str, tuple] = OrderedDict()
        self._non_binary: Dict[str, bool] = OrderedDict()
        self.maps: Dict[str, torch.Tensor] = OrderedDict()

    @property
    def attached(self) -> bool:
        """Whether the hooks are registered."""
        return bool(self._handles)

    def attach(self) -> 'FiringRateRecorder':
        if not self._handles:
            for name, m in self.neurons.items():
                self._handles.append(
                    m.register_forward_hook(self._make_hook(name)))
        return self

    def detach(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> 'FiringRateRecorder':
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.detach()

    def _make_hook(self, name: str):
        keep = any(fnmatch.fnmatchcase(name, p) for p in self.keep_maps)

        def hook(module, inputs, out):
            if not isinstance(out, torch.Tensor) or out.dim() < 2:
                return
            out = out.detach()
            T = out.shape[0]
            per_step = out.reshape(T, -1)
            spikes = per_step.sum(1, dtype=torch.float64)
            if name in self._spikes and self._spikes[name].numel() == T:
                self._spikes[name] += spikes
                self._counts[name] += per_step.shape[1]
            else:
                if name in self._spikes:
                    raise ValueError(
                        f"Neuron '{name}' saw T={T} after T="
                        f'{self._spikes[name].numel()}: record models with '
                        'one T at a time.')
                self._spikes[name] = spikes
                self._counts[name] = per_step.shape[1]
                self._shapes[name] = tuple(out.shape)
                # Binary spikes are what the SOP formula assumes; note others.
                self._non_binary[name] = bool(((out != 0) & (out != 1)).any())
                if keep and out.dim() >= 3:
                    self.maps[name] = out[:, 0].float().cpu()

        return hook

    # -- results --------------------------------------------------------------
    @property
    def names(self) -> List[str]:
        """Names of the neurons that fired (were called) at least once."""
        return list(self._spikes)

    @property
    def silent_neurons(self) -> List[str]:
        """Neurons of the model that were never called (not in the path)."""
        return [n for n in self.neurons if n not in self._spikes]

    def rates(self) -> Dict[str, List[float]]:
        """Firing rate of each recorded neuron per time step."""
        return OrderedDict((n, (s / self._counts[n]).tolist())
                           for n, s in self._spikes.items())

    def layer_stats(self) -> List[dict]:
        """One dict per neuron: name, stage, output shape (first call),
        per-step and mean firing rate, spikes and elements per step, and
        whether any output was not in {0, 1}."""
        out = []
        for n, s in self._spikes.items():
            per_step = (s / self._counts[n]).tolist()
            out.append(
                dict(
                    name=n,
                    shape=list(self._shapes[n]),
                    rate_per_step=per_step,
                    rate=float(s.sum() / (self._counts[n] * s.numel())),
                    spikes=float(s.sum()),
                    elements=int(self._counts[n] * s.numel()),
                    non_binary=self._non_binary[n]))
        return out

    def stage_rates(self, stages: StageSpec = None) -> Dict[str, float]:
        """Element-weighted mean firing rate per stage (over all steps)."""
        sums: Dict[str, torch.Tensor] = OrderedDict()
        counts: Dict[str, int] = OrderedDict()
        for n, s in self._spikes.items():
            st = stage_name(n, stages)
            sums[st] = sums.get(st, 0.) + s.sum()
            counts[st] = counts.get(st, 0) + self._counts[n] * s.numel()
        return OrderedDict((k, float(sums[k] / counts[k])) for k in sums)

    def mean_rate(self) -> float:
        """Element-weighted mean firing rate over all recorded neurons."""
        if not self._spikes:
            return float('nan')
        total = sum(float(s.sum()) for s in self._spikes.values())
        elems = sum(self._counts[n] * s.numel()
                    for n, s in self._spikes.items())
        return total / elems

    def mean_rate_per_step(self) -> List[float]:
        """Element-weighted mean firing rate over all neurons, per step
        (neurons with a different T are left out)."""
        Ts = {s.numel() for s in self._spikes.values()}
        T = max(Ts) if Ts else 0
        spikes = torch.zeros(T, dtype=torch.float64)
        elems = 0
        for n, s in self._spikes.items():
            if s.numel() == T:
                spikes += s.cpu()
                elems += self._counts[n]
        return (spikes / max(elems, 1)).tolist()
