"""Time-step handling shared by every spiking module.

Spiking tensors in spikedet are time-major: ``[T, B, C, H, W]``.
"""
from typing import Callable, Optional

import torch
import torch.nn as nn

AGGREGATIONS = ('mean', 'sum', 'last')


def encode_input(x: torch.Tensor,
                 num_steps: int,
                 in_channels: Optional[int] = None) -> torch.Tensor:
    """Turn a backbone input into a time-major sequence ``[T, B, C, H, W]``.

    Two layouts are accepted:

    * a static image batch ``[B, C, H, W]``: direct encoding, the same image
      is fed at each of the ``num_steps`` time steps;
    * an event/frame tensor that already carries time, batch-major
      ``[B, T, C, H, W]`` (e.g. DVS frames with ``C=2``); its ``T`` must equal
      ``num_steps``.

    Args:
        x (Tensor): The input.
        num_steps (int): The model's number of time steps ``T``.
        in_channels (int, optional): Expected channel count, checked when
            given. Defaults to None.

    Returns:
        Tensor: ``[T, B, C, H, W]``.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'Expected a Tensor input, got {type(x).__name__}.')
    if x.dim() == 4:
        seq = x.unsqueeze(0).expand(num_steps, *x.shape)
    elif x.dim() == 5:
        if x.shape[1] != num_steps:
            raise ValueError(
                f'The input carries {x.shape[1]} time steps (layout '
                f'[B, T, C, H, W], shape {tuple(x.shape)}) but the model was '
                f'built with T={num_steps}. Build the model with '
                f'T={x.shape[1]} or resample the input to {num_steps} steps.')
        seq = x.transpose(0, 1)
    else:
        raise ValueError(
            'Expected a static image batch [B, C, H, W] or an event/frame '
            f'tensor [B, T, C, H, W], got shape {tuple(x.shape)}.')
    if in_channels is not None and seq.shape[2] != in_channels:
        raise ValueError(
            f'The input has {seq.shape[2]} channels but the model expects '
            f'in_channels={in_channels} (shape {tuple(x.shape)}).')
    return seq.contiguous()


def seq_apply(fn: Callable[[torch.Tensor], torch.Tensor],
              x: torch.Tensor) -> torch.Tensor:
    """Apply a per-frame (ANN) function to every step of ``[T, B, ...]``.

    The time and batch axes are merged for ``fn`` and split again after, so
    2D layers (conv, BN, pooling) see a plain ``[T*B, C, H, W]`` batch.
    """
    T, B = x.shape[:2]
    y = fn(x.flatten(0, 1))
    return y.reshape(T, B, *y.shape[1:])


def aggregate_time(x: torch.Tensor,
                   mode: str = 'mean',
                   weights: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Collapse the time axis of ``[T, B, ...]`` into ``[B, ...]``.

    Args:
        x (Tensor): Time-major tensor.
        mode (str): ``'mean'``, ``'sum'``, ``'last'`` or ``'weighted'``
            (needs ``weights`` of shape ``[T]``). Defaults to ``'mean'``.
        weights (Tensor, optional): Per-step weights for ``'weighted'``.
            Defaults to None.
    """
    if mode == 'mean':
        return x.mean(0)
    if mode == 'sum':
        return x.sum(0)
    if mode == 'last':
        return x[-1]
    if mode == 'weighted':
        if weights is None or weights.numel() != x.shape[0]:
            raise ValueError(f'weighted aggregation needs {x.shape[0]} '
                             'per-step weights.')
        return torch.einsum('t,t...->...', weights.to(x.dtype), x)
    raise ValueError(f"Unknown time aggregation '{mode}'; choose one of "
                     f"{AGGREGATIONS + ('weighted', )}.")


class TimeDropPath(nn.Module):
    """Stochastic depth for time-major tensors: a sample is dropped at every
    time step together (the mask is shared along ``T``).

    Args:
        drop_prob (float): Probability of dropping a residual branch.
            Defaults to 0.
    """

    def __init__(self, drop_prob: float = 0.) -> None:
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1 - self.drop_prob
        shape = (1, x.shape[1]) + (1, ) * (x.dim() - 2)
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'
