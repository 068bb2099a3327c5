"""Spikes saved compactly for backward: same gradients as plain layers."""
import copy

import pytest
import torch
import torch.nn as nn

from spikedet.models.backbones import MetaSpikeFormer
from spikedet.models.spiking import (SpikingConvModule, build_neuron, compact,
                                     seq_apply)
from spikedet.models.spiking.compact import (compact_spikes,
                                             compact_spikes_enabled, is_marked)


def layers(dtype):
    torch.manual_seed(0)
    return (build_neuron(dict(backend='fused')).to(dtype),
            nn.Conv2d(4, 6, 3, padding=1).to(dtype),
            nn.Conv2d(4, 4, 7, padding=3, groups=4, bias=False).to(dtype))


def grads(lif, conv, dw, x, enabled):
    x = x.clone().requires_grad_(True)
    for p in (*conv.parameters(), *dw.parameters()):
        p.grad = None
    with compact_spikes(enabled) as packer:
        s = lif(x)
        y = seq_apply(conv, s)
        # A second conv on the same spikes, and a matmul on views of them.
        z = seq_apply(dw, s)
        a = s.flatten(3) @ s.flatten(3).transpose(-1, -2)
        loss = (y * y).sum() + z.sum() + a.sum()
    loss.backward()
    return packer, [x.grad, conv.weight.grad, conv.bias.grad, dw.weight.grad]


@pytest.mark.parametrize('dtype', (torch.float32, torch.float64))
def test_compact_spikes_same_gradients_as_plain_layers(dtype):
    lif, conv, dw = layers(dtype)
    x = torch.randn(3, 2, 4, 9, 9, dtype=dtype) * 2
    packer, compact_grads = grads(lif, conv, dw, x, True)
    none, plain_grads = grads(lif, conv, dw, x, False)
    assert none is None
    # Both convs read the same view (stored once), the matmul two views.
    assert packer.num_packed == 3
    assert packer.numel_packed == 3 * x.numel()
    for a, b in zip(compact_grads, plain_grads):
        assert torch.equal(a, b)


def test_compact_spikes_only_touches_fused_spikes():
    x = torch.randn(2, 2, 4, 5, 5, requires_grad=True)
    conv = nn.Conv2d(4, 4, 1)
    with compact_spikes() as packer:
        # spikingjelly's torch backend: not tagged, saved as is.
        s = build_neuron(dict(backend='torch'))(x)
        seq_apply(conv, s).sum().backward()
        seq_apply(conv, x).sum().backward()
    assert not is_marked(s) and packer.num_packed == 0
    with torch.no_grad():
        assert not is_marked(build_neuron()(x))
    # Spikes of an input without gradient are tagged too (a conv with
    # trainable weights saves them all the same).
    assert is_marked(build_neuron()(x.detach()))
    with compact_spikes_enabled(False), compact_spikes() as packer:
        assert packer is None


def test_compact_spikes_in_backbone_and_conv_module(monkeypatch):
    counts = []
    pack = compact._Packer.pack

    def counting_pack(self, t):
        out = pack(self, t)
        counts.append(out is not t)
        return out

    monkeypatch.setattr(compact._Packer, 'pack', counting_pack)
    torch.manual_seed(0)
    model = MetaSpikeFormer(
        arch=dict(embed_dims=[8, 16, 16, 16], depths=[1, 1, 1, 1]), T=2)
    x = torch.randn(1, 3, 32, 32)
    results = []
    for enabled in (True, False):
        counts.clear()
        # A fresh copy: the forward updates the BN statistics.
        m = copy.deepcopy(model)
        with compact_spikes_enabled(enabled):
            sum(o.square().sum() for o in m(x)).backward()
        results.append([p.grad for p in m.parameters()])
        assert (sum(counts) > 20) == enabled
    for a, b in zip(*results):
        assert torch.equal(a, b)
    unit = SpikingConvModule(4, 4, 3)
    counts.clear()
    unit(torch.randn(2, 1, 4, 6, 6)).sum().backward()
    assert sum(counts) == 1
