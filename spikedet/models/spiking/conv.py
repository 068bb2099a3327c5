"""The spiking conv layer shared by necks and heads."""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from .neuron import build_neuron
from .reparam import DeployMixin
from .time import seq_apply


class SpikingConvModule(DeployMixin, nn.Module):
    """A spiking conv layer on time-major maps: LIF -> conv -> norm.

    Membrane potentials in, membrane potentials out (the neuron fires on the
    input; conv + norm act on the binary spikes, frame by frame).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Conv kernel size.
        stride (int): Conv stride. Defaults to 1.
        conv_cfg (dict, optional): Conv layer config (mmcv). Defaults to
            None (``nn.Conv2d``).
        norm_cfg (dict, optional): Norm layer config (mmcv); None for a conv
            with bias and no norm. Defaults to ``dict(type='BN')``.
        neuron_cfg (dict, optional): Neuron config, see
            :func:`spikedet.models.spiking.build_neuron`. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.lif = build_neuron(neuron_cfg)
        self.conv = ConvModule(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return seq_apply(self.conv, self.lif(x))
