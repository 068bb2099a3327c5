"""Spiking conv/fc bbox heads (mmdet) on time-major RoI features."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmdet.models.roi_heads.bbox_heads import ConvFCBBoxHead

from spikedet.registry import MODELS, init_in_scope
from ...spiking import (SpikingConvModule, SpikingLinear, build_neuron,
                        check_num_steps, check_time_major, seq_apply)


@MODELS.register_module()
class SpikingConvFCBBoxHead(ConvFCBBoxHead):
    """mmdet's conv/fc bbox head with spiking layers.

    Every layer of mmdet's :class:`~mmdet.models.roi_heads.bbox_heads.
    ConvFCBBoxHead` reads spikes (the paper's ``SpikeConvFCBBoxHead``):
    convs are LIF -> 3x3 conv (-> norm), fcs LIF -> fc (-> norm), with
    membrane potentials in and out and no ReLU; the class and box
    predictors (``fc_cls``, ``fc_reg``) read the spikes of a last LIF
    (``pred_lif``; in the paper's code they read the last fc's membrane
    potentials, a real-valued input). Input are the time-major RoI features
    ``[T, num_rois, C, h, w]`` of a spiking RoI head; class logits and box
    deltas are averaged over ``T``, so mmdet's targets, losses and decoding
    run unchanged.

    Args:
        T (int): Number of time steps of the RoI features (a spiking RoI
            head fills it in).
        fc_norm_cfg (dict, optional): 1D norm after each fc, e.g.
            ``dict(type='BN1d')``; None for none, as in the paper's code.
            Defaults to None.
        neuron_cfg (dict, optional): Neuron config of every neuron.
            Defaults to None (the paper's LIF).
        **kwargs: The arguments of mmdet's ``ConvFCBBoxHead`` (numbers of
            convs/fcs per branch, channels, ``norm_cfg`` of the convs, bbox
            coder, losses, ...).
    """

    @init_in_scope('mmdet')
    def __init__(self,
                 T: int,
                 fc_norm_cfg: Optional[dict] = None,
                 neuron_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        self.T = check_num_steps(T, type(self).__name__)
        self.fc_norm_cfg = fc_norm_cfg
        self.neuron_cfg = neuron_cfg
        super().__init__(**kwargs)
        self.pred_lif = build_neuron(neuron_cfg)
        if kwargs.get('init_cfg') is None:
            # mmdet's Xavier init of the fc branches, restricted to the
            # Linear layers (the spiking fcs may hold a norm); first, so
            # that fc_cls / fc_reg keep their own init.
            self.init_cfg = [
                dict(type='Xavier', distribution='uniform', layer='Linear')
            ] + [c for c in self.init_cfg if c.get('type') != 'Xavier']

    def _add_conv_fc_branch(self,
                            num_branch_convs: int,
                            num_branch_fcs: int,
                            in_channels: int,
                            is_shared: bool = False) -> tuple:
        """The spiking convs and fcs of one branch and its output size."""
        convs = nn.ModuleList([
            SpikingConvModule(
                in_channels if i == 0 else self.conv_out_channels,
                self.conv_out_channels,
                3,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                neuron_cfg=self.neuron_cfg) for i in range(num_branch_convs)
        ])
        last_dim = self.conv_out_channels if num_branch_convs else in_channels
        fcs = nn.ModuleList()
        if num_branch_fcs:
            if (is_shared or self.num_shared_fcs == 0) \
                    and not self.with_avg_pool:
                last_dim *= self.roi_feat_area
            fc_in = [last_dim] + [self.fc_out_channels] * (num_branch_fcs - 1)
            fcs.extend(
                SpikingLinear(
                    c,
                    self.fc_out_channels,
                    norm_cfg=self.fc_norm_cfg,
                    neuron_cfg=self.neuron_cfg) for c in fc_in)
            last_dim = self.fc_out_channels
        return convs, fcs, last_dim

    def _run_branch(self, x: torch.Tensor, convs: nn.ModuleList,
                    fcs: nn.ModuleList, flatten: bool) -> torch.Tensor:
        for conv in convs:
            x = conv(x)
        if flatten and x.dim() > 3:
            if self.with_avg_pool:
                x = seq_apply(self.avg_pool, x)
            x = x.flatten(2)
        for fc in fcs:
            x = fc(x)
        return x

    def forward(
        self, x: torch.Tensor
    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """RoI features ``[T, N, C, h, w]`` in; T-averaged class logits
        ``[N, num_classes + 1]`` and box deltas ``[N, 4 (x num_classes)]``
        out (None for a branch the head does not have)."""
        check_time_major(
            x,
            self.T,
            type(self).__name__,
            source='the RoI head',
            layout='[T, num_rois, C, h, w]')
        x = self._run_branch(x, self.shared_convs, self.shared_fcs,
                             self.num_shared_fcs > 0)
        x_cls = self._run_branch(x, self.cls_convs, self.cls_fcs, True)
        x_reg = self._run_branch(x, self.reg_convs, self.reg_fcs, True)
        s_cls = self.pred_lif(x_cls)
        s_reg = s_cls if x_reg is x_cls else self.pred_lif(x_reg)
        cls_score = self.fc_cls(s_cls).mean(0) if self.with_cls else None
        bbox_pred = self.fc_reg(s_reg).mean(0) if self.with_reg else None
        return cls_score, bbox_pred


def _shared_branches(num_convs: int, num_fcs: int) -> dict:
    """Branch sizes of a head with only shared convs and fcs."""
    return dict(
        num_shared_convs=num_convs,
        num_shared_fcs=num_fcs,
        num_cls_convs=0,
        num_cls_fcs=0,
        num_reg_convs=0,
        num_reg_fcs=0)


@MODELS.register_module()
class SpikingShared2FCBBoxHead(SpikingConvFCBBoxHead):
    """Spiking version of mmdet's ``Shared2FCBBoxHead``: two shared spiking
    fcs (the paper's ``SharedSpike2FCBBoxHead``).

    Args:
        fc_out_channels (int): Width of the fcs. Defaults to 1024.
        **kwargs: See :class:`SpikingConvFCBBoxHead`.
    """

    def __init__(self, fc_out_channels: int = 1024, **kwargs) -> None:
        super().__init__(
            fc_out_channels=fc_out_channels,
            **_shared_branches(0, 2),
            **kwargs)


@MODELS.register_module()
class SpikingShared4Conv1FCBBoxHead(SpikingConvFCBBoxHead):
    """Spiking version of mmdet's ``Shared4Conv1FCBBoxHead``: four shared
    spiking convs and one spiking fc (the paper's Cascade Mask R-CNN
    stages).

    Args:
        fc_out_channels (int): Width of the fc. Defaults to 1024.
        **kwargs: See :class:`SpikingConvFCBBoxHead`.
    """

    def __init__(self, fc_out_channels: int = 1024, **kwargs) -> None:
        super().__init__(
            fc_out_channels=fc_out_channels,
            **_shared_branches(4, 1),
            **kwargs)
