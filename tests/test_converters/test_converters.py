"""Tests of spikedet.converters and tools/model_converters.

The official checkpoints are not downloaded: their key layout is written
out below as a key table (official key names and shapes per official module
type, read from the papers' code), random values are drawn for it, and the
converted spikedet model is compared with an independent functional
re-implementation of the official forward that reads the official state dict
directly.
"""
import argparse
import importlib.util
import math
import os.path as osp
from collections import OrderedDict
from fractions import Fraction
from functools import partial
from typing import Dict, List, Tuple

import pytest
import torch
import torch.nn.functional as F

from spikedet.converters import (ConversionError, build_converted_model,
                                 convert_file, convert_sdtv2,
                                 convert_spikformer, load_checkpoint_file)
from spikedet.models import MetaSpikeFormer, Spikformer
from spikedet.testing import find_configs
from spikedet.utils.state_dict import CheckpointMismatchError

Table = Dict[str, Tuple[Tuple[int, ...], str]]  # key -> (shape, role)
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_cli(kind: str, argv: List[str]) -> int:
    """``main`` of tools/model_converters/<kind>_to_spikedet.py."""
    path = osp.join(ROOT, 'tools', 'model_converters',
                    f'{kind}_to_spikedet.py')
    spec = importlib.util.spec_from_file_location(f'{kind}_cli', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    """The tensors here are tiny: a second thread only adds overhead."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------------------
# Key tables of the official models
# ---------------------------------------------------------------------------


def _conv(t: Table, p: str, o: int, i: int, k: int, bias: bool) -> None:
    """nn.Conv2d (``i`` = in_channels / groups)."""
    t[f'{p}.weight'] = ((o, i, k, k), 'conv')
    if bias:
        t[f'{p}.bias'] = ((o, ), 'bias')


def _conv1d(t: Table, p: str, o: int, i: int, bias: bool) -> None:
    t[f'{p}.weight'] = ((o, i, 1), 'conv')
    if bias:
        t[f'{p}.bias'] = ((o, ), 'bias')


def _linear(t: Table, p: str, o: int, i: int, bias: bool = True) -> None:
    t[f'{p}.weight'] = ((o, i), 'conv')
    if bias:
        t[f'{p}.bias'] = ((o, ), 'bias')


def _bn(t: Table, p: str, c: int) -> None:
    """nn.BatchNorm1d / nn.BatchNorm2d (same tensors)."""
    t[f'{p}.weight'] = ((c, ), 'bn_weight')
    t[f'{p}.bias'] = ((c, ), 'bn_bias')
    t[f'{p}.running_mean'] = ((c, ), 'running_mean')
    t[f'{p}.running_var'] = ((c, ), 'running_var')
    t[f'{p}.num_batches_tracked'] = ((), 'count')


def _ln(t: Table, p: str, c: int) -> None:
    t[f'{p}.weight'] = ((c, ), 'bn_weight')
    t[f'{p}.bias'] = ((c, ), 'bn_bias')


# Spike-driven Transformer V2, classification/models.py ---------------------
def _sdtv2_downsample(t: Table, p: str, cin: int, cout: int, k: int) -> None:
    _conv(t, f'{p}.encode_conv', cout, cin, k, bias=True)
    _bn(t, f'{p}.encode_bn', cout)


def _sdtv2_conv_block(t: Table, p: str, d: int, r: int) -> None:
    """MS_ConvBlock: SepConv (expansion 2, 7x7 depthwise) + 3x3 conv MLP."""
    _conv(t, f'{p}.Conv.pwconv1', 2 * d, d, 1, False)
    _bn(t, f'{p}.Conv.bn1', 2 * d)
    _conv(t, f'{p}.Conv.dwconv', 2 * d, 1, 7, False)
    _conv(t, f'{p}.Conv.pwconv2', d, 2 * d, 1, False)
    _bn(t, f'{p}.Conv.bn2', d)
    _conv(t, f'{p}.conv1', r * d, d, 3, False)
    _bn(t, f'{p}.bn1', r * d)
    _conv(t, f'{p}.conv2', d, r * d, 3, False)
    _bn(t, f'{p}.bn2', d)


def _sdtv2_repconv_bn(t: Table, p: str, d: int) -> None:
    """Sequential(RepConv(d, d), BatchNorm2d(d))."""
    _conv(t, f'{p}.0.body.0', d, d, 1, False)
    _bn(t, f'{p}.0.body.1.bn', d)
    _conv(t, f'{p}.0.body.2.0', d, 1, 3, False)
    _conv(t, f'{p}.0.body.2.1', d, d, 1, False)
    _bn(t, f'{p}.0.body.2.2', d)
    _bn(t, f'{p}.1', d)


def _sdtv2_block(t: Table, p: str, d: int, r: int) -> None:
    """MS_Block: MS_Attention_RepConv_qkv_id + MS_MLP (Conv1d/BN1d)."""
    for name in ('q', 'k', 'v', 'proj'):
        _sdtv2_repconv_bn(t, f'{p}.attn.{name}_conv', d)
    _conv1d(t, f'{p}.mlp.fc1_conv', r * d, d, bias=True)
    _bn(t, f'{p}.mlp.fc1_bn', r * d)
    _conv1d(t, f'{p}.mlp.fc2_conv', d, r * d, bias=True)
    _bn(t, f'{p}.mlp.fc2_bn', d)


def sdtv2_table(dims: List[int],
                num_classes: int = 1000,
                kd: bool = False,
                in_channels: int = 3,
                r: int = 4) -> Table:
    """Spiking_vit_MetaFormer (its depths 1, 2, 6, 2 are hard-coded)."""
    t: Table = OrderedDict()
    d0, d1, d2, d3 = dims
    _sdtv2_downsample(t, 'downsample1_1', in_channels, d0 // 2, 7)
    _sdtv2_conv_block(t, 'ConvBlock1_1.0', d0 // 2, r)
    _sdtv2_downsample(t, 'downsample1_2', d0 // 2, d0, 3)
    _sdtv2_conv_block(t, 'ConvBlock1_2.0', d0, r)
    _sdtv2_downsample(t, 'downsample2', d0, d1, 3)
    _sdtv2_conv_block(t, 'ConvBlock2_1.0', d1, r)
    _sdtv2_conv_block(t, 'ConvBlock2_2.0', d1, r)
    _sdtv2_downsample(t, 'downsample3', d1, d2, 3)
    for j in range(6):
        _sdtv2_block(t, f'block3.{j}', d2, r)
    _sdtv2_downsample(t, 'downsample4', d2, d3, 3)
    for j in range(2):
        _sdtv2_block(t, f'block4.{j}', d3, r)
    if num_classes:
        _linear(t, 'head', num_classes, d3)
        if kd:
            _linear(t, 'head_kd', num_classes, d3)
    return t


# Spikformer, imagenet/model.py and cifar10/model.py ------------------------
def spikformer_table(dims: int,
                     depth: int,
                     layout: str,
                     num_classes: int = 1000,
                     in_channels: int = 3,
                     r: int = 4) -> Table:
    t: Table = OrderedDict()
    widths = [dims // 8, dims // 4, dims // 2, dims]
    c = in_channels
    for i, w in enumerate(widths):
        s = '' if i == 0 else str(i)
        _conv(t, f'patch_embed.proj_conv{s}', w, c, 3, False)
        _bn(t, f'patch_embed.proj_bn{s}', w)
        c = w
    _conv(t, 'patch_embed.rpe_conv', dims, dims, 3, False)
    _bn(t, 'patch_embed.rpe_bn', dims)
    for j in range(depth):
        p = f'block.{j}'
        _ln(t, f'{p}.norm1', dims)
        for name in ('q', 'k', 'v', 'proj'):
            if layout == 'imagenet':  # Conv1d, bias only in proj
                _conv1d(t, f'{p}.attn.{name}_conv', dims, dims, name == 'proj')
            else:  # nn.Linear with bias everywhere
                _linear(t, f'{p}.attn.{name}_linear', dims, dims)
            _bn(t, f'{p}.attn.{name}_bn', dims)
        _ln(t, f'{p}.norm2', dims)
        for name, o, i in (('fc1', r * dims, dims), ('fc2', dims, r * dims)):
            if layout == 'imagenet':  # 1x1 Conv2d
                _conv(t, f'{p}.mlp.{name}_conv', o, i, 1, True)
            else:
                _linear(t, f'{p}.mlp.{name}_linear', o, i)
            _bn(t, f'{p}.mlp.{name}_bn', o)
    if num_classes:
        _linear(t, 'head', num_classes, dims)
    return t


def num_params(table: Table) -> int:
    return sum(
        math.prod(shape) for shape, role in table.values()
        if role not in ('running_mean', 'running_var', 'count'))


def meta_state_dict(table: Table) -> Dict[str, torch.Tensor]:
    """Shapes only, no memory: for the full-size models."""
    return {k: torch.empty(s, device='meta') for k, (s, _) in table.items()}


def random_state_dict(table: Table, seed: int = 0) -> Dict[str, torch.Tensor]:
    """Random official weights, scaled so that neurons fire at moderate
    rates, with random BN running statistics."""
    g = torch.Generator().manual_seed(seed)

    def rand(shape, low, high):
        return low + (high - low) * torch.rand(shape, generator=g)

    sd = OrderedDict()
    for key, (shape, role) in table.items():
        if role == 'conv':
            fan_in = math.prod(shape[1:])
            v = torch.randn(shape, generator=g) * 2.0 / math.sqrt(fan_in)
        elif role == 'bias':
            v = 0.2 * torch.randn(shape, generator=g)
        elif role == 'bn_weight':
            v = rand(shape, 0.8, 1.6)
        elif role == 'bn_bias':
            v = 0.4 + 0.4 * torch.randn(shape, generator=g)
        elif role == 'running_mean':
            v = 0.3 * torch.randn(shape, generator=g)
        elif role == 'running_var':
            v = rand(shape, 0.3, 1.5)
        else:
            v = torch.tensor(int(torch.randint(1, 1000, (), generator=g)))
        sd[key] = v
    return sd


# ---------------------------------------------------------------------------
# Independent functional forward of the official models
# ---------------------------------------------------------------------------
class Official:
    """Runs the official forward from an official state dict with
    torch.nn.functional ops and a plain LIF; records firing rates."""

    def __init__(self, sd: Dict[str, torch.Tensor]) -> None:
        self.sd = {
            k: v.double() if v.is_floating_point() else v
            for k, v in sd.items()
        }
        self.rates: List[float] = []

    # neuron: tau 2, hard reset to 0, decay_input: v += (x - v) / tau
    def lif(self, x: torch.Tensor, v_th: float = 1.0) -> torch.Tensor:
        v = torch.zeros_like(x[0])
        spikes = []
        for xt in x:
            v = v + (xt - v) / 2.0
            s = (v >= v_th).to(x.dtype)
            v = v * (1.0 - s)
            spikes.append(s)
        out = torch.stack(spikes)
        self.rates.append(out.mean().item())
        return out

    def bn(self, x: torch.Tensor, p: str) -> torch.Tensor:
        sd = self.sd
        return F.batch_norm(x, sd[f'{p}.running_mean'], sd[f'{p}.running_var'],
                            sd[f'{p}.weight'], sd[f'{p}.bias'], False, 0.,
                            1e-5)

    def conv(self, x, p, stride=1, padding=0, groups=1):
        return F.conv2d(x, self.sd[f'{p}.weight'], self.sd.get(f'{p}.bias'),
                        stride, padding, 1, groups)

    def conv1d(self, x, p):
        return F.conv1d(x, self.sd[f'{p}.weight'], self.sd.get(f'{p}.bias'))

    def linear(self, x, p):
        return F.linear(x, self.sd[f'{p}.weight'], self.sd.get(f'{p}.bias'))

    @staticmethod
    def frames(fn, x: torch.Tensor) -> torch.Tensor:
        T, B = x.shape[:2]
        y = fn(x.flatten(0, 1))
        return y.reshape(T, B, *y.shape[1:])

    @staticmethod
    def heads(x: torch.Tensor, h: int) -> torch.Tensor:
        """[T, B, C, N] -> [T, B, h, N, C // h]."""
        T, B, C, N = x.shape
        return x.transpose(-1, -2).reshape(T, B, N, h,
                                           C // h).permute(0, 1, 3, 2, 4)

    # --- Spike-driven Transformer V2 -------------------------------------
    def sdtv2_downsample(self, x, p, k, stride, first):
        if not first:
            x = self.lif(x)
        return self.frames(
            lambda t: self.bn(
                self.conv(t, f'{p}.encode_conv', stride, k // 2),
                f'{p}.encode_bn'), x)

    def sdtv2_conv_block(self, x, p):
        c2 = self.sd[f'{p}.Conv.dwconv.weight'].shape[0]
        y = self.frames(
            lambda t: self.bn(
                self.conv(t, f'{p}.Conv.pwconv1'), f'{p}.Conv.bn1'),
            self.lif(x))
        y = self.frames(
            lambda t: self.bn(
                self.conv(
                    self.conv(t, f'{p}.Conv.dwconv', 1, 3, c2),
                    f'{p}.Conv.pwconv2'), f'{p}.Conv.bn2'), self.lif(y))
        x = x + y
        y = self.frames(
            lambda t: self.bn(self.conv(t, f'{p}.conv1', 1, 1), f'{p}.bn1'),
            self.lif(x))
        y = self.frames(
            lambda t: self.bn(self.conv(t, f'{p}.conv2', 1, 1), f'{p}.bn2'),
            self.lif(y))
        return x + y

    def repconv_bn(self, x, p):
        """Sequential(RepConv, BN) on [N, C, H, W]."""
        sd = self.sd
        b = f'{p}.0.body.1.bn'
        y = self.bn(self.conv(x, f'{p}.0.body.0'), b)
        pad = sd[f'{b}.bias'] - sd[f'{b}.running_mean'] * sd[
            f'{b}.weight'] / torch.sqrt(sd[f'{b}.running_var'] + 1e-5)
        y = F.pad(y, [1, 1, 1, 1])
        pad = pad.view(1, -1, 1, 1)
        y[:, :, 0:1, :] = pad
        y[:, :, -1:, :] = pad
        y[:, :, :, 0:1] = pad
        y[:, :, :, -1:] = pad
        y = self.conv(y, f'{p}.0.body.2.0', groups=y.shape[1])
        y = self.bn(self.conv(y, f'{p}.0.body.2.1'), f'{p}.0.body.2.2')
        return self.bn(y, f'{p}.1')

    def sdtv2_attention(self, x, p, h=8):
        T, B, C, H, W = x.shape
        x = self.lif(x)
        q, k, v = (
            self.heads(
                self.lif(
                    self.frames(lambda t: self.repconv_bn(t, f'{p}.{n}_conv'),
                                x)).flatten(3), h) for n in 'qkv')
        x = (q @ (k.transpose(-2, -1) @ v)) * 0.125
        x = x.transpose(3, 4).reshape(T, B, C, H * W)
        x = self.lif(x, v_th=0.5).reshape(T, B, C, H, W)
        return self.frames(lambda t: self.repconv_bn(t, f'{p}.proj_conv'), x)

    def sdtv2_mlp(self, x, p):
        T, B, C, H, W = x.shape
        x = self.lif(x.flatten(3))
        x = self.frames(
            lambda t: self.bn(self.conv1d(t, f'{p}.fc1_conv'), f'{p}.fc1_bn'),
            x)
        x = self.frames(
            lambda t: self.bn(self.conv1d(t, f'{p}.fc2_conv'), f'{p}.fc2_bn'),
            self.lif(x))
        return x.reshape(T, B, C, H, W)

    def sdtv2(self, img: torch.Tensor, T: int) -> torch.Tensor:
        sd = self.sd
        x = img.double().unsqueeze(0).repeat(T, 1, 1, 1, 1)
        x = self.sdtv2_downsample(x, 'downsample1_1', 7, 2, True)
        x = self.sdtv2_conv_block(x, 'ConvBlock1_1.0')
        x = self.sdtv2_downsample(x, 'downsample1_2', 3, 2, False)
        x = self.sdtv2_conv_block(x, 'ConvBlock1_2.0')
        x = self.sdtv2_downsample(x, 'downsample2', 3, 2, False)
        x = self.sdtv2_conv_block(x, 'ConvBlock2_1.0')
        x = self.sdtv2_conv_block(x, 'ConvBlock2_2.0')
        x = self.sdtv2_downsample(x, 'downsample3', 3, 2, False)
        for j in range(6):
            x = x + self.sdtv2_attention(x, f'block3.{j}.attn')
            x = x + self.sdtv2_mlp(x, f'block3.{j}.mlp')
        x = self.sdtv2_downsample(x, 'downsample4', 3, 1, False)
        for j in range(2):
            x = x + self.sdtv2_attention(x, f'block4.{j}.attn')
            x = x + self.sdtv2_mlp(x, f'block4.{j}.mlp')
        x = self.lif(x.flatten(3).mean(3))
        logits = self.linear(x, 'head').mean(0)
        if 'head_kd.weight' in sd:
            logits = (logits + self.linear(x, 'head_kd').mean(0)) / 2
        return logits

    # --- Spikformer --------------------------------------------------------
    def sps(self, x, pools):
        for i in range(4):
            s = '' if i == 0 else str(i)
            x = self.lif(
                self.frames(
                    lambda t: self.bn(
                        self.conv(t, f'patch_embed.proj_conv{s}', 1, 1),
                        f'patch_embed.proj_bn{s}'), x))
            if i in pools:
                x = self.frames(lambda t: F.max_pool2d(t, 3, 2, 1), x)
        rpe = self.lif(
            self.frames(
                lambda t: self.bn(
                    self.conv(t, 'patch_embed.rpe_conv', 1, 1),
                    'patch_embed.rpe_bn'), x))
        return x + rpe

    def spikformer_imagenet_block(self, x, p, h):
        T, B, C, H, W = x.shape
        xs = x.flatten(3)  # [T, B, C, N]

        def cbl(name, inp):  # Conv1d -> BN1d -> LIF on [T, B, C, N]
            return self.lif(
                self.frames(
                    lambda t: self.bn(
                        self.conv1d(t, f'{p}.attn.{name}_conv'),
                        f'{p}.attn.{name}_bn'), inp))

        q, k, v = (self.heads(cbl(n, xs), h) for n in 'qkv')
        a = (q @ (k.transpose(-2, -1) @ v)) * 0.125
        a = self.lif(a.transpose(3, 4).reshape(T, B, C, H * W), v_th=0.5)
        x = x + cbl('proj', a).reshape(T, B, C, H, W)
        y = x
        for name in ('fc1', 'fc2'):
            y = self.lif(
                self.frames(
                    lambda t: self.bn(
                        self.conv(t, f'{p}.mlp.{name}_conv'),
                        f'{p}.mlp.{name}_bn'), y))
        return x + y

    def spikformer_cifar_block(self, x, p, h):
        T, B, N, C = x.shape  # tokens last-but-one, as the CIFAR code

        def lbl(name, inp, where):  # Linear -> BN1d (over C) -> LIF
            return self.lif(
                self.frames(
                    lambda t: self.bn(
                        self.linear(t, f'{p}.{where}.{name}_linear').transpose(
                            -1, -2), f'{p}.{where}.{name}_bn').transpose(
                                -1, -2), inp))

        q, k, v = (
            lbl(n, x, 'attn').reshape(T, B, N, h,
                                      C // h).permute(0, 1, 3, 2, 4)
            for n in 'qkv')
        a = (q @ k.transpose(-2, -1)) * 0.125 @ v
        a = self.lif(a.transpose(2, 3).reshape(T, B, N, C), v_th=0.5)
        x = x + lbl('proj', a, 'attn')
        return x + lbl('fc2', lbl('fc1', x, 'mlp'), 'mlp')

    def spikformer(self, img: torch.Tensor, T: int, layout: str,
                   h: int) -> torch.Tensor:
        x = img.double().unsqueeze(0).repeat(T, 1, 1, 1, 1)
        depth = 1 + max(
            int(k.split('.')[1]) for k in self.sd if k.startswith('block.'))
        if layout == 'imagenet':
            x = self.sps(x, pools=(0, 1, 2, 3))
            for j in range(depth):
                x = self.spikformer_imagenet_block(x, f'block.{j}', h)
            x = x.flatten(3).mean(3)
        else:
            x = self.sps(x, pools=(2, 3)).flatten(-2).transpose(-1, -2)
            for j in range(depth):
                x = self.spikformer_cifar_block(x, f'block.{j}', h)
            x = x.mean(2)
        return self.linear(x.mean(0), 'head')


def spikedet_logits(converted, img: torch.Tensor, T: int) -> torch.Tensor:
    """Logits of the spikedet model loaded strictly with the converted
    weights (float64, eval mode)."""
    model = build_converted_model(converted, device='cpu')
    model.backbone.T = T
    model.load_state_dict(converted.state_dict, strict=True)
    model.double().eval()
    with torch.no_grad():
        return model.head(model.backbone(img.double()))


SMALL_DIMS = [16, 32, 64, 80]


# ---------------------------------------------------------------------------
# Full-size key tables
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('arch,dims,million', [
    ('15m', [64, 128, 256, 360], 15.11),
    ('31m', [96, 192, 384, 480], 31.33),
    ('55m', [128, 256, 512, 640], 55.35),
])
def test_sdtv2_full_size_tables(arch, dims, million):
    table = sdtv2_table(dims)
    # The key table reproduces the official models' parameter counts.
    assert round(num_params(table) / 1e6, 2) == million
    converted = convert_sdtv2({'model': meta_state_dict(table)})
    assert converted.arch == arch
    assert converted.num_params == num_params(table)
    assert converted.num_classes == 1000 and not converted.with_distill
    assert len(converted.state_dict) == len(table)
    # The distillation head of the released T=4 models.
    kd = convert_sdtv2(meta_state_dict(sdtv2_table(dims, kd=True)), arch)
    assert kd.with_distill
    assert kd.num_params == num_params(table) + 1000 * (dims[-1] + 1)


@pytest.mark.parametrize('arch,layout', [('8-384', 'imagenet'),
                                         ('8-512', 'imagenet'),
                                         ('10-512', 'imagenet'),
                                         ('8-768', 'imagenet'),
                                         ('4-384', 'cifar10')])
def test_spikformer_full_size_tables(arch, layout):
    settings = Spikformer.arch_zoo[arch]
    num_classes = 10 if layout == 'cifar10' else 1000
    table = spikformer_table(settings['embed_dims'], settings['depth'], layout,
                             num_classes)
    converted = convert_spikformer(meta_state_dict(table))
    assert converted.arch == arch
    norms = [k for k in table if '.norm1.' in k or '.norm2.' in k]
    assert sorted(converted.dropped_keys) == sorted(norms)
    assert converted.num_params == num_params(
        table) - 4 * settings['embed_dims'] * settings['depth']


# ---------------------------------------------------------------------------
# Converted model == official forward
# ---------------------------------------------------------------------------
@pytest.mark.parametrize('T,kd', [(1, False), (2, True)])
def test_sdtv2_logits_match_official(T, kd):
    sd = random_state_dict(sdtv2_table(SMALL_DIMS, 10, kd), seed=T)
    converted = convert_sdtv2({'model': sd})
    assert converted.arch == dict(
        embed_dims=SMALL_DIMS, depths=[1, 2, 6, 2], mlp_ratio=4, num_heads=8)
    assert converted.with_distill is kd
    img = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    official = Official(sd)
    expected = official.sdtv2(img, T)
    # The comparison is meaningful only if neurons neither stay silent nor
    # all fire: check the head's spikes and the overall activity.
    assert 0.05 < official.rates[-1] < 0.95
    assert min(official.rates) > 0  # every neuron layer fires
    assert 0.05 < sum(official.rates) / len(official.rates) < 0.95
    if kd:  # the eval average alone cannot tell head from head_kd
        assert torch.equal(converted.state_dict['head.fc_dist.weight'],
                           sd['head_kd.weight'])
    torch.testing.assert_close(
        spikedet_logits(converted, img, T), expected, rtol=1e-9, atol=1e-9)


def test_sdtv2_logit_check_catches_swapped_layers():
    """Swapping Q and K of one block before conversion changes the logits,
    so the comparison above would catch such a mapping mistake."""
    sd = random_state_dict(sdtv2_table(SMALL_DIMS, 10), seed=3)
    swapped = dict(sd)
    for k in sd:
        if k.startswith('block3.0.attn.q_conv.'):
            other = k.replace('q_conv', 'k_conv')
            swapped[k], swapped[other] = sd[other], sd[k]
    img = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    expected = Official(sd).sdtv2(img, 1)
    got = spikedet_logits(convert_sdtv2(swapped), img, 1)
    assert not torch.allclose(got, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('layout,dims,heads,T,size',
                         [('imagenet', 64, 8, 2, 64),
                          ('cifar10', 96, 12, 1, 32)])
def test_spikformer_logits_match_official(layout, dims, heads, T, size):
    sd = random_state_dict(spikformer_table(dims, 2, layout, 10), seed=5)
    converted = convert_spikformer({'state_dict': sd})
    assert converted.arch_settings['num_heads'] == heads
    assert converted.arch_settings['qkv_bias'] is (layout == 'cifar10')
    assert converted.arch_settings['patch_size'] == (16 if layout == 'imagenet'
                                                     else 4)
    assert any('norm1' in n for n in converted.notes)
    img = torch.randn(
        2, 3, size, size, generator=torch.Generator().manual_seed(1))
    official = Official(sd)
    expected = official.spikformer(img, T, layout, heads)
    assert min(official.rates) > 0  # every neuron layer fires
    assert 0.05 < sum(official.rates) / len(official.rates) < 0.95
    torch.testing.assert_close(
        spikedet_logits(converted, img, T), expected, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------------------
# Checkpoint containers, arch checks and errors
# ---------------------------------------------------------------------------
def test_checkpoint_containers():
    sd = meta_state_dict(sdtv2_table(SMALL_DIMS, 10))
    ref = convert_sdtv2(sd)
    ddp = {f'module.{k}': v for k, v in sd.items()}
    for ckpt in ({'model': sd, 'epoch': 3}, {'state_dict': ddp}, ddp):
        assert convert_sdtv2(ckpt).key_map == ref.key_map
    with pytest.raises(ConversionError, match='non-tensor'):
        convert_sdtv2({'epoch': 3, 'args': None})


def test_arch_option():
    sd = meta_state_dict(sdtv2_table([96, 192, 384, 480]))
    assert convert_sdtv2(sd, 'metaspikformer_8_384').arch == '31m'
    assert convert_sdtv2(sd, '31m').arch == '31m'
    with pytest.raises(ConversionError, match='embed_dims'):
        convert_sdtv2(sd, '55m')
    with pytest.raises(ConversionError, match='depth'):
        convert_spikformer(
            meta_state_dict(spikformer_table(384, 8, 'imagenet')), '4-384')


def test_wrong_model_is_named():
    spikformer = meta_state_dict(spikformer_table(64, 1, 'imagenet'))
    with pytest.raises(
            CheckpointMismatchError, match='spikformer_to_spikedet.py'):
        convert_sdtv2(spikformer)
    sdtv2 = meta_state_dict(sdtv2_table(SMALL_DIMS))
    with pytest.raises(CheckpointMismatchError, match='sdtv2_to_spikedet.py'):
        convert_spikformer(sdtv2)


def test_missing_unexpected_misshaped_keys_are_errors():
    sd = meta_state_dict(sdtv2_table(SMALL_DIMS, 10))
    missing = 'block3.2.attn.k_conv.0.body.1.bn.running_var'
    broken = {k: v for k, v in sd.items() if k != missing}
    with pytest.raises(CheckpointMismatchError) as e:
        convert_sdtv2(broken)
    assert missing in str(e.value)
    assert 'backbone.stages.2.2.attn.k.bn_pad.running_var' in str(e.value)

    broken = dict(sd, **{'block3.0.attn.gate.weight': torch.empty(3)})
    with pytest.raises(
            CheckpointMismatchError, match=r'block3\.0\.attn\.gate\.weight'):
        convert_sdtv2(broken)

    wrong = 'block4.1.mlp.fc1_conv.weight'
    broken = dict(sd, **{wrong: torch.empty(320, 81, 1, device='meta')})
    with pytest.raises(CheckpointMismatchError) as e:
        convert_sdtv2(broken)
    assert wrong in str(e.value) and 'mis-shaped' in str(e.value)


def test_spikformer_drops_only_unused_layernorms():
    sd = meta_state_dict(spikformer_table(64, 2, 'imagenet', 10))
    converted = convert_spikformer(sd)
    assert converted.dropped_keys == sorted(f'block.{j}.norm{n}.{leaf}'
                                            for j in range(2) for n in (1, 2)
                                            for leaf in ('weight', 'bias'))
    for extra in ('block.0.norm3.weight', 'block.1.norm1.running_mean',
                  'norm.weight'):
        with pytest.raises(CheckpointMismatchError, match=extra):
            convert_spikformer(dict(sd, **{extra: torch.empty(64)}))


# ---------------------------------------------------------------------------
# Files, CLI and loading into mmengine/mmpretrain models
# ---------------------------------------------------------------------------
def _official_file(tmp_path, sd, **extra):
    path = str(tmp_path / 'official.pth')
    torch.save(
        {
            'model': sd,
            'epoch': 299,
            'args': argparse.Namespace(model='metaspikformer_8_512'),
            **extra
        }, path)
    return path


def test_cli_writes_weights_only_checkpoint(tmp_path, capsys):
    sd = random_state_dict(sdtv2_table(SMALL_DIMS, 10, kd=True))
    src, dst = _official_file(tmp_path, sd), str(tmp_path / 'out.pth')
    assert run_cli('sdtv2', [src, dst]) == 0
    out = capsys.readouterr().out
    assert 'distill head: yes' in out and 'classes:      10' in out
    assert "prefix='backbone.'" in out
    ckpt = torch.load(dst, weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert all(
        k.startswith(('backbone.', 'head.')) for k in ckpt['state_dict'])
    assert ckpt['meta']['with_distill'] and ckpt['meta']['num_classes'] == 10
    assert torch.equal(ckpt['state_dict']['head.fc_dist.weight'],
                       sd['head_kd.weight'])

    # A bad checkpoint: error status, message, and nothing written.
    bad = str(tmp_path / 'bad.pth')
    torch.save(
        {
            'model': {
                k: v
                for k, v in sd.items() if k != 'ConvBlock2_2.0.bn2.weight'
            }
        }, bad)
    dst2 = tmp_path / 'out2.pth'
    assert run_cli('sdtv2', [bad, str(dst2)]) == 1
    assert 'ConvBlock2_2.0.bn2.weight' in capsys.readouterr().err
    assert not dst2.exists()


def test_untrusted_pickles_are_refused(tmp_path):
    sd = meta_state_dict(sdtv2_table(SMALL_DIMS, 10))
    sd = {k: torch.zeros(v.shape) for k, v in sd.items()}
    path = _official_file(tmp_path, sd, best=Fraction(1, 3))
    with pytest.raises(ConversionError, match='--trusted') as e:
        load_checkpoint_file(path, safe_types=[argparse.Namespace])
    assert 'fractions.Fraction' in str(e.value)
    with pytest.raises(ConversionError, match='argparse.Namespace'):
        load_checkpoint_file(path)  # not allowed unless asked for
    assert load_checkpoint_file(path, trusted=True)['best'] == Fraction(1, 3)
    with pytest.raises(ValueError, match='differ'):
        convert_file('sdtv2', path, path)


@pytest.mark.parametrize('kind', ['sdtv2', 'spikformer'])
def test_pretrained_init_cfg_loads_converted_file(tmp_path, kind):
    # Built as a detector/segmentor would (T and strides are free).
    if kind == 'sdtv2':
        sd = random_state_dict(sdtv2_table(SMALL_DIMS, 10))
        backbone_cls = partial(MetaSpikeFormer, T=2, last_stride=2)
    else:
        sd = random_state_dict(spikformer_table(64, 2, 'imagenet', 10))
        backbone_cls = partial(Spikformer, T=2)
    converted = convert_file(
        kind,
        _official_file(tmp_path, sd),
        str(tmp_path / 'converted.pth'),
        safe_types=[argparse.Namespace])
    path = str(tmp_path / 'converted.pth')

    def build(prefix):
        return backbone_cls(
            arch=converted.arch,
            init_cfg=dict(type='Pretrained', checkpoint=path, prefix=prefix))

    backbone = build('backbone.')
    backbone.init_weights()
    for k, v in backbone.state_dict().items():
        assert torch.equal(v, converted.state_dict[f'backbone.{k}']), k
    with pytest.raises(KeyError, match='prefix'):
        build('model.').init_weights()
    with pytest.raises(CheckpointMismatchError, match='unexpected'):
        build('').init_weights()


def test_mmpretrain_classifier_loads_converted_file(tmp_path):
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmpretrain.registry import MODELS

    init_default_scope('mmpretrain')
    sd = random_state_dict(sdtv2_table(SMALL_DIMS, 10, kd=True), seed=2)
    dst = str(tmp_path / 'converted.pth')
    converted = convert_file(
        'sdtv2',
        _official_file(tmp_path, sd),
        dst,
        safe_types=[argparse.Namespace])
    model = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=converted.backbone_cfg(keep_time=True),
            head=converted.head_cfg()))
    load_checkpoint(model, dst, map_location='cpu', strict=True)
    img = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    model.double().eval()
    with torch.no_grad():
        logits = model(img.double(), mode='tensor')
    torch.testing.assert_close(
        logits, Official(sd).sdtv2(img, 1), rtol=1e-9, atol=1e-9)


CLS_CONFIGS = find_configs(ROOT, 'configs/*spikeformer/*.py',
                           'configs/spikformer/*.py')


@pytest.mark.parametrize(
    'config', CLS_CONFIGS, ids=[osp.basename(c) for c in CLS_CONFIGS])
def test_converted_official_weights_fit_classification_configs(config):
    """What the README promises: convert, then tools/test.py CONFIG FILE.
    The official layout of each config's model converts to exactly the
    config model's keys and shapes (shapes only, built on 'meta')."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    from spikedet.utils.state_dict import check_state_dict

    cfg = Config.fromfile(config)
    if 'teacher' in cfg.model:  # evaluation needs no teacher
        cfg.model.teacher = None
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    backbone, head = model.backbone, model.head
    arch = backbone.arch_settings
    if isinstance(backbone, MetaSpikeFormer):
        assert arch['depths'] == [1, 2, 6, 2]  # fixed in the official code
        table = sdtv2_table(arch['embed_dims'], head.num_classes,
                            head.with_distill, backbone.in_channels)
        converted = convert_sdtv2(meta_state_dict(table))
    else:
        layout = 'imagenet' if arch['patch_size'] == 16 else 'cifar10'
        table = spikformer_table(arch['embed_dims'], arch['depth'], layout,
                                 head.num_classes, backbone.in_channels)
        converted = convert_spikformer(meta_state_dict(table))
    assert converted.arch_settings == arch
    assert converted.spike_before_fc == (head.lif is not None)
    check_state_dict(model, converted.state_dict)
