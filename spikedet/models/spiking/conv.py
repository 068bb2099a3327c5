"""The spiking conv unit (neuron + conv + norm) shared by every model."""
from typing import Optional, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model.weight_init import constant_init, kaiming_init

from .compact import compact_spikes
from .neuron import build_neuron
from .reparam import DeployMixin
from .time import seq_apply

NEURON_POSITIONS = ('before', 'after', None)
CONV_INITS = ('kaiming', 'pytorch')


class SpikingConvModule(DeployMixin, nn.Module):
    """A spiking conv unit on time-major maps ``[T, B, C, H, W]``.

    ``neuron_position='before'`` (default): LIF -> conv -> norm, membrane
    potentials in and out (the neuron fires on the input; conv + norm act on
    the binary spikes, frame by frame), as in Meta-SpikeFormer and the
    spiking necks. ``'after'``: conv -> norm -> LIF, spikes out, as in
    Spikformer. ``None``: conv -> norm only (an encoding layer that reads
    real-valued pixels).

    The layers are the attributes ``conv``, the norm (``bn`` for BN, named
    like mmcv's ``ConvModule`` does) and ``lif``, so state-dict keys are
    ``conv.weight``, ``bn.weight``, ... A state dict of the older nested
    layout (``conv.conv.*``, ``conv.bn.*``) still loads.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Conv kernel size (padding keeps the size at
            stride 1).
        stride (int): Conv stride. Defaults to 1.
        bias (bool | str): Conv bias; ``'auto'`` means a bias only without
            a norm, as mmcv's ``ConvModule``. Defaults to ``'auto'``.
        conv_cfg (dict, optional): Conv layer config (mmcv). Defaults to
            None (``nn.Conv2d``).
        norm_cfg (dict, optional): Norm layer config (mmcv); None for no
            norm. Defaults to ``dict(type='BN')``.
        neuron_cfg (dict, optional): Neuron config, see
            :func:`spikedet.models.spiking.build_neuron`. Defaults to None.
        neuron_position (str, optional): ``'before'``, ``'after'`` or None
            (see above). Defaults to ``'before'``.
        conv_init (str): ``'kaiming'`` re-initialises the conv as mmcv's
            ``ConvModule`` does (Kaiming normal, fan-out, zero bias);
            ``'pytorch'`` keeps the layer's own initialisation (the papers'
            backbones). Defaults to ``'kaiming'``.
        **neuron_overrides: Per-layer neuron settings (e.g.
            ``v_threshold``).
    """
    _version = 2

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 bias: Union[bool, str] = 'auto',
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 neuron_cfg: Optional[dict] = None,
                 neuron_position: Optional[str] = 'before',
                 conv_init: str = 'kaiming',
                 **neuron_overrides) -> None:
        super().__init__()
        if neuron_position not in NEURON_POSITIONS:
            raise ValueError(f'neuron_position must be one of '
                             f'{NEURON_POSITIONS}, got {neuron_position!r}.')
        if conv_init not in CONV_INITS:
            raise ValueError(f'conv_init must be one of {CONV_INITS}, got '
                             f'{conv_init!r}.')
        if bias == 'auto':
            bias = norm_cfg is None
        self.neuron_position = neuron_position
        # Registration order follows the data flow (so fusing tools that walk
        # the children find conv directly followed by its norm).
        self.lif = None
        if neuron_position == 'before':
            self.lif = build_neuron(neuron_cfg, **neuron_overrides)
        self.conv = build_conv_layer(
            conv_cfg,
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            bias=bias)
        self.norm_name = None
        if norm_cfg is not None:
            self.norm_name, norm = build_norm_layer(norm_cfg, out_channels)
            self.add_module(self.norm_name, norm)
        if neuron_position == 'after':
            self.lif = build_neuron(neuron_cfg, **neuron_overrides)
        if conv_init == 'kaiming':
            kaiming_init(self.conv, a=0, nonlinearity='relu')
            if self.norm is not None:
                constant_init(self.norm, 1, bias=0)

    @property
    def norm(self) -> Optional[nn.Module]:
        """The norm layer, None without one."""
        return None if self.norm_name is None else getattr(
            self, self.norm_name)

    def _frame(self, x: torch.Tensor) -> torch.Tensor:
        """conv -> norm on one merged ``[T*B, C, H, W]`` batch."""
        x = self.conv(x)
        return x if self.norm is None else self.norm(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.neuron_position == 'before':
            x = self.lif(x)
        with compact_spikes():  # spikes saved for backward as bool
            x = seq_apply(self._frame, x)
        if self.neuron_position == 'after':
            x = self.lif(x)
        return x

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        # The older layout nested mmcv's ConvModule: conv.conv.*, conv.bn.*.
        old = prefix + 'conv.'
        nested = [
            k for k in state_dict
            if k.startswith(old + 'conv.') or self.norm_name is not None
            and k.startswith(f'{old}{self.norm_name}.')
        ]
        for k in nested:
            state_dict[prefix + k[len(old):]] = state_dict.pop(k)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
