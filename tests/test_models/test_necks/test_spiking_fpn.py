import pytest
import torch

from spikedet.models.necks import SpikingFPN
from spikedet.models.spiking import SpikingNeuron

IN_CHANNELS = [4, 6, 8, 10]
SIZE = 32  # level i has stride 2**i relative to level 0


def _feats(T=2, B=2, channels=IN_CHANNELS, size=SIZE):
    return [
        torch.randn(T, B, c, size // 2**i, size // 2**i) * 2
        for i, c in enumerate(channels)
    ]


@pytest.mark.parametrize('T', [1, 2])
@pytest.mark.parametrize('add_extra_convs',
                         [False, 'on_input', 'on_lateral', 'on_output'])
def test_shapes_and_extra_levels(T, add_extra_convs):
    neck = SpikingFPN(
        IN_CHANNELS, 12, num_outs=6, T=T, add_extra_convs=add_extra_convs)
    neck.init_weights()
    outs = neck(_feats(T=T))
    assert len(outs) == 6
    for i, out in enumerate(outs):
        side = max(SIZE // 2**i, 1)
        assert out.shape == (2, 12, side, side)
    n_extra_convs = 2 if add_extra_convs else 0
    assert len(neck.fpn_convs) == 4 + n_extra_convs
    if add_extra_convs == 'on_input':
        assert neck.fpn_convs[4].conv.in_channels == IN_CHANNELS[-1]


def test_start_end_level():
    neck = SpikingFPN(
        IN_CHANNELS, 8, num_outs=2, T=1, start_level=1, end_level=2)
    outs = neck(_feats(T=1))
    assert [o.shape[-1] for o in outs] == [SIZE // 2, SIZE // 4]
    with pytest.raises(ValueError, match='no extra level'):
        SpikingFPN(IN_CHANNELS, 8, num_outs=3, T=1, start_level=1, end_level=2)
    with pytest.raises(ValueError, match='num_outs'):
        SpikingFPN(IN_CHANNELS, 8, num_outs=3, T=1)


def test_layers_are_spiking_and_stateless():
    neck = SpikingFPN(IN_CHANNELS, 8, num_outs=5, T=2).eval()
    neurons = [m for m in neck.modules() if isinstance(m, SpikingNeuron)]
    # one LIF in front of each lateral and each output conv
    assert len(neurons) == 2 * len(IN_CHANNELS)
    feats = _feats()
    with torch.no_grad():
        a = neck(feats)
        b = neck(feats)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y)


def test_time_aggregation_modes():
    feats = _feats(T=2)
    torch.manual_seed(0)
    mean = SpikingFPN(IN_CHANNELS, 8, 4, T=2, time_aggregation='mean').eval()
    torch.manual_seed(0)
    summed = SpikingFPN(IN_CHANNELS, 8, 4, T=2, time_aggregation='sum').eval()
    with torch.no_grad():
        for m, s in zip(mean(feats), summed(feats)):
            torch.testing.assert_close(s, 2 * m)
    learn = SpikingFPN(
        IN_CHANNELS,
        8,
        5,
        T=2,
        time_aggregation='learnable',
        add_extra_convs='on_output')
    assert learn.aggregate.time_logits.shape == (5, 2)
    sum(o.sum() for o in learn(feats)).backward()
    assert learn.aggregate.time_logits.grad is not None


def test_gradients_reach_every_conv():
    neck = SpikingFPN(
        IN_CHANNELS, 8, num_outs=5, T=2, add_extra_convs='on_input')
    feats = [f.requires_grad_() for f in _feats()]
    sum(o.pow(2).sum() for o in neck(feats)).backward()
    for name, p in neck.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert all(f.grad is not None for f in feats)


def test_top_down_path_carries_coarse_information():
    """Changing only the coarsest input changes the finest output."""
    neck = SpikingFPN(IN_CHANNELS, 8, num_outs=4, T=1).eval()
    feats = _feats(T=1)
    feats2 = list(feats)
    feats2[-1] = feats[-1] + 5
    with torch.no_grad():
        assert not torch.allclose(neck(feats)[0], neck(feats2)[0])


def test_bad_inputs():
    neck = SpikingFPN(IN_CHANNELS, 8, num_outs=5, T=2)
    with pytest.raises(ValueError, match='T=2 but level 0 carries 4'):
        neck(_feats(T=4))
    with pytest.raises(ValueError, match='level 2 has 9 channels'):
        neck(_feats(channels=[4, 6, 9, 10]))
    with pytest.raises(ValueError, match='keep_time=True'):
        neck([f.mean(0) for f in _feats()])
    with pytest.raises(ValueError, match='4 input levels'):
        neck(_feats()[:3])


def test_bad_config():
    with pytest.raises(ValueError, match='add_extra_convs'):
        SpikingFPN(IN_CHANNELS, 8, 5, T=1, add_extra_convs='on_top')
    with pytest.raises(ValueError, match='Unknown time aggregation'):
        SpikingFPN(IN_CHANNELS, 8, 5, T=1, time_aggregation='max')
    with pytest.raises(TypeError, match='in_channels'):
        SpikingFPN(64, 8, 5, T=1)
    with pytest.raises(ValueError, match='positive int'):
        SpikingFPN(IN_CHANNELS, 8, 5, T=0)
