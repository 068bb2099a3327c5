"""Meta-SpikeFormer (Spike-driven Transformer V2, Yao et al., ICLR 2024)."""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn

from spikedet.registry import MODELS
from ..spiking import (SpikingConvModule, TimeDropPath, build_neuron,
                       check_num_heads, seq_apply, spiking_linear_attention)
from .base import BaseSpikingBackbone


class SpikingDownsample(SpikingConvModule):
    """LIF (unless it is the first layer) -> strided conv -> BN.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Conv kernel size. Defaults to 3.
        stride (int): Conv stride. Defaults to 2.
        first_layer (bool): The encoding layer sees real-valued pixels, so it
            has no neuron in front. Defaults to False.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 3,
                 stride: int = 2,
                 first_layer: bool = False,
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            bias=True,
            neuron_cfg=neuron_cfg,
            neuron_position=None if first_layer else 'before',
            conv_init='pytorch')


class SepConv(nn.Module):
    """Spiking inverted separable conv (the Conv-based SNN token mixer):
    LIF -> 1x1 conv (x2 channels) -> BN -> LIF -> 7x7 depthwise conv ->
    1x1 conv -> BN.

    Args:
        dims (int): Channels.
        expansion (int): Hidden expansion ratio. Defaults to 2.
        kernel_size (int): Depthwise kernel. Defaults to 7.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
    """

    def __init__(self,
                 dims: int,
                 expansion: int = 2,
                 kernel_size: int = 7,
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__()
        hidden = int(dims * expansion)
        self.lif1 = build_neuron(neuron_cfg)
        self.pwconv1 = nn.Conv2d(dims, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.lif2 = build_neuron(neuron_cfg)
        self.dwconv = nn.Conv2d(
            hidden,
            hidden,
            kernel_size,
            padding=kernel_size // 2,
            groups=hidden,
            bias=False)
        self.pwconv2 = nn.Conv2d(hidden, dims, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = seq_apply(lambda t: self.bn1(self.pwconv1(t)), self.lif1(x))
        return seq_apply(lambda t: self.bn2(self.pwconv2(self.dwconv(t))),
                         self.lif2(x))


class SpikingConvMLP(nn.Module):
    """Channel MLP of the Conv-based block: LIF -> 3x3 conv -> BN, twice.

    Args:
        dims (int): Channels.
        mlp_ratio (int): Hidden expansion. Defaults to 4.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
        kernel_size (int): Conv kernel size. Defaults to 3.
        bias (bool): Conv bias. Defaults to False.
    """
    #: Attribute names of the two convs (the state-dict keys).
    conv_names = ('conv1', 'conv2')

    def __init__(self,
                 dims: int,
                 mlp_ratio: int = 4,
                 neuron_cfg: Optional[dict] = None,
                 kernel_size: int = 3,
                 bias: bool = False) -> None:
        super().__init__()
        hidden = int(dims * mlp_ratio)
        widths = ((dims, hidden), (hidden, dims))
        for i, (name, (cin, cout)) in enumerate(zip(self.conv_names, widths)):
            self.add_module(f'lif{i + 1}', build_neuron(neuron_cfg))
            self.add_module(
                name,
                nn.Conv2d(
                    cin,
                    cout,
                    kernel_size,
                    padding=kernel_size // 2,
                    bias=bias))
            self.add_module(f'bn{i + 1}', nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv1, conv2 = (getattr(self, n) for n in self.conv_names)
        x = seq_apply(lambda t: self.bn1(conv1(t)), self.lif1(x))
        return seq_apply(lambda t: self.bn2(conv2(t)), self.lif2(x))


class SpikingMLP(SpikingConvMLP):
    """Channel MLP of the Transformer-based block: LIF -> 1x1 conv (with
    bias) -> BN, twice.

    Args:
        dims (int): Channels.
        mlp_ratio (int): Hidden expansion. Defaults to 4.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
    """
    conv_names = ('fc1', 'fc2')

    def __init__(self,
                 dims: int,
                 mlp_ratio: int = 4,
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__(dims, mlp_ratio, neuron_cfg, kernel_size=1, bias=True)


class PadWithBN(nn.BatchNorm2d):
    """BatchNorm that then pads its output by one pixel with the value BN
    gives a zero input, so that a following unpadded 3x3 conv equals a padded
    conv on the un-normalised input (keeps the RepConv re-parameterisable)."""
    #: Border width; deploy mode folds this BN into the 1x1 conv before it
    #: and zero-pads that conv's input instead (spiking.reparam).
    deploy_pad = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.pad(super().forward(x), [1, 1, 1, 1])
        # As in the paper's code: the border takes BN(0) from the running
        # statistics, with weight and bias detached.
        pad = self.bias.detach() - self.running_mean * self.weight.detach(
        ) / torch.sqrt(self.running_var + self.eps)
        pad = pad.view(1, -1, 1).to(y.dtype)
        y[:, :, 0, :] = pad
        y[:, :, -1, :] = pad
        y[:, :, :, 0] = pad
        y[:, :, :, -1] = pad
        return y


class RepConvBN(nn.Module):
    """RepConv followed by BN, the Q/K/V/projection layer of spike-driven
    self-attention: 1x1 conv -> BN(+pad) -> 3x3 depthwise -> 1x1 conv -> BN,
    then a second BN.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, in_channels, 1, bias=False)
        self.bn_pad = PadWithBN(in_channels)
        self.dwconv = nn.Conv2d(
            in_channels, in_channels, 3, groups=in_channels, bias=False)
        self.pwconv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dwconv(self.bn_pad(self.conv1(x)))
        return self.bn2(self.bn1(self.pwconv(x)))


