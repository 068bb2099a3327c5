import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from spikedet.models.decode_heads import SpikingFPNHead
from spikedet.models.decode_heads.spiking_fpn_head import SpikingConvUnit
from spikedet.registry import MODELS

STRIDES = [4, 8, 16, 32]


def make_head(**kwargs):
    cfg = dict(
        in_channels=[8, 8, 8, 8],
        in_index=[0, 1, 2, 3],
        feature_strides=STRIDES,
        channels=6,
        num_classes=5,
        norm_cfg=dict(type='BN', requires_grad=True))
    cfg.update(kwargs)
    return SpikingFPNHead(**cfg)


def feats(B=2, T=None, size=32, C=8, scale=3.):
    shape = [] if T is None else [T]
    return [
        torch.randn(*shape, B, C, size // s, size // s) * scale
        for s in STRIDES
    ]


def test_structure_matches_semantic_fpn():
    head = make_head()
    # One spiking conv per 2x upsampling step (at least one per level).
    assert [len(h) for h in head.scale_heads] == [1, 1, 2, 3]
    assert [u.upsample for u in head.scale_heads[0]] == [False]
    assert all(u.upsample for h in head.scale_heads[1:] for u in h)
    for h in head.scale_heads:
        for unit in h:
            assert isinstance(unit, SpikingConvUnit)
            # LIF -> conv -> norm: the LIF is the nonlinearity.
            assert [n for n, _ in unit.named_children()
                    ] == ['lif', 'conv', 'bn']


@pytest.mark.parametrize('T', [None, 1, 3])
def test_forward_shapes(T):
    head = make_head().eval()
    out = head(feats(B=2, T=T))
    assert out.shape == (2, 5, 8, 8)  # finest level's resolution
    assert torch.isfinite(out).all()


def test_single_step_equals_aggregated_input():
    head = make_head().eval()
    x = feats(B=1)
    torch.testing.assert_close(head(x), head([f.unsqueeze(0) for f in x]))


def test_convs_and_classifier_read_spikes():
    head = make_head().eval()
    seen = []

    def check(module, args):
        seen.append(module)
        values = torch.unique(args[0])
        assert set(values.tolist()) <= {0., 1.}, values

    for h in head.scale_heads:
        for unit in h:
            unit.conv.register_forward_pre_hook(check)
    head.conv_seg.register_forward_pre_hook(check)
    head(feats(B=1, T=2))
    assert len(seen) == 1 + 1 + 2 + 3 + 1


def test_uses_every_time_step():
    head = make_head().eval()
    x = feats(B=1, T=2)
    y = [f.clone() for f in x]
    for f in y:
        f[1] = -f[1]  # change only the second step
    assert not torch.allclose(head(x), head(y))


def test_loss_and_backward():
    # A low threshold makes every neuron fire on these small random maps.
    head = make_head(neuron_cfg=dict(v_threshold=0.3))
    x = [f.requires_grad_() for f in feats(B=2, T=2, size=64)]
    samples = []
    for _ in range(2):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, 64, 64)))
        s.set_metainfo(dict(img_shape=(64, 64), pad_shape=(64, 64)))
        samples.append(s)
    losses = head.loss(x, samples, dict())
    assert set(losses) == {'loss_ce', 'acc_seg'}
    assert torch.isfinite(losses['loss_ce'])
    losses['loss_ce'].backward()
    # Surrogate gradients reach every level's input and every conv.
    for f in x:
        assert f.grad is not None and f.grad.abs().sum() > 0
    for h in head.scale_heads:
        for unit in h:
            assert unit.conv.weight.grad.abs().sum() > 0


def test_registry():
    head = MODELS.build(
        dict(
            type='spikedet.SpikingFPNHead',
            in_channels=[4, 4],
            in_index=[0, 1],
            feature_strides=[4, 8],
            channels=4,
            num_classes=3))
    assert isinstance(head, SpikingFPNHead)
    from mmseg.registry import MODELS as MMSEG_MODELS
    assert MMSEG_MODELS.get('spikedet.SpikingFPNHead') is SpikingFPNHead
    assert MMSEG_MODELS.get('SpikingFPNHead') is None  # registered once


def test_neuron_cfg_reaches_every_neuron():
    head = make_head(neuron_cfg=dict(v_threshold=0.5))
    neurons = [
        m for m in head.modules() if type(m).__name__ == 'SpikingNeuron'
    ]
    assert len(neurons) == 1 + 1 + 2 + 3 + 1
    assert all(n.v_threshold == 0.5 for n in neurons)


@pytest.mark.parametrize('kwargs, match', [
    (dict(act_cfg=dict(type='ReLU')), 'act_cfg=None'),
    (dict(input_transform='resize_concat'), 'multiple_select'),
    (dict(feature_strides=[4, 8, 16]), 'one entry per input level'),
    (dict(feature_strides=[4, 8, 12, 32]), 'powers of two'),
    (dict(feature_strides=[8, 4, 16, 32]), 'powers of two'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_head(**kwargs)


def test_bad_inputs():
    head = make_head().eval()
    x = feats(B=1, T=2)
    with pytest.raises(ValueError, match='every level'):
        head([x[0][0]] + x[1:])
    y = list(x)
    y[2] = y[2][:1]
    with pytest.raises(ValueError, match='time steps and batch size'):
        head(y)
    with pytest.raises(ValueError, match='channels'):
        head(feats(B=1, T=2, C=4))
    with pytest.raises(ValueError, match='levels'):
        head(x[:3])
    with pytest.raises(TypeError, match='list/tuple'):
        head(x[0])
