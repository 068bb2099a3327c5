import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from spikedet.analysis import OpCounter, classify_input
from spikedet.models.spiking import build_neuron, seq_apply
from .toy_models import ToySNN, toy_counts


def test_classify_input():
    assert classify_input(torch.tensor([0., 1., 1., 0.])) == ('spike', 2., 4)
    assert classify_input(torch.zeros(3)) == ('spike', 0., 3)
    assert classify_input(torch.tensor([0., 2., 1., 0.])) == \
        ('integer', 3., 4)
    assert classify_input(torch.tensor([0., -1.]))[0] == 'integer'
    assert classify_input(torch.tensor([0.5, 1.]))[0] == 'real'
    # Raw 8-bit pixels are integers but not spike counts.
    assert classify_input(torch.tensor([0., 3., 255.]))[0] == 'real'
    assert classify_input(torch.tensor([0, 3, 64]))[0] == 'integer'
    assert classify_input(torch.tensor([True, False])) == ('spike', 1., 2)


def _count(model, x, batch_size=None, **kwargs):
    counter = OpCounter(model, **kwargs)
    with counter, torch.no_grad():
        counter.set_batch_size(batch_size or x.shape[0])
        model(x)
    return counter


@pytest.mark.parametrize('fire', [True, False])
def test_toy_snn_hand_counts(fire):
    B, T, H, W = 2, 2, 4, 5
    counter = _count(
        ToySNN(T, fire).eval(), torch.rand(B, 3, H, W), num_steps=T)
    rec = counter.records
    assert list(rec) == ['enc', 'conv', 'matmul0', 'matmul1', 'fc']
    want = toy_counts(B, T, H, W, 1. if fire else 0.)
    assert sum(r.macs for r in rec.values()) == B * want['macs']
    assert sum(r.sops for r in rec.values()) == B * want['sops']
    assert sum(r.flops for r in rec.values()) == B * want['flops']
    assert rec['enc'].kinds == {'real'} and rec['enc'].repeated
    assert rec['conv'].kinds == {'spike'}
    assert rec['conv'].in_rate == (1. if fire else 0.)
    assert rec['matmul1'].op == 'matmul'
    unc = counter.uncounted()
    assert not [u for u in unc if u['warn']]
    assert sorted(u['name'] for u in unc) == ['lif1', 'lif2']


def test_macs_match_torch_flop_counter():
    """MACs of conv, grouped/transposed conv, conv1d and linear layers agree
    with torch's own FLOP counter (which counts 2 FLOPs per MAC)."""
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1),
        nn.Conv2d(8, 8, 5, padding=2, groups=4, bias=False),
        nn.ConvTranspose2d(8, 6, 2, stride=2), nn.Flatten(2),
        nn.Conv1d(6, 4, 3), nn.Flatten(1), nn.LazyLinear(7))
    x = torch.rand(3, 3, 16, 12)
    model(x)  # materialise the lazy linear
    counter = _count(model, x)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(x)
    assert sum(r.macs for r in counter.records.values()) * 2 == \
        fc.get_total_flops()
    # And each layer against the closed form.
    conv = counter.records['0']
    assert conv.macs == 3 * 8 * 8 * 6 * 3 * 9
    assert counter.records['1'].macs == 3 * 8 * 8 * 6 * 2 * 25
    assert counter.records['2'].macs == 3 * 8 * 8 * 6 * 6 * 4  # in x C_out
    assert counter.records['4'].macs == 3 * 4 * 190 * 6 * 3
    assert counter.records['6'].macs == 3 * 7 * 760


class _Chain(nn.Module):
    """neuron -> 1x1 conv -> BN -> pad -> depthwise 3x3 -> 1x1 conv."""

    def __init__(self):
        super().__init__()
        self.lif = build_neuron(dict(type='IF'))
        self.conv1 = nn.Conv2d(4, 4, 1, bias=False)
        self.bn = nn.BatchNorm2d(4).eval()
        self.dw = nn.Conv2d(4, 4, 3, groups=4, bias=False)
        self.pw = nn.Conv2d(4, 6, 1, bias=False)

    def forward(self, x):
        s = self.lif(x)
        y = seq_apply(lambda t: self.bn(self.conv1(t)), s)
        y = seq_apply(
            lambda t: self.pw(self.dw(nn.functional.pad(t, [1] * 4) * 2.)), y)
        return y


