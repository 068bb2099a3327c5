"""Spikformer (Zhou et al., ICLR 2023)."""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from spikedet.registry import MODELS
from ..spiking import (SpikingConvModule, TimeDropPath, build_neuron,
                       check_num_heads, seq_apply, spiking_linear_attention)
from .base import BaseSpikingBackbone


class ConvBNLIF(SpikingConvModule):
    """conv -> BN -> LIF on a time-major sequence.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Kernel size (padding keeps the size).
            Defaults to 1.
        bias (bool): Conv bias. Defaults to False.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
        **neuron_overrides: Per-layer neuron settings (e.g. ``v_threshold``).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 bias: bool = False,
                 neuron_cfg: Optional[dict] = None,
                 **neuron_overrides) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            bias=bias,
            neuron_cfg=neuron_cfg,
            neuron_position='after',
            conv_init='pytorch',
            **neuron_overrides)


class SpikingPatchSplitting(nn.Module):
    """Spiking Patch Splitting (SPS): four conv-BN-LIF layers widening to
    ``embed_dims`` (1/8, 1/4, 1/2, 1), max-pools after the last
    ``log2(patch_size)`` of them, and the relative position branch
    (conv-BN-LIF) added to the result.

    Args:
        in_channels (int): Input channels.
        embed_dims (int): Output channels.
        patch_size (int): Total downsampling, a power of two from 2 to 16.
            Defaults to 16.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dims: int,
                 patch_size: int = 16,
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__()
        num_pools = int(math.log2(patch_size))
        if 2**num_pools != patch_size or not 1 <= num_pools <= 4:
            raise ValueError('patch_size must be 2, 4, 8 or 16, got '
                             f'{patch_size}.')
        widths = [
            embed_dims // 8, embed_dims // 4, embed_dims // 2, embed_dims
        ]
        self.proj = nn.ModuleList()
        c = in_channels
        for w in widths:
            self.proj.append(ConvBNLIF(c, w, 3, neuron_cfg=neuron_cfg))
            c = w
        self.pool_after = set(range(4 - num_pools, 4))
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.rpe = ConvBNLIF(embed_dims, embed_dims, 3, neuron_cfg=neuron_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.proj):
            x = layer(x)
            if i in self.pool_after:
                x = seq_apply(self.pool, x)
        return x + self.rpe(x)


class SpikingSelfAttention(nn.Module):
    """Spiking Self Attention (SSA): spiking Q, K, V from conv-BN-LIF,
    ``Q K^T V * scale`` without softmax (computed as ``Q (K^T V)``), LIF
    (threshold 0.5), then a conv-BN-LIF projection.

    Args:
        dims (int): Channels.
        num_heads (int): Heads. Defaults to 8.
        scale (float): Attention scale. Defaults to 0.125.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
        qkv_bias (bool): Bias in the Q/K/V layers (the paper's CIFAR code
            uses ``nn.Linear`` with bias, its ImageNet code bias-free
            ``Conv1d``). Defaults to False.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int = 8,
                 scale: float = 0.125,
                 neuron_cfg: Optional[dict] = None,
                 qkv_bias: bool = False) -> None:
        super().__init__()
        self.num_heads = check_num_heads(dims, num_heads)
        self.scale = scale
        self.q = ConvBNLIF(dims, dims, bias=qkv_bias, neuron_cfg=neuron_cfg)
        self.k = ConvBNLIF(dims, dims, bias=qkv_bias, neuron_cfg=neuron_cfg)
        self.v = ConvBNLIF(dims, dims, bias=qkv_bias, neuron_cfg=neuron_cfg)
        self.attn_lif = build_neuron(neuron_cfg, v_threshold=0.5)
        self.proj = ConvBNLIF(dims, dims, bias=True, neuron_cfg=neuron_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = spiking_linear_attention(
            self.q(x), self.k(x), self.v(x), self.num_heads, self.scale)
        return self.proj(self.attn_lif(x))


class SpikformerBlock(nn.Module):
    """``x = x + SSA(x); x = x + MLP(x)``, the MLP being two conv-BN-LIF.

    Args:
        dims (int): Channels.
        num_heads (int): Heads. Defaults to 8.
        mlp_ratio (int): MLP expansion. Defaults to 4.
        drop_path (float): Stochastic depth rate. Defaults to 0.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
        qkv_bias (bool): Bias in the Q/K/V layers. Defaults to False.
        attn_scale (float): Attention scale. Defaults to 0.125.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int = 8,
                 mlp_ratio: int = 4,
                 drop_path: float = 0.,
                 neuron_cfg: Optional[dict] = None,
                 qkv_bias: bool = False,
                 attn_scale: float = 0.125) -> None:
        super().__init__()
        hidden = int(dims * mlp_ratio)
        self.attn = SpikingSelfAttention(
            dims,
            num_heads,
            attn_scale,
            neuron_cfg=neuron_cfg,
            qkv_bias=qkv_bias)
        self.mlp = nn.Sequential(
            ConvBNLIF(dims, hidden, bias=True, neuron_cfg=neuron_cfg),
            ConvBNLIF(hidden, dims, bias=True, neuron_cfg=neuron_cfg))
        self.drop_path = TimeDropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(x))
        return x + self.drop_path(self.mlp(x))


