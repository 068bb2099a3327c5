"""Input checks of the time-step-aware heads."""
from typing import Sequence, Union

import torch


def check_num_steps(T: int, owner: str) -> int:
    """Check that ``T`` is a positive int and return it.

    Args:
        T (int): Number of time steps.
        owner (str): Name of the module, for the error message.
    """
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise ValueError(f'{owner}: T (time steps) must be a positive int, '
                         f'got {T!r}.')
    return T


def check_time_major(x: Union[torch.Tensor, Sequence[torch.Tensor]],
                     T: int,
                     owner: str,
                     source: str = 'the neck',
                     layout: str = '[T, B, C, H, W]') -> None:
    """Check that every map is time-major with ``T`` steps.

    Args:
        x (Tensor | Sequence[Tensor]): One map or one map per level.
        T (int): The time steps the receiving module was built with.
        owner (str): Name of the receiving module, for the messages.
        source (str): What produced ``x``, for the messages. Defaults to
            ``'the neck'``.
        layout (str): The expected layout, for the messages. Defaults to
            ``'[T, B, C, H, W]'``.

    Raises:
        TypeError: ``x`` holds something else than tensors.
        ValueError: A map without time axis (too few dimensions) or with a
            number of steps other than ``T``.
    """
    maps = [x] if isinstance(x, torch.Tensor) else list(x)
    ndim = len(layout.strip('[]').split(','))
    for i, m in enumerate(maps):
        if not isinstance(m, torch.Tensor):
            raise TypeError(f'{owner}: input {i} from {source} is a '
                            f'{type(m).__name__}, not a Tensor.')
        if m.dim() != ndim:
            raise ValueError(
                f'{owner} (T={T}) takes time-major input {layout} from '
                f'{source}, but input {i} has shape {tuple(m.shape)} (no '
                'time axis). Keep the time axis up to the heads: build '
                'spikedet.SpikingFPN with time_aggregation=None (and the '
                "backbone with keep_time=True), or use mmdet's ANN heads "
                'after a time-aggregating neck.')
        if m.shape[0] != T:
            raise ValueError(
                f'{owner} was built with T={T}, but input {i} from {source} '
                f'carries {m.shape[0]} time steps (shape {tuple(m.shape)}). '
                f"Set the head's T to {source}'s T (one T for backbone, "
                'neck and heads).')