def test_spike_chain():
    torch.manual_seed(0)
    x = torch.zeros(2, 1, 4, 3, 3)  # [T, B, C, H, W]
    x[0, :, :2] = 2.  # half of the channels fire at each step
    x[1, :, 2:] = 2.
    chain = _count(_Chain(), x, batch_size=1, num_steps=2)
    rec = chain.records
    assert rec['conv1'].kinds == {'spike'} and rec['conv1'].in_rate == 0.5
    for name in ('dw', 'pw'):
        assert rec[name].kinds == {'spike-chain'}
        assert rec[name].in_rate == 0.5
        assert rec[name].sops == rec[name].macs * 0.5
        assert rec[name].flops == 0
    plain = _count(_Chain(), x, batch_size=1, num_steps=2, chain=False)
    for name in ('dw', 'pw'):
        assert plain.records[name].kinds == {'real'}
        assert plain.records[name].sops == 0
        assert plain.records[name].flops == rec[name].macs


class _Two(nn.Module):
    """A spike-fed conv in one block, a conv of another block on its
    (linear, real-valued) output: not a chain, the second is a MAC layer."""

    def __init__(self):
        super().__init__()
        self.a = _Chain()
        self.b = nn.Sequential(nn.Conv2d(6, 2, 1))

    def forward(self, x):
        return seq_apply(self.b, self.a(x))


def test_spike_chain_stays_inside_a_block():
    x = torch.zeros(2, 1, 4, 3, 3)
    x[:, :, :1] = 2.
    rec = _count(_Two(), x, batch_size=1, num_steps=2).records
    assert rec['a.pw'].kinds == {'spike-chain'}
    assert rec['b.0'].kinds == {'real'} and rec['b.0'].sops == 0


def test_integer_input_counts_values():
    lin = nn.Linear(4, 3)

    class Sum(nn.Module):

        def __init__(self):
            super().__init__()
            self.lin = lin

        def forward(self, s):
            return self.lin(s + s)  # values {0, 2}

    s = torch.tensor([[1., 0., 1., 0.]])
    rec = _count(Sum(), s).records['lin']
    assert rec.kinds == {'integer'}
    assert rec.in_rate == 1.0  # mean |x| = (2 + 2) / 4
    assert rec.sops == 3 * 4 * 1.0


class _Odd(nn.Module):

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(4))

    def forward(self, x):
        return torch.einsum('bc,c->bc', x, self.scale) * self.scale


def test_uncounted_is_reported():
    model = nn.Sequential(
        nn.Linear(4, 4), nn.ReLU(), _Odd(),
        nn.BatchNorm1d(4).eval())
    counter = _count(model, torch.rand(2, 4))
    unc = {
        u['name']: u
        for u in counter.uncounted() if not u['type'].startswith('function')
    }
    assert not unc['1']['warn'] and 'activation' in unc['1']['reason']
    assert not unc['3']['warn'] and 'normalization' in unc['3']['reason']
    assert unc['2']['warn'] and 'HAS PARAMETERS' in unc['2']['reason']
    einsum = [u for u in counter.uncounted() if u['type'] == 'function:einsum']
    assert len(einsum) == 1 and einsum[0]['warn'] and einsum[0]['name'] == '2'
    assert '0' not in unc  # counted


def test_scope_and_not_repeated_frames():
    model = ToySNN(T=2).eval()
    counter = _count(model, torch.rand(1, 3, 4, 4), num_steps=2, scope='conv')
    assert list(counter.records) == ['conv']
    # An input that differs per step ([B, T, C, H, W]) is not de-duplicated.
    frames = torch.rand(1, 2, 3, 4, 4)
    counter = _count(model, frames, num_steps=2)
    assert not counter.records['enc'].repeated
    assert counter.records['enc'].flops == counter.records['enc'].macs