class SpikeDrivenSelfAttention(nn.Module):
    """Spike-driven self-attention (SDSA) of Meta-SpikeFormer.

    LIF -> RepConv+BN Q/K/V -> spiking Q/K/V -> ``Q (K^T V) * scale`` (K^T V
    first, linear in tokens, no softmax) -> LIF (threshold 0.5) ->
    RepConv+BN projection.

    Args:
        dims (int): Channels.
        num_heads (int): Attention heads. Defaults to 8.
        scale (float): Attention scale. Defaults to 0.125.
        attn_threshold (float): Threshold of the attention neuron.
            Defaults to 0.5.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int = 8,
                 scale: float = 0.125,
                 attn_threshold: float = 0.5,
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.num_heads = check_num_heads(dims, num_heads)
        self.scale = scale
        self.head_lif = build_neuron(neuron_cfg)
        self.q = RepConvBN(dims, dims)
        self.k = RepConvBN(dims, dims)
        self.v = RepConvBN(dims, dims)
        self.q_lif = build_neuron(neuron_cfg)
        self.k_lif = build_neuron(neuron_cfg)
        self.v_lif = build_neuron(neuron_cfg)
        self.attn_lif = build_neuron(neuron_cfg, v_threshold=attn_threshold)
        self.proj = RepConvBN(dims, dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head_lif(x)
        q = self.q_lif(seq_apply(self.q, x))
        k = self.k_lif(seq_apply(self.k, x))
        v = self.v_lif(seq_apply(self.v, x))
        x = spiking_linear_attention(q, k, v, self.num_heads, self.scale)
        return seq_apply(self.proj, self.attn_lif(x))


class ConvSNNBlock(nn.Module):
    """Conv-based SNN block with membrane shortcuts:
    ``x = x + SepConv(x); x = x + ConvMLP(x)``.

    Args:
        dims (int): Channels.
        mlp_ratio (int): MLP expansion. Defaults to 4.
        drop_path (float): Stochastic depth rate. Defaults to 0.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
    """

    def __init__(self,
                 dims: int,
                 mlp_ratio: int = 4,
                 drop_path: float = 0.,
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.token_mixer = SepConv(dims, neuron_cfg=neuron_cfg)
        self.mlp = SpikingConvMLP(dims, mlp_ratio, neuron_cfg=neuron_cfg)
        self.drop_path = TimeDropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.token_mixer(x))
        return x + self.drop_path(self.mlp(x))


class TransformerSNNBlock(nn.Module):
    """Transformer-based SNN block with membrane shortcuts:
    ``x = x + SDSA(x); x = x + MLP(x)``.

    Args:
        dims (int): Channels.
        num_heads (int): Attention heads. Defaults to 8.
        mlp_ratio (int): MLP expansion. Defaults to 4.
        drop_path (float): Stochastic depth rate. Defaults to 0.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
    """

    def __init__(self,
                 dims: int,
                 num_heads: int = 8,
                 mlp_ratio: int = 4,
                 drop_path: float = 0.,
                 neuron_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.attn = SpikeDrivenSelfAttention(
            dims, num_heads, neuron_cfg=neuron_cfg)
        self.mlp = SpikingMLP(dims, mlp_ratio, neuron_cfg=neuron_cfg)
        self.drop_path = TimeDropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(x))
        return x + self.drop_path(self.mlp(x))


@MODELS.register_module()
class MetaSpikeFormer(BaseSpikingBackbone):
    """Meta-SpikeFormer backbone (Spike-driven Transformer V2).

    A paper of Yao et al., ICLR 2024: `Spike-driven Transformer V2: Meta
    Spiking Neural Network Architecture Inspiring the Design of Next-generation
    Neuromorphic Chips <https://openreview.net/forum?id=1SIBN5Xyw7>`_.

    Layout: a stem (7x7 stride-2 encoding conv + one Conv-based block), then
    four stages, each a spiking downsampling conv followed by blocks: stages
    0-1 are Conv-based SNN blocks, stages 2-3 Transformer-based SNN blocks.
    Stage strides are 4, 8, 16 and ``16 * last_stride``: the paper's
    classifier uses ``last_stride=1``; dense prediction wants 2 (stride 32).

    Args:
        arch (str | dict): ``'15m'``, ``'31m'``, ``'55m'``, or a dict with
            ``embed_dims`` (4 ints), ``depths`` (4 ints), ``num_heads`` and
            ``mlp_ratio``. Defaults to ``'15m'``.
        T (int): Time steps. Defaults to 1.
        last_stride (int): Stride of the last stage's downsampling: 1 as in
            the paper's classifier, 2 for a true stride-32 level.
            Defaults to 1.
        out_indices (Sequence[int]): Stages to output. Defaults to
            ``(0, 1, 2, 3)``.
        out_stem (bool): Also output the stem (stride 2, ``embed_dims[0] //
            2`` channels), before the stages: the paper's segmentation
            pyramid is the stem and stages 0, 1 and 3 (``out_indices=(0, 1,
            3)``, ``last_stride=1``: strides 2, 4, 8, 16). Defaults to False.
        deploy (bool): Build the deploy (inference-only) model, see
            :class:`BaseSpikingBackbone`. Defaults to False.
        **kwargs: The other arguments of :class:`BaseSpikingBackbone`, e.g.
            ``in_channels``, ``keep_time``, ``frozen_stages``,
            ``drop_path_rate``, ``neuron_cfg``.
    """
    arch_zoo = {
        **dict.fromkeys(
            ['15m', 'meta-spikeformer-15m'], {
                'embed_dims': [64, 128, 256, 360],
                'depths': [1, 2, 6, 2],
                'num_heads': 8,
                'mlp_ratio': 4
            }),
        # The official code calls this one ``metaspikformer_8_384``.
        **dict.fromkeys(
            ['31m', 'meta-spikeformer-31m'], {
                'embed_dims': [96, 192, 384, 480],
                'depths': [1, 2, 6, 2],
                'num_heads': 8,
                'mlp_ratio': 4
            }),
        # The official code calls this one ``metaspikformer_8_512``.
        **dict.fromkeys(
            ['55m', 'meta-spikeformer-55m'], {
                'embed_dims': [128, 256, 512, 640],
                'depths': [1, 2, 6, 2],
                'num_heads': 8,
                'mlp_ratio': 4
            }),
    }
    arch_required = ('embed_dims', 'depths')
    arch_defaults = dict(num_heads=8, mlp_ratio=4)
    converter = 'sdtv2_to_spikedet.py'

    def __init__(self,
                 arch: Union[str, dict] = '15m',
                 T: int = 1,
                 last_stride: int = 1,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 out_stem: bool = False,
                 deploy: bool = False,
                 **kwargs) -> None:
        super().__init__(arch, T=T, deploy=deploy, **kwargs)
        dims = self.arch_settings['embed_dims']
        depths = self.arch_settings['depths']
        heads = self.arch_settings['num_heads']
        mlp_ratio = self.arch_settings['mlp_ratio']
        if last_stride not in (1, 2):
            raise ValueError(f'last_stride must be 1 or 2, got {last_stride}.')
        self._check_frozen_stages(4)
        neuron_cfg = self.neuron_cfg

        # Stochastic depth rises linearly over the stem block + all blocks.
        dpr = self.drop_path_rates(1 + sum(depths))

        stem_dims = dims[0] // 2
        self.stem = nn.Sequential(
            SpikingDownsample(
                self.in_channels, stem_dims, 7, 2, first_layer=True),
            ConvSNNBlock(stem_dims, mlp_ratio, dpr[0], neuron_cfg))

        self.downsample_layers = nn.ModuleList()
        self.stages = nn.ModuleList()
        in_dims, block_idx, strides = stem_dims, 1, []
        stride = 2
        for i, (d, depth) in enumerate(zip(dims, depths)):
            s = last_stride if i == 3 else 2
            stride *= s
            strides.append(stride)
            self.downsample_layers.append(
                SpikingDownsample(in_dims, d, 3, s, neuron_cfg=neuron_cfg))
            blocks = []
            for _ in range(depth):
                if i < 2:
                    blocks.append(
                        ConvSNNBlock(d, mlp_ratio, dpr[block_idx], neuron_cfg))
                else:
                    blocks.append(
                        TransformerSNNBlock(d, heads, mlp_ratio,
                                            dpr[block_idx], neuron_cfg))
                block_idx += 1
            self.stages.append(nn.Sequential(*blocks))
            in_dims = d

        self.out_indices = self._check_out_indices(out_indices, 4)
        if not isinstance(out_stem, bool):
            raise TypeError(f'out_stem must be a bool, got {out_stem!r}.')
        # The stem output (stride 2) comes first when asked for.
        self.out_stem = out_stem
        self.out_strides = (2, ) * out_stem + tuple(strides[i]
                                                    for i in self.out_indices)
        self.out_channels = (stem_dims, ) * out_stem + tuple(
            dims[i] for i in self.out_indices)
        self.num_features = dims[-1]
        self._finish_init()

    @classmethod
    def check_arch(cls, arch: dict) -> None:
        """Four stages."""
        if len(arch['embed_dims']) != 4 or len(arch['depths']) != 4:
            raise ValueError('embed_dims and depths need 4 entries each '
                             '(one per stage).')

    def forward_seq(self, x: torch.Tensor) -> List[torch.Tensor]:
        for layer in self.stem:
            x = self.run_block(layer, x)
        outs = [x] if self.out_stem else []
        for i, (down,
                stage) in enumerate(zip(self.downsample_layers, self.stages)):
            x = down(x)
            for block in stage:
                x = self.run_block(block, x)
            if i in self.out_indices:
                outs.append(x)
        return outs

    def frozen_modules(self) -> List[nn.Module]:
        """``frozen_stages`` 0 freezes the stem, ``k`` also stages 0 to
        ``k - 1`` (downsampling and blocks)."""
        if self.frozen_stages < 0:
            return []
        mods = [self.stem]
        for i in range(self.frozen_stages):
            mods += [self.downsample_layers[i], self.stages[i]]
        return mods
