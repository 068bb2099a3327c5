"""A spiking FCN mask head (mmdet) on time-major RoI features."""
from typing import Optional

import torch
import torch.nn as nn
from mmdet.models.roi_heads.mask_heads import FCNMaskHead

from spikedet.registry import MODELS, init_in_scope
from ...spiking import (SpikingConvModule, build_neuron, check_num_steps,
                        check_time_major, seq_apply)


@MODELS.register_module()
class SpikingFCNMaskHead(FCNMaskHead):
    """mmdet's FCN mask head with spiking layers.

    As the paper's ``SpikeFCNMaskHead``: ``num_convs`` x (LIF -> conv (->
    norm)), membrane potentials in and out, no ReLU; a ``'deconv'``
    upsampling reads the spikes of ``upsample_lif`` (``'nearest'`` and
    ``'bilinear'`` resample the membrane maps); the 1x1 mask predictor
    (``conv_logits``) reads the spikes of ``logits_lif``. Input are the
    time-major RoI features ``[T, num_rois, C, h, w]`` of a spiking RoI
    head; mask logits are averaged over ``T``, so mmdet's targets, loss and
    mask pasting run unchanged.

    Args:
        T (int): Number of time steps of the RoI features (a spiking RoI
            head fills it in).
        neuron_cfg (dict, optional): Neuron config of every neuron.
            Defaults to None (the paper's LIF).
        **kwargs: The arguments of mmdet's ``FCNMaskHead`` (``num_convs``,
            channels, ``norm_cfg`` (None: no norm, as in the paper's code),
            ``upsample_cfg`` (not ``'carafe'``), loss, ...).
    """

    @init_in_scope('mmdet')
    def __init__(self,
                 T: int,
                 neuron_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        self.T = check_num_steps(T, type(self).__name__)
        super().__init__(**kwargs)
        if self.upsample_method == 'carafe':
            raise ValueError(f"{type(self).__name__} does not support "
                             "upsample_cfg type 'carafe'; use 'deconv', "
                             "'nearest', 'bilinear' or None.")
        self.convs = nn.ModuleList(
            SpikingConvModule(
                self.in_channels if i == 0 else self.conv_out_channels,
                self.conv_out_channels,
                self.conv_kernel_size,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                neuron_cfg=neuron_cfg) for i in range(self.num_convs))
        self.upsample_lif = build_neuron(
            neuron_cfg) if self.upsample_method == 'deconv' else None
        self.logits_lif = build_neuron(neuron_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """RoI features ``[T, N, C, h, w]`` in; T-averaged mask logits
        ``[N, num_classes (or 1), 2h, 2w]`` out."""
        check_time_major(
            x,
            self.T,
            type(self).__name__,
            source='the RoI head',
            layout='[T, num_rois, C, h, w]')
        for conv in self.convs:
            x = conv(x)
        if self.upsample is not None:
            if self.upsample_lif is not None:
                x = self.upsample_lif(x)
            x = seq_apply(self.upsample, x)
        return seq_apply(self.conv_logits, self.logits_lif(x)).mean(0)
