"""Input checks shared by the time-step-aware necks."""
from typing import Optional, Sequence

import torch


def check_time_major_inputs(inputs: Sequence[torch.Tensor], T: int,
                            in_channels: Optional[Sequence[int]],
                            owner: str) -> None:
    """Check that a neck input is a sequence of ``[T, B, C, H, W]`` maps.

    Args:
        inputs (Sequence[Tensor]): One map per level.
        T (int): Expected number of time steps.
        in_channels (Sequence[int], optional): Expected channels per level
            (also fixes the number of levels). Not checked if None.
        owner (str): Name of the calling module, for the error messages.

    Raises:
        TypeError: ``inputs`` is not a list/tuple of tensors.
        ValueError: Wrong number of levels, a map that is not time-major
            5D, or whose time axis, channels or batch size do not match.
    """
    if isinstance(inputs,
                  torch.Tensor) or not isinstance(inputs, (list, tuple)):
        raise TypeError(f'{owner} expects a list/tuple of feature maps (one '
                        f'per level), got {type(inputs).__name__}.')
    if in_channels is not None and len(inputs) != len(in_channels):
        raise ValueError(
            f'{owner} was built for {len(in_channels)} input levels '
            f'(in_channels={list(in_channels)}) but got {len(inputs)}. Make '
            "the backbone's out_indices and the neck's in_channels agree.")
    batch = None
    for i, x in enumerate(inputs):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f'{owner}: level {i} is a '
                            f'{type(x).__name__}, not a Tensor.')
        if x.dim() != 5:
            raise ValueError(
                f'{owner} needs time-keeping features [T, B, C, H, W]; level '
                f'{i} has shape {tuple(x.shape)}. Build the spiking backbone '
                'with keep_time=True (or drop this neck and feed the '
                'time-averaged [B, C, H, W] maps to an ANN neck).')
        if x.shape[0] != T:
            raise ValueError(
                f'{owner} was built with T={T} but level {i} carries '
                f'{x.shape[0]} time steps (shape {tuple(x.shape)}). Set the '
                "neck's T to the backbone's T.")
        if in_channels is not None and x.shape[2] != in_channels[i]:
            raise ValueError(
                f'{owner}: level {i} has {x.shape[2]} channels but '
                f'in_channels[{i}]={in_channels[i]} (shape '
                f"{tuple(x.shape)}). Set in_channels to the backbone's "
                'out_channels.')
        if batch is None:
            batch = x.shape[1]
        elif x.shape[1] != batch:
            raise ValueError(f'{owner}: level {i} has batch size '
                             f'{x.shape[1]}, level 0 has {batch}.')
