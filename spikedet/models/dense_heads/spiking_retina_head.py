"""A spiking RetinaNet head (mmdet) on time-major feature maps."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmdet.models.dense_heads import RetinaHead

from spikedet.registry import MODELS, init_in_scope
from ..spiking import SpikingConvModule, build_neuron, check_num_steps
from .spiking_rpn_head import SpikingDenseHeadMixin


@MODELS.register_module()
class SpikingRetinaHead(SpikingDenseHeadMixin, RetinaHead):
    """RetinaNet head whose convolutions read spikes.

    mmdet's :class:`~mmdet.models.dense_heads.RetinaHead` with its layers
    rebuilt as spiking units (the paper's ``SpikeRetinaHead``):

    * ``cls_convs`` / ``reg_convs``: ``stacked_convs`` x (LIF -> 3x3 conv
      (-> norm)) each, membrane potentials in and out, no ReLU;
    * ``cls_lif`` -> ``retina_cls`` and ``reg_lif`` -> ``retina_reg``: the
      3x3 predictors read the spikes of a last LIF on each branch.

    Class logits and box deltas are computed per time step and averaged
    over ``T`` before mmdet's focal loss and decoding.

    Args:
        num_classes (int): Number of object classes.
        in_channels (int): Channels of the input maps.
        T (int): Number of time steps of the input maps.
        neuron_cfg (dict, optional): Neuron config of every neuron.
            Defaults to None (the paper's LIF).
        **kwargs: The arguments of mmdet's ``RetinaHead`` (``stacked_convs``,
            ``conv_cfg``, ``norm_cfg`` (None: no norm, as in the paper's
            code), anchor generator, losses, ``init_cfg``, ...).
    """

    @init_in_scope('mmdet')
    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 T: int,
                 neuron_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        self.T = check_num_steps(T, type(self).__name__)
        self.neuron_cfg = neuron_cfg
        super().__init__(num_classes, in_channels, **kwargs)

    def _branch(self) -> nn.ModuleList:
        return nn.ModuleList(
            SpikingConvModule(
                self.in_channels if i == 0 else self.feat_channels,
                self.feat_channels,
                3,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                neuron_cfg=self.neuron_cfg) for i in range(self.stacked_convs))

    def _init_layers(self) -> None:
        self.cls_convs = self._branch()
        self.reg_convs = self._branch()
        in_channels = (
            self.feat_channels if self.stacked_convs else self.in_channels)
        self.cls_lif = build_neuron(self.neuron_cfg)
        self.reg_lif = build_neuron(self.neuron_cfg)
        self.retina_cls = nn.Conv2d(
            in_channels,
            self.num_base_priors * self.cls_out_channels,
            3,
            padding=1)
        self.retina_reg = nn.Conv2d(
            in_channels,
            self.num_base_priors * self.bbox_coder.encode_size,
            3,
            padding=1)

    def forward_single(self,
                       x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """One level: ``[T, B, C, H, W]`` in, T-averaged class logits
        ``[B, A*K, H, W]`` and box deltas ``[B, 4A, H, W]`` out."""
        cls_feat = reg_feat = x
        for conv in self.cls_convs:
            cls_feat = conv(cls_feat)
        for conv in self.reg_convs:
            reg_feat = conv(reg_feat)
        return (self._readout(self.retina_cls, self.cls_lif(cls_feat)),
                self._readout(self.retina_reg, self.reg_lif(reg_feat)))
