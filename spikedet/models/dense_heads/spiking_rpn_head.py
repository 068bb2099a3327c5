"""A spiking RPN head (mmdet) on time-major feature maps."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmdet.models.dense_heads import RPNHead

from spikedet.registry import MODELS, init_in_scope
from ..spiking import (SpikingConvModule, build_neuron, check_num_steps,
                       check_time_major, seq_apply)


class SpikingDenseHeadMixin:
    """Time handling shared by the spiking dense heads.

    ``forward`` takes the time-major maps ``[T, B, C, H, W]`` of a neck that
    keeps the time axis (``spikedet.SpikingFPN(time_aggregation=None)``),
    checks that every level carries the head's ``T`` steps and runs
    ``forward_single`` per level. ``forward_single`` returns logits and box
    deltas averaged over the time steps, ``[B, C, H, W]``, so that mmdet's
    losses, target assignment and box decoding run unchanged.
    """

    def forward(self, x: Tuple[torch.Tensor, ...]) -> tuple:
        check_time_major(x, self.T, type(self).__name__)
        return super().forward(x)

    @staticmethod
    def _readout(layer: nn.Module, spikes: torch.Tensor) -> torch.Tensor:
        """A per-frame layer on spikes ``[T, B, ...]``, averaged over T."""
        return seq_apply(layer, spikes).mean(0)


@MODELS.register_module()
class SpikingRPNHead(SpikingDenseHeadMixin, RPNHead):
    """RPN head whose convolutions read spikes.

    mmdet's :class:`~mmdet.models.dense_heads.RPNHead` with its layers
    rebuilt as spiking units (the paper's ``SpikeRPNHead`` in
    Spike-Driven-Transformer-V2, ``detection/``):

    * ``rpn_conv``: ``num_convs`` x (LIF -> 3x3 conv (-> norm)), membrane
      potentials in and out (the spiking neuron is the nonlinearity: no
      ReLU);
    * ``rpn_lif`` -> ``rpn_cls`` / ``rpn_reg``: one LIF fires on the
      ``rpn_conv`` output and both 1x1 predictors read its spikes (the
      paper's code has one LIF per predictor; both fire identically).

    Objectness logits and box deltas are computed per time step and
    averaged over ``T`` before mmdet's loss and decoding.

    Args:
        in_channels (int): Channels of the input maps.
        T (int): Number of time steps of the input maps.
        num_convs (int): Number of spiking 3x3 convs. Defaults to 1.
        norm_cfg (dict, optional): Norm after each 3x3 conv (mmcv config);
            None for no norm, as in the paper's code. Defaults to None.
        neuron_cfg (dict, optional): Neuron config of every neuron.
            Defaults to None (the paper's LIF).
        **kwargs: The arguments of mmdet's ``RPNHead`` (anchor generator,
            bbox coder, losses, ``init_cfg``, ...).
    """

    @init_in_scope('mmdet')
    def __init__(self,
                 in_channels: int,
                 T: int,
                 num_convs: int = 1,
                 norm_cfg: Optional[dict] = None,
                 neuron_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        self.T = check_num_steps(T, type(self).__name__)
        self.norm_cfg = norm_cfg
        self.neuron_cfg = neuron_cfg
        super().__init__(
            in_channels=in_channels, num_convs=num_convs, **kwargs)

    def _init_layers(self) -> None:
        convs = [
            SpikingConvModule(
                self.in_channels if i == 0 else self.feat_channels,
                self.feat_channels,
                3,
                norm_cfg=self.norm_cfg,
                neuron_cfg=self.neuron_cfg) for i in range(self.num_convs)
        ]
        self.rpn_conv = convs[0] if len(convs) == 1 else nn.Sequential(*convs)
        self.rpn_lif = build_neuron(self.neuron_cfg)
        self.rpn_cls = nn.Conv2d(self.feat_channels,
                                 self.num_base_priors * self.cls_out_channels,
                                 1)
        self.rpn_reg = nn.Conv2d(
            self.feat_channels,
            self.num_base_priors * self.bbox_coder.encode_size, 1)

    def forward_single(self,
                       x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One level: ``[T, B, C, H, W]`` in, T-averaged objectness logits
        ``[B, A, H, W]`` and box deltas ``[B, 4A, H, W]`` out."""
        spikes = self.rpn_lif(self.rpn_conv(x))
        return (self._readout(self.rpn_cls,
                              spikes), self._readout(self.rpn_reg, spikes))
