"""The spiking fully connected layer shared by heads."""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from .neuron import build_neuron
from .time import seq_apply


class SpikingLinear(nn.Module):
    """A spiking fully connected layer on time-major input: LIF -> fc
    (-> norm).

    The fully connected counterpart of
    :class:`~spikedet.models.spiking.SpikingConvModule`: membrane potentials
    ``[T, N, in_features]`` in, the neuron fires on them, the linear layer
    (and the optional norm) acts on the binary spikes, membrane potentials
    ``[T, N, out_features]`` out.

    Args:
        in_features (int): Input features.
        out_features (int): Output features.
        norm_cfg (dict, optional): 1D norm layer config (mmcv), e.g.
            ``dict(type='BN1d')``; None for an fc with bias and no norm.
            Defaults to None.
        neuron_cfg (dict, optional): Neuron config, see
            :func:`spikedet.models.spiking.build_neuron`. Defaults to None.
    """

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 norm_cfg: Optional[dict] = None,
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.lif = build_neuron(neuron_cfg)
        self.fc = nn.Linear(in_features, out_features, bias=norm_cfg is None)
        self.norm = None if norm_cfg is None else build_norm_layer(
            norm_cfg, out_features)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3:
            raise ValueError('SpikingLinear expects time-major input '
                             f'[T, N, C], got shape {tuple(x.shape)}.')
        x = self.fc(self.lif(x))
        return x if self.norm is None else seq_apply(self.norm, x)
