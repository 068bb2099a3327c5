"""Spiking Feature Pyramid Network for time-keeping spiking backbones."""
import functools
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from spikedet.registry import MODELS
from ..spiking import SpikingConvModule, seq_apply
from ..spiking.reparam import DeployMixin, reparameterize
from .temporal_aggregation import TemporalAggregation
from .utils import check_time_major_inputs


@MODELS.register_module()
class SpikingFPN(DeployMixin, BaseModule):
    """Spiking Feature Pyramid Network.

    mmdet's FPN (`Lin et al. <https://arxiv.org/abs/1612.03144>`_) rebuilt
    from spiking layers for backbones that keep the time axis
    (``keep_time=True``). Per used level ``i``:

    * lateral: ``LIF -> 1x1 conv -> norm`` on the backbone's membrane map;
    * top-down: ``lateral[i-1] += upsample(lateral[i])``, in membrane space
      (addition of membrane potentials, as the backbones' shortcuts do);
    * output: ``LIF -> 3x3 conv -> norm``, then the time axis is collapsed
      (``time_aggregation``), so the heads get ordinary ``[B, C, H, W]``
      maps and any mmdet/mmseg head can follow; with
      ``time_aggregation=None`` the outputs stay time-major for spiking heads
      (``spikedet.SpikingRPNHead``, ``spikedet.SpikingStandardRoIHead``,
      ``spikedet.SpikingRetinaHead``), as in the paper's detection code.

    Extra levels (``num_outs`` beyond the used backbone levels), as mmdet's
    FPN: without ``add_extra_convs``, 1x1 max-pooling with stride 2 of the
    last aggregated output (Faster/Mask R-CNN); with it, spiking stride-2
    ``LIF -> 3x3 conv -> norm`` layers on time-major maps (RetinaNet), the
    first one fed from the source chosen by ``add_extra_convs``. The LIF in
    front of each extra conv takes the role of mmdet's
    ``relu_before_extra_convs``.

    Each output level has twice the stride of the previous one. With
    Meta-SpikeFormer built with ``last_stride=2`` the four backbone levels
    have strides 4, 8, 16 and 32, so the outputs carry the true strides
    4-64 that the anchor generators and RoI extractors are configured with.

    Differences from the paper's detection code (``SpikeFPN`` in
    Spike-Driven-Transformer-V2, ``detection/``), and why:

    * There the backbone's last stage keeps stride 16 while the config labels
      it 32 (anchors and RoI strides 4-64 on maps of strides 4-16 and 32);
      here the backbone (``last_stride=2``) and these levels carry their true
      strides, so ``featmap_strides`` and anchor strides are right.
    * There the neck returns time-major maps for spiking heads that live in
      their fork of mmdet; here the neck aggregates over time and feeds the
      stock mmdet/mmseg heads, so the plugin needs no forked heads.
    * There the lateral and output convs have no norm (``norm_cfg=None``);
      here they have BN by default, so each LIF sees normalised input
      whatever the channel count (``norm_cfg=None`` gives the plain convs).
    * Neurons come from spikedet's neuron factory (any backend, state reset
      at every call) instead of hard-coded CuPy LIF nodes.

    Args:
        in_channels (list[int]): Channels of each backbone level.
        out_channels (int): Channels of every output level.
        num_outs (int): Number of output levels.
        T (int): Number of time steps of the inputs.
        start_level (int): First backbone level used. Defaults to 0.
        end_level (int): Last backbone level used (inclusive); -1 for the
            last one. If not the last, no extra level is allowed.
            Defaults to -1.
        add_extra_convs (bool | str): How to make the extra levels: False for
            max-pooling; ``'on_input'`` (True), ``'on_lateral'`` or
            ``'on_output'`` for spiking stride-2 convs on the last backbone
            map, lateral or output. Defaults to False.
        time_aggregation (str, optional): How outputs collapse the time
            axis: ``'mean'``, ``'sum'``, ``'last'`` or ``'learnable'`` (see
            :class:`TemporalAggregation`); None keeps it: every output is a
            time-major ``[T, B, C, H, W]`` map, for spiking heads
            (``spikedet.SpikingRPNHead``, ...). Defaults to ``'mean'``.
        neuron_cfg (dict, optional): Neuron config for every neuron.
            Defaults to None (the paper's LIF).
        norm_cfg (dict, optional): Norm layer after each conv (mmcv config,
            e.g. ``dict(type='SyncBN')``); None for no norm.
            Defaults to ``dict(type='BN', requires_grad=True)``.
        upsample_cfg (dict): ``F.interpolate`` arguments of the top-down
            path. Defaults to ``dict(mode='nearest')``.
        deploy (bool): Build the deploy (re-parameterised, inference-only)
            model, to load a checkpoint written by
            tools/model_converters/reparameterize_model.py, see
            :meth:`switch_to_deploy`. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to Xavier-uniform convs, as mmdet's FPN.
    """

    def __init__(
        self,
        in_channels: List[int],
        out_channels: int,
        num_outs: int,
        T: int,
        start_level: int = 0,
        end_level: int = -1,
        add_extra_convs: Union[bool, str] = False,
        time_aggregation: Optional[str] = 'mean',
        neuron_cfg: Optional[dict] = None,
        norm_cfg: Optional[dict] = dict(type='BN', requires_grad=True),
        upsample_cfg: dict = dict(mode='nearest'),
        deploy: bool = False,
        init_cfg: Optional[Union[dict, List[dict]]] = dict(
            type='Xavier', layer='Conv2d', distribution='uniform')
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(in_channels, int) or not isinstance(
                in_channels, Sequence) or not in_channels:
            raise TypeError('in_channels must be a non-empty list of ints '
                            f'(one per backbone level), got {in_channels!r}.')
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.num_ins = len(in_channels)
        self.num_outs = num_outs
        self.T = T
        self.upsample_cfg = dict(upsample_cfg)

        if end_level == -1 or end_level == self.num_ins - 1:
            self.backbone_end_level = self.num_ins
            if num_outs < self.num_ins - start_level:
                raise ValueError(
                    f'num_outs={num_outs} is smaller than the number of used '
                    f'backbone levels ({self.num_ins - start_level}).')
        else:
            if not 0 <= end_level < self.num_ins:
                raise ValueError(f'end_level={end_level} is out of range for '
                                 f'{self.num_ins} input levels.')
            if num_outs != end_level - start_level + 1:
                raise ValueError(
                    'With end_level before the last level no extra level is '
                    f'allowed: num_outs must be {end_level - start_level + 1}'
                    f', got {num_outs}.')
            self.backbone_end_level = end_level + 1
        if not 0 <= start_level < self.backbone_end_level:
            raise ValueError(f'start_level={start_level} is out of range.')
        self.start_level = start_level
        self.end_level = end_level

        if isinstance(add_extra_convs, str):
            if add_extra_convs not in ('on_input', 'on_lateral', 'on_output'):
                raise ValueError(
                    f"add_extra_convs='{add_extra_convs}': use False, True, "
                    "'on_input', 'on_lateral' or 'on_output'.")
        elif add_extra_convs:
            add_extra_convs = 'on_input'
        self.add_extra_convs = add_extra_convs

        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for i in range(self.start_level, self.backbone_end_level):
            self.lateral_convs.append(
                SpikingConvModule(
                    in_channels[i],
                    out_channels,
                    1,
                    norm_cfg=norm_cfg,
                    neuron_cfg=neuron_cfg))
            self.fpn_convs.append(
                SpikingConvModule(
                    out_channels,
                    out_channels,
                    3,
                    norm_cfg=norm_cfg,
                    neuron_cfg=neuron_cfg))

        used_levels = self.backbone_end_level - self.start_level
        extra_levels = num_outs - used_levels
        num_extra_convs = 0
        if self.add_extra_convs and extra_levels >= 1:
            for i in range(extra_levels):
                if i == 0 and self.add_extra_convs == 'on_input':
                    extra_in = self.in_channels[self.backbone_end_level - 1]
                else:
                    extra_in = out_channels
                self.fpn_convs.append(
                    SpikingConvModule(
                        extra_in,
                        out_channels,
                        3,
                        stride=2,
                        norm_cfg=norm_cfg,
                        neuron_cfg=neuron_cfg))
            num_extra_convs = extra_levels
        # Every time-major output (used levels + extra conv levels) is
        # collapsed over time; max-pooled extra levels come after that.
        self.time_aggregation = time_aggregation
        self.aggregate = None if time_aggregation is None else \
            TemporalAggregation(
                T, [out_channels] * (used_levels + num_extra_convs),
                mode=time_aggregation)
        if deploy:
            reparameterize(self, check_eval=False)

    def _upsample_to(self, x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        if 'scale_factor' in self.upsample_cfg:
            return seq_apply(lambda t: F.interpolate(t, **self.upsample_cfg),
                             x)
        return seq_apply(
            lambda t: F.interpolate(
                t, size=ref.shape[-2:], **self.upsample_cfg), x)

    def forward(self,
                inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        """Forward.

        Args:
            inputs (Sequence[Tensor]): Backbone maps ``[T, B, C_i, H_i,
                W_i]``, one per entry of ``in_channels``.

        Returns:
            tuple[Tensor]: ``num_outs`` maps ``[B, out_channels, H, W]``
            (``[T, B, out_channels, H, W]`` with ``time_aggregation=None``).
        """
        check_time_major_inputs(inputs, self.T, self.in_channels,
                                type(self).__name__)
        laterals = [
            conv(inputs[i + self.start_level])
            for i, conv in enumerate(self.lateral_convs)
        ]
        used_levels = len(laterals)
        for i in range(used_levels - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + self._upsample_to(
                laterals[i], laterals[i - 1])

        outs = [self.fpn_convs[i](laterals[i]) for i in range(used_levels)]
        if self.num_outs > used_levels and self.add_extra_convs:
            if self.add_extra_convs == 'on_input':
                source = inputs[self.backbone_end_level - 1]
            elif self.add_extra_convs == 'on_lateral':
                source = laterals[-1]
            else:
                source = outs[-1]
            outs.append(self.fpn_convs[used_levels](source))
            for i in range(used_levels + 1, self.num_outs):
                outs.append(self.fpn_convs[i](outs[-1]))

        if self.aggregate is not None:
            outs = list(self.aggregate(outs))
        while len(outs) < self.num_outs:
            last = outs[-1]
            pool = functools.partial(F.max_pool2d, kernel_size=1, stride=2)
            outs.append(
                pool(last) if last.dim() == 4 else seq_apply(pool, last))
        return tuple(outs)
