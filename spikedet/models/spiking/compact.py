"""Keep spikes compactly in the autograd graph.

A conv (or matmul) that reads a spike map saves its float input for the
weight gradient: 4 bytes per binary value. Inside :func:`compact_spikes`,
every tensor that autograd saves and that is a spike map of the fused
neurons (or a view of one) is stored as ``torch.bool`` instead and expanded
back to its float dtype when backward needs it. The values are exactly the
same (spikes are 0 or 1), so gradients are unchanged; the float spike map
itself is freed as soon as the forward no longer uses it. Several ops saving
the same view share one compact copy.

The mechanism is :class:`torch.autograd.graph.saved_tensors_hooks`, so the
layers keep their modules (``nn.Conv2d``...) and state-dict keys. Under
``torch.compile`` it steps aside (the compiler plans its own memory).
"""
import contextlib
import weakref
from typing import Iterator, Optional

import torch

_MARK = '_spikedet_spikes'
_enabled = True


def mark_spikes(spikes: torch.Tensor) -> torch.Tensor:
    """Tag a binary spike tensor so :func:`compact_spikes` may compress it.

    Args:
        spikes (Tensor): Spikes (every value 0 or 1).

    Returns:
        Tensor: The same tensor.
    """
    if not torch.compiler.is_compiling():
        setattr(spikes, _MARK, True)
    return spikes


def is_marked(t: torch.Tensor) -> bool:
    """Whether ``t`` is a tagged spike tensor or a view of one."""
    if getattr(t, _MARK, False):
        return True
    base = t._base
    return base is not None and getattr(base, _MARK, False)


class _Compact:
    """A spike tensor saved as bool, with the dtype to restore."""
    __slots__ = ('data', 'dtype')

    def __init__(self, t: torch.Tensor) -> None:
        self.data = t.to(torch.bool)
        self.dtype = t.dtype

    def expand(self) -> torch.Tensor:
        return self.data.to(self.dtype)


class _Packer:
    """The pack / unpack pair of one :func:`compact_spikes` region."""

    def __init__(self) -> None:
        # (id, shape, stride, offset) of a view -> (weakref, _Compact).
        self._cache = {}
        #: How many spike tensors were saved compactly, and their elements.
        self.num_packed = 0
        self.numel_packed = 0

    def pack(self, t: torch.Tensor):
        if not (t.is_floating_point() and is_marked(t)):
            return t
        base = t if t._base is None else t._base
        key = (id(base), tuple(t.shape), t.stride(), t.storage_offset())
        hit = self._cache.get(key)
        if hit is not None and hit[0]() is base:
            return hit[1]
        packed = _Compact(t)
        self._cache[key] = (weakref.ref(base), packed)
        self.num_packed += 1
        self.numel_packed += t.numel()
        return packed

    @staticmethod
    def unpack(p):
        return p.expand() if isinstance(p, _Compact) else p


@contextlib.contextmanager
def compact_spikes_enabled(enabled: bool) -> Iterator[None]:
    """Switch :func:`compact_spikes` regions on or off inside a ``with``
    block (e.g. to measure what they save).

    Args:
        enabled (bool): Whether regions compress.
    """
    global _enabled
    old, _enabled = _enabled, bool(enabled)
    try:
        yield
    finally:
        _enabled = old


@contextlib.contextmanager
def compact_spikes(enabled: bool = True) -> Iterator[Optional[_Packer]]:
    """Save tagged spike tensors as bool in the autograd graph (see module
    doc). Nested regions are fine.

    Args:
        enabled (bool): Whether to compress (and only if
            :func:`compact_spikes_enabled` did not switch it off).
            Defaults to True.

    Yields:
        The region's packer (``num_packed`` / ``numel_packed`` count what it
        compressed), None where it stepped aside.
    """
    if (not (enabled and _enabled) or not torch.is_grad_enabled()
            or torch.compiler.is_compiling()):
        yield None
        return
    packer = _Packer()
    with torch.autograd.graph.saved_tensors_hooks(packer.pack, packer.unpack):
        yield packer