class SpikingSimplePyramid(nn.Module):
    """Spiking simple feature pyramid from one stride-16 map: strides 4 and 8
    by spiking 2x2 transposed convs (LIF -> deconv -> BN), 16 as is, 32 by
    2x2 max-pooling.

    Args:
        dims (int): Channels of the stride-16 map.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
    """

    def __init__(self, dims: int, neuron_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.out_channels = (dims // 4, dims // 2, dims, dims)
        self.lif4 = build_neuron(neuron_cfg)
        self.up4_1 = nn.ConvTranspose2d(dims, dims // 2, 2, 2)
        self.bn4_1 = nn.BatchNorm2d(dims // 2)
        self.lif4_2 = build_neuron(neuron_cfg)
        self.up4_2 = nn.ConvTranspose2d(dims // 2, dims // 4, 2, 2)
        self.bn4_2 = nn.BatchNorm2d(dims // 4)
        self.lif8 = build_neuron(neuron_cfg)
        self.up8 = nn.ConvTranspose2d(dims, dims // 2, 2, 2)
        self.bn8 = nn.BatchNorm2d(dims // 2)
        self.pool32 = nn.MaxPool2d(2, 2)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        p4 = seq_apply(lambda t: self.bn4_1(self.up4_1(t)), self.lif4(x))
        p4 = seq_apply(lambda t: self.bn4_2(self.up4_2(t)), self.lif4_2(p4))
        p8 = seq_apply(lambda t: self.bn8(self.up8(t)), self.lif8(x))
        return [p4, p8, x, seq_apply(self.pool32, x)]


@MODELS.register_module()
class Spikformer(BaseSpikingBackbone):
    """Spikformer backbone.

    A paper of Zhou et al., ICLR 2023: `Spikformer: When Spiking Neural
    Network Meets Transformer <https://openreview.net/forum?id=frE4fUwz_h>`_.

    Columnar: Spiking Patch Splitting, then ``depth`` blocks of Spiking Self
    Attention and a spiking MLP on one map (stride ``patch_size``). For dense
    prediction set ``simple_pyramid=True``: a spiking simple feature pyramid
    gives strides 4, 8, 16 and 32 from the last (stride-16) map, so the model
    plugs into the same necks as Meta-SpikeFormer.

    Args:
        arch (str | dict): ``'8-384'``, ``'8-512'``, ``'10-512'``,
            ``'8-768'`` (ImageNet) or ``'4-384'`` (CIFAR, patch size 4), or a
            dict with ``embed_dims``, ``depth``, ``num_heads``, ``mlp_ratio``,
            ``patch_size`` and ``qkv_bias`` (the CIFAR code has biased Q/K/V
            layers). ``'dvs-2-256'`` is the event-camera model of the
            official ``cifar10dvs/`` code (CIFAR10-DVS, DVS128 Gesture at
            128x128, patch size 16, 16 heads, ``attn_scale`` 0.25).
            Defaults to ``'8-384'``.
        T (int): Time steps. Defaults to 4.
        simple_pyramid (bool): Output the 4-level spiking pyramid (needs
            ``patch_size`` 16). Defaults to False.
        out_indices (Sequence[int]): Pyramid levels (0-3) when
            ``simple_pyramid``, else block indices. Defaults to ``(-1, )``,
            the last block (or the stride-32 level).
        deploy (bool): Build the deploy (inference-only) model, see
            :class:`BaseSpikingBackbone`. Defaults to False.
        **kwargs: The other arguments of :class:`BaseSpikingBackbone`, e.g.
            ``in_channels``, ``keep_time``, ``frozen_stages``,
            ``drop_path_rate``, ``neuron_cfg``.
    """
    arch_zoo = {
        '8-384':
        dict(embed_dims=384, depth=8, num_heads=8, patch_size=16),
        '8-512':
        dict(embed_dims=512, depth=8, num_heads=8, patch_size=16),
        '10-512':
        dict(embed_dims=512, depth=10, num_heads=8, patch_size=16),
        '8-768':
        dict(embed_dims=768, depth=8, num_heads=12, patch_size=16),
        '4-384':
        dict(
            embed_dims=384, depth=4, num_heads=12, patch_size=4,
            qkv_bias=True),
        'dvs-2-256':
        dict(
            embed_dims=256,
            depth=2,
            num_heads=16,
            patch_size=16,
            attn_scale=0.25),
    }
    arch_required = ('embed_dims', 'depth')
    arch_defaults = dict(
        num_heads=8,
        mlp_ratio=4,
        patch_size=16,
        qkv_bias=False,
        attn_scale=0.125)
    converter = 'spikformer_to_spikedet.py'

    def __init__(self,
                 arch: Union[str, dict] = '8-384',
                 T: int = 4,
                 simple_pyramid: bool = False,
                 out_indices: Sequence[int] = (-1, ),
                 deploy: bool = False,
                 **kwargs) -> None:
        super().__init__(arch, T=T, deploy=deploy, **kwargs)
        neuron_cfg = self.neuron_cfg
        dims = self.arch_settings['embed_dims']
        depth = self.arch_settings['depth']
        patch = self.arch_settings['patch_size']
        self._check_frozen_stages(depth)
        self.patch_embed = SpikingPatchSplitting(self.in_channels, dims, patch,
                                                 neuron_cfg)
        dpr = self.drop_path_rates(depth)
        self.blocks = nn.ModuleList([
            SpikformerBlock(dims, self.arch_settings['num_heads'],
                            self.arch_settings['mlp_ratio'], dpr[i],
                            neuron_cfg, self.arch_settings['qkv_bias'],
                            self.arch_settings['attn_scale'])
            for i in range(depth)
        ])
        self.simple_pyramid = simple_pyramid
        if simple_pyramid:
            if patch != 16:
                raise ValueError('simple_pyramid needs patch_size 16 (a '
                                 f'stride-16 map), the arch has {patch}.')
            self.pyramid = SpikingSimplePyramid(dims, neuron_cfg)
            self.out_indices = self._check_out_indices(out_indices, 4)
            self.out_strides = tuple(
                (4, 8, 16, 32)[i] for i in self.out_indices)
            self.out_channels = tuple(self.pyramid.out_channels[i]
                                      for i in self.out_indices)
        else:
            self.out_indices = self._check_out_indices(out_indices, depth)
            self.out_strides = (patch, ) * len(self.out_indices)
            self.out_channels = (dims, ) * len(self.out_indices)
        self.num_features = dims
        self._finish_init()

    def forward_seq(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = self.patch_embed(x)
        outs = []
        for i, block in enumerate(self.blocks):
            x = self.run_block(block, x)
            if not self.simple_pyramid and i in self.out_indices:
                outs.append(x)
        if self.simple_pyramid:
            levels = self.pyramid(x)
            outs = [levels[i] for i in self.out_indices]
        return outs

    def new_module_prefixes(self) -> Tuple[str, ...]:
        return ('pyramid.', ) if self.simple_pyramid else ()

    def frozen_modules(self) -> List[nn.Module]:
        """``frozen_stages`` 0 freezes the patch splitting, ``k`` also the
        first ``k`` blocks."""
        if self.frozen_stages < 0:
            return []
        return [self.patch_embed] + list(self.blocks[:self.frozen_stages])
