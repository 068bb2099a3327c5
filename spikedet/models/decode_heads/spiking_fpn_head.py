"""Semantic FPN decode head with spiking convolutions (mmseg)."""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from spikedet.registry import MODELS, init_in_scope
from ..spiking import SpikingConvModule, build_neuron, seq_apply
from ..spiking.reparam import DeployMixin, reparameterize


class SpikingConvUnit(SpikingConvModule):
    """One step of a scale head: LIF -> 3x3 conv -> norm (-> 2x upsample).

    The spiking neuron is the nonlinearity, so the conv has no activation.
    Input and output are time-major ``[T, B, C, H, W]`` membrane maps.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        upsample (bool): Upsample the output 2x (bilinear).
        conv_cfg (dict, optional): Conv config. Defaults to None.
        norm_cfg (dict, optional): Norm config. Defaults to None.
        align_corners (bool): ``align_corners`` of the upsampling.
            Defaults to False.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 upsample: bool,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 align_corners: bool = False,
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__(
            in_channels,
            out_channels,
            3,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            neuron_cfg=neuron_cfg)
        self.upsample = upsample
        self.align_corners = align_corners

    def _frame(self, x: torch.Tensor) -> torch.Tensor:
        x = super()._frame(x)
        if self.upsample:
            x = F.interpolate(
                x,
                scale_factor=2,
                mode='bilinear',
                align_corners=self.align_corners)
        return x


@MODELS.register_module()
class SpikingFPNHead(DeployMixin, BaseDecodeHead):
    """Semantic FPN head whose convolutions are spiking.

    The head of `Panoptic Feature Pyramid Networks
    <https://arxiv.org/abs/1901.02446>`_ as Meta-SpikeFormer's segmentation
    model uses it: every 3x3 conv of a scale head reads spikes (LIF -> conv ->
    norm, 2x bilinear upsampling after each conv of a coarser level, no ReLU),
    the scale heads are summed as membrane maps, and a last LIF turns the sum
    into spikes for the 1x1 classifier (``conv_seg``). Logits are computed
    per time step and averaged over time.

    Time handling: each input level is either time-keeping ``[T, B, C, H, W]``
    (the head runs over all ``T`` steps) or aggregated ``[B, C, H, W]`` (a
    single time step, as in the paper's code, whose neck and head see
    time-averaged backbone features). All levels must agree.

    Args:
        feature_strides (Sequence[int]): Strides of the input levels, finest
            first, powers of two (e.g. ``[4, 8, 16, 32]``).
        neuron_cfg (dict, optional): Neuron config, see
            :func:`spikedet.models.spiking.build_neuron`. Defaults to None.
        act_cfg (dict, optional): Must stay None: the spiking neurons are the
            nonlinearity. Defaults to None.
        deploy (bool): Build the deploy (re-parameterised, inference-only)
            model, to load a checkpoint written by
            tools/model_converters/reparameterize_model.py, see
            :meth:`switch_to_deploy`. Defaults to False.
        **kwargs: :class:`mmseg.models.decode_heads.BaseDecodeHead` arguments
            (``in_channels``, ``channels``, ``num_classes``, ``in_index``,
            ``norm_cfg``, ``dropout_ratio``, ``loss_decode``, ...). The input
            transform is always ``'multiple_select'``.
    """

    @init_in_scope('mmseg')
    def __init__(self,
                 feature_strides: Sequence[int],
                 neuron_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 deploy: bool = False,
                 **kwargs) -> None:
        if act_cfg is not None:
            raise ValueError(
                'SpikingFPNHead uses spiking neurons as its nonlinearity; '
                f'set act_cfg=None (got {act_cfg}). Tune the neurons with '
                'neuron_cfg instead.')
        if kwargs.get('input_transform', 'multiple_select') != \
                'multiple_select':
            raise ValueError(
                "SpikingFPNHead always uses input_transform='multiple_select'"
                f", got {kwargs['input_transform']!r}.")
        kwargs['input_transform'] = 'multiple_select'
        super().__init__(act_cfg=act_cfg, **kwargs)
        feature_strides = list(feature_strides)
        if len(feature_strides) != len(self.in_channels):
            raise ValueError(
                f'feature_strides {feature_strides} and in_channels '
                f'{self.in_channels} must have one entry per input level.')
        if any(s <= 0 or s & (s - 1) for s in feature_strides) or \
                feature_strides != sorted(feature_strides):
            raise ValueError(
                'feature_strides must be increasing powers of two, finest '
                f'level first; got {feature_strides}.')
        self.feature_strides = feature_strides
        self.neuron_cfg = neuron_cfg

        self.scale_heads = nn.ModuleList()
        for stride, in_channels in zip(feature_strides, self.in_channels):
            ups = int(math.log2(stride) - math.log2(feature_strides[0]))
            units = [
                SpikingConvUnit(
                    in_channels if k == 0 else self.channels,
                    self.channels,
                    upsample=ups > 0,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    align_corners=self.align_corners,
                    neuron_cfg=neuron_cfg) for k in range(max(1, ups))
            ]
            self.scale_heads.append(nn.Sequential(*units))
        self.decode_lif = build_neuron(neuron_cfg)
        if deploy:
            reparameterize(self, check_eval=False)

    def _time_major_inputs(
        self, inputs: Union[List[torch.Tensor], Tuple[torch.Tensor]]
    ) -> List[torch.Tensor]:
        """Select the levels and bring each to ``[T, B, C, H, W]``."""
        if not isinstance(inputs, (list, tuple)):
            raise TypeError('SpikingFPNHead expects a list/tuple of feature '
                            f'maps, got {type(inputs).__name__}.')
        if max(self.in_index) >= len(inputs):
            raise ValueError(
                f'in_index {self.in_index} needs at least '
                f'{max(self.in_index) + 1} levels, got {len(inputs)}.')
        feats = [inputs[i] for i in self.in_index]
        dims = {f.dim() for f in feats}
        if not dims <= {4, 5} or len(dims) != 1:
            raise ValueError(
                'SpikingFPNHead expects every level as [B, C, H, W] or every '
                'level as [T, B, C, H, W]; got shapes '
                f'{[tuple(f.shape) for f in feats]}.')
        if dims == {4}:
            feats = [f.unsqueeze(0) for f in feats]
        if len({tuple(f.shape[:2]) for f in feats}) != 1:
            raise ValueError(
                'All levels must share the time steps and batch size '
                f'(T, B); got shapes {[tuple(f.shape) for f in feats]}.')
        for level, (f, c) in enumerate(zip(feats, self.in_channels)):
            if f.shape[2] != c:
                raise ValueError(
                    f'Level {level} has {f.shape[2]} channels but the head '
                    f'was built with in_channels={self.in_channels} '
                    f'(shape {tuple(f.shape)}).')
        return feats

    def forward(
        self, inputs: Union[List[torch.Tensor],
                            Tuple[torch.Tensor]]) -> torch.Tensor:
        """Segmentation logits ``[B, num_classes, H, W]`` at the finest
        level's resolution, averaged over time steps."""
        x = self._time_major_inputs(inputs)
        output = self.scale_heads[0](x[0])
        size = output.shape[-2:]
        for i in range(1, len(x)):
            y = self.scale_heads[i](x[i])
            if y.shape[-2:] != size:
                y = seq_apply(
                    lambda t: F.interpolate(
                        t,
                        size=size,
                        mode='bilinear',
                        align_corners=self.align_corners), y)
            output = output + y
        logits = seq_apply(self.cls_seg, self.decode_lif(output))
        return logits.mean(0)
