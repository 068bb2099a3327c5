"""Collapse the time axis of spiking features so ANN necks can follow."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from spikedet.registry import MODELS
from ..spiking import AGGREGATIONS, aggregate_time
from .utils import check_time_major_inputs


@MODELS.register_module()
class TemporalAggregation(BaseModule):
    """Turn time-keeping features ``[T, B, C, H, W]`` into ANN features
    ``[B, C, H, W]``, level by level.

    Put it in front of any existing neck of mmdet or mmseg (FPN, PAFPN, ...)
    with a neck list, which mmengine builds into a ``Sequential``::

        backbone=dict(type='spikedet.MetaSpikeFormer', T=4, keep_time=True,
                      last_stride=2),
        neck=[
            dict(type='spikedet.TemporalAggregation', T=4,
                 in_channels=[64, 128, 256, 360], mode='learnable'),
            dict(type='FPN', in_channels=[64, 128, 256, 360],
                 out_channels=256, num_outs=5),
        ]

    With ``mode='mean'`` this equals the backbone's own ``keep_time=False``
    output; the other modes are the reason to use this neck.

    Args:
        T (int): Number of time steps of the inputs.
        in_channels (Sequence[int], optional): Channels per input level. If
            given, the number of levels and each level's channels are checked
            and ``'learnable'`` keeps one set of step weights per level; if
            None, any number of levels is accepted and ``'learnable'`` shares
            one set of step weights. Defaults to None.
        mode (str): ``'mean'``, ``'sum'``, ``'last'`` (last time step only)
            or ``'learnable'`` (a softmax-normalised weighted sum over the
            steps; the logits start at 0, i.e. at the mean, and weight decay
            pulls them back towards it). Defaults to ``'mean'``.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """
    #: The parameter-free aggregations of ``aggregate_time`` + learnable.
    modes = AGGREGATIONS + ('learnable', )

    def __init__(self,
                 T: int,
                 in_channels: Optional[Sequence[int]] = None,
                 mode: str = 'mean',
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(T, int) or isinstance(T, bool) or T < 1:
            raise ValueError(f'T (time steps) must be a positive int, got '
                             f'{T!r}.')
        if mode not in self.modes:
            raise ValueError(f"Unknown time aggregation mode '{mode}'; choose "
                             f'one of {self.modes}.')
        if in_channels is not None:
            if isinstance(in_channels, int) or not all(
                    isinstance(c, int) and c > 0 for c in in_channels):
                raise TypeError('in_channels must be a list of positive ints '
                                f'(one per level), got {in_channels!r}.')
            in_channels = list(in_channels)
        self.T = T
        self.in_channels = in_channels
        self.mode = mode
        if mode == 'learnable':
            levels = 1 if in_channels is None else len(in_channels)
            self.time_logits = nn.Parameter(torch.zeros(levels, T))
        else:
            self.time_logits = None

    def step_weights(self, level: int = 0) -> Optional[torch.Tensor]:
        """The per-step weights ``[T]`` of a level (``'learnable'`` only)."""
        if self.time_logits is None:
            return None
        row = level if self.time_logits.shape[0] > 1 else 0
        return self.time_logits[row].softmax(0)

    def forward(self,
                inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        """Aggregate each level over time.

        Args:
            inputs (Sequence[Tensor]): Maps ``[T, B, C, H, W]``.

        Returns:
            tuple[Tensor]: Maps ``[B, C, H, W]``.
        """
        check_time_major_inputs(inputs, self.T, self.in_channels,
                                type(self).__name__)
        if self.mode != 'learnable':
            return tuple(aggregate_time(x, self.mode) for x in inputs)
        return tuple(
            aggregate_time(x, 'weighted', self.step_weights(i))
            for i, x in enumerate(inputs))

    def extra_repr(self) -> str:
        return (f'T={self.T}, in_channels={self.in_channels}, '
                f"mode='{self.mode}'")
