"""Spiking RPN and RetinaNet heads: shapes, time checks, gradients, and
equality at T=1 with the same layers written out by hand."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from spikedet.models.dense_heads import SpikingRetinaHead, SpikingRPNHead
from spikedet.models.spiking import SpikingNeuron

C = 8
SIZES = (16, 8)  # two levels, strides 4 and 8 of a 64x64 image
ANCHORS = dict(
    type='AnchorGenerator', scales=[8], ratios=[0.5, 1.0, 2.0], strides=[4, 8])
RETINA_ANCHORS = dict(
    type='AnchorGenerator',
    octave_base_scale=4,
    scales_per_octave=1,
    ratios=[1.0],
    strides=[4, 8])


def train_cfg(pos, neg, sampler):
    return ConfigDict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=pos,
            neg_iou_thr=neg,
            min_pos_iou=0,
            ignore_iof_thr=-1),
        sampler=sampler,
        allowed_border=-1,
        pos_weight=-1,
        debug=False)


def rpn(T, **kw):
    return SpikingRPNHead(
        in_channels=C,
        feat_channels=C,
        T=T,
        anchor_generator=ANCHORS,
        train_cfg=train_cfg(
            0.7, 0.3,
            dict(
                type='RandomSampler',
                num=64,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False)),
        **kw)


def retina(T, **kw):
    return SpikingRetinaHead(
        num_classes=3,
        in_channels=C,
        feat_channels=C,
        T=T,
        stacked_convs=2,
        anchor_generator=RETINA_ANCHORS,
        train_cfg=train_cfg(0.5, 0.4, dict(type='PseudoSampler')),
        **kw)


def maps(T, B=2, scale=4.):
    torch.manual_seed(0)
    return [torch.randn(T, B, C, s, s) * scale for s in SIZES]


def conv_of(unit):
    """The Conv2d of a SpikingConvModule (direct or inside a ConvModule)."""
    return getattr(unit.conv, 'conv', unit.conv)


def spike(x):
    """The LIF at T=1 (tau 2, threshold 1, reset 0): v = x / 2 >= 1."""
    return (x >= 2).to(x.dtype)


@pytest.mark.parametrize('T', [1, 3])
@pytest.mark.parametrize('build', [rpn, retina])
def test_shapes_and_spiking_layers(T, build):
    head = build(T)
    head.init_weights()
    cls, reg = head(maps(T))
    A = head.num_base_priors
    for lvl, s in enumerate(SIZES):
        assert cls[lvl].shape == (2, A * head.cls_out_channels, s, s)
        assert reg[lvl].shape == (2, A * 4, s, s)
    # Every conv reads spikes: record the inputs of all convs.
    inputs = []
    hooks = [
        m.register_forward_pre_hook(lambda m, a: inputs.append(a[0]))
        for m in head.modules() if isinstance(m, torch.nn.Conv2d)
    ]
    head(maps(T))
    for h in hooks:
        h.remove()
    assert inputs and all(
        torch.isin(x, torch.tensor([0., 1.])).all() for x in inputs)
    assert any(isinstance(m, SpikingNeuron) for m in head.modules())


@pytest.mark.parametrize('build', [rpn, retina])
def test_wrong_time_steps_or_no_time_axis(build):
    head = build(2)
    with pytest.raises(ValueError, match=r'built with T=2.*carries 3 time'):
        head(maps(3))
    with pytest.raises(ValueError, match=r'no time axis.*time_aggregation'):
        head([m[0] for m in maps(2)])
    with pytest.raises(ValueError, match='positive int'):
        build(0)


@pytest.mark.parametrize('build', [rpn, retina])
def test_gradients_reach_every_layer_and_the_input(build):
    head = build(2)
    with torch.no_grad():  # weights that make every neuron fire
        for p in head.parameters():
            p.normal_(0, 0.5)
    x = [m.requires_grad_() for m in maps(2)]
    cls, reg = head(x)
    gt = InstanceData(
        bboxes=torch.tensor([[4., 4., 30., 40.], [20., 10., 60., 50.]]),
        labels=torch.tensor([0, 0 if build is rpn else 2]))
    metas = [dict(img_shape=(64, 64), pad_shape=(64, 64))] * 2
    losses = head.loss_by_feat(cls, reg, [gt, gt], metas)
    total = sum(v if torch.is_tensor(v) else sum(v) for v in losses.values())
    total.backward()
    for name, p in head.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert all(m.grad.abs().sum() > 0 for m in x)


def test_rpn_equals_hand_built_layers_at_t1():
    head = rpn(1, num_convs=2).double()
    head.init_weights()
    with torch.no_grad():  # weights that make the neurons fire
        for p in head.parameters():
            p.normal_(0, 0.5)
    x = [m.double() for m in maps(1)]
    cls, reg = head(x)
    c0, c1 = conv_of(head.rpn_conv[0]), conv_of(head.rpn_conv[1])
    for lvl, m in enumerate(x):
        h = F.conv2d(spike(m[0]), c0.weight, c0.bias, padding=1)
        h = F.conv2d(spike(h), c1.weight, c1.bias, padding=1)
        s = spike(h)
        assert 0 < s.mean() < 1
        torch.testing.assert_close(
            cls[lvl], F.conv2d(s, head.rpn_cls.weight, head.rpn_cls.bias))
        torch.testing.assert_close(
            reg[lvl], F.conv2d(s, head.rpn_reg.weight, head.rpn_reg.bias))


def test_retina_equals_hand_built_layers_at_t1():
    head = retina(1).double()
    with torch.no_grad():
        for p in head.parameters():
            p.normal_(0, 0.5)
    x = [m.double() for m in maps(1)]
    cls, reg = head(x)

    def branch(m, convs, pred):
        for conv in convs:
            c = conv_of(conv)
            m = F.conv2d(spike(m), c.weight, c.bias, padding=1)
        return F.conv2d(spike(m), pred.weight, pred.bias, padding=1)

    for lvl, m in enumerate(x):
        torch.testing.assert_close(
            cls[lvl], branch(m[0], head.cls_convs, head.retina_cls))
        torch.testing.assert_close(
            reg[lvl], branch(m[0], head.reg_convs, head.retina_reg))


def test_time_steps_are_averaged():
    """T=2 with the same map twice: LIF dynamics differ per step, the
    output is the mean of the per-step predictor outputs."""
    head = rpn(2).double()
    with torch.no_grad():
        for p in head.parameters():
            p.normal_(0, 0.5)
    x = [m.double() for m in maps(2)]
    cls, _ = head(x)
    s = head.rpn_lif(head.rpn_conv(x[0]))
    per_step = [
        F.conv2d(s[t], head.rpn_cls.weight, head.rpn_cls.bias)
        for t in range(2)
    ]
    torch.testing.assert_close(cls[0], (per_step[0] + per_step[1]) / 2)


@pytest.mark.parametrize('add_extra_convs', [False, 'on_input'])
def test_spiking_fpn_keeps_the_time_axis_for_spiking_heads(add_extra_convs):
    """SpikingFPN(time_aggregation=None) hands every level time-major to
    the heads; averaging them over T gives the 'mean' neck's outputs."""
    from spikedet.models.necks import SpikingFPN
    kw = dict(
        in_channels=[4, 6],
        out_channels=C,
        num_outs=4,
        T=3,
        add_extra_convs=add_extra_convs)
    torch.manual_seed(0)
    keep = SpikingFPN(time_aggregation=None, **kw).eval()
    mean = SpikingFPN(time_aggregation='mean', **kw).eval()
    mean.load_state_dict(keep.state_dict())
    feats = [
        torch.randn(3, 2, c, 16 // 2**i, 16 // 2**i) * 4
        for i, c in enumerate([4, 6])
    ]
    with torch.no_grad():
        outs, ref = keep(feats), mean(feats)
    assert len(outs) == 4
    for i, (o, r) in enumerate(zip(outs, ref)):
        assert o.shape == (3, 2, C, 16 // 2**i, 16 // 2**i)
        torch.testing.assert_close(o.mean(0), r)
    cls, reg = rpn(3)(list(outs[:2]))  # the heads take them as they are
    assert cls[0].shape[:2] == (2, 3)
