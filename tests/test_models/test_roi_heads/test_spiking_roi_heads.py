"""Spiking RoI heads and their bbox/mask heads: RoIAlign per time step,
shapes, time checks, gradients, losses and predictions through mmdet, and
equality at T=1 with the same layers written out by hand."""
import pytest
import torch
import torch.nn.functional as F
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import ConfigDict
from mmengine.structures import InstanceData

from spikedet.models.roi_heads import (SpikingCascadeRoIHead,
                                       SpikingShared2FCBBoxHead,
                                       SpikingStandardRoIHead)
from spikedet.models.roi_heads.mask_heads import SpikingFCNMaskHead

C = 8
NUM_CLASSES = 3
STRIDES = [4, 8]
IMG = 64


def extractor(size):
    return dict(
        type='SingleRoIExtractor',
        roi_layer=dict(type='RoIAlign', output_size=size, sampling_ratio=0),
        out_channels=C,
        featmap_strides=STRIDES)


def bbox_head(**kw):
    cfg = dict(
        type='spikedet.SpikingShared2FCBBoxHead',
        in_channels=C,
        fc_out_channels=16,
        roi_feat_size=7,
        num_classes=NUM_CLASSES,
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0., 0., 0., 0.],
            target_stds=[0.1, 0.1, 0.2, 0.2]),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0))
    cfg.update(kw)
    return cfg


def mask_head(**kw):
    cfg = dict(
        type='spikedet.SpikingFCNMaskHead',
        num_convs=2,
        in_channels=C,
        conv_out_channels=C,
        num_classes=NUM_CLASSES)
    cfg.update(kw)
    return cfg


RCNN_TRAIN = dict(
    assigner=dict(
        type='MaxIoUAssigner',
        pos_iou_thr=0.5,
        neg_iou_thr=0.5,
        min_pos_iou=0.5,
        match_low_quality=True,
        ignore_iof_thr=-1),
    sampler=dict(
        type='RandomSampler',
        num=32,
        pos_fraction=0.25,
        neg_pos_ub=-1,
        add_gt_as_proposals=True),
    mask_size=28,
    pos_weight=-1,
    debug=False)
RCNN_TEST = dict(
    score_thr=0.0,
    nms=dict(type='nms', iou_threshold=0.5),
    max_per_img=10,
    mask_thr_binary=0.5)


def standard(T, **kw):
    cfg = dict(
        T=T,
        bbox_roi_extractor=extractor(7),
        bbox_head=bbox_head(),
        mask_roi_extractor=extractor(14),
        mask_head=mask_head(),
        train_cfg=ConfigDict(RCNN_TRAIN),
        test_cfg=ConfigDict(RCNN_TEST))
    cfg.update(kw)
    return SpikingStandardRoIHead(**cfg)


def cascade(T):
    return SpikingCascadeRoIHead(
        T=T,
        num_stages=2,
        stage_loss_weights=[1, 0.5],
        bbox_roi_extractor=extractor(7),
        bbox_head=[bbox_head(), bbox_head()],
        mask_roi_extractor=extractor(14),
        mask_head=mask_head(),
        train_cfg=[ConfigDict(RCNN_TRAIN)] * 2,
        test_cfg=ConfigDict(RCNN_TEST))


def maps(T, B=2, grad=False):
    torch.manual_seed(0)
    return [(torch.randn(T, B, C, IMG // s, IMG // s) * 4).requires_grad_(grad)
            for s in STRIDES]


def samples(B=2):
    out = []
    for i in range(B):
        s = DetDataSample(
            metainfo=dict(
                img_shape=(IMG, IMG),
                ori_shape=(IMG, IMG),
                pad_shape=(IMG, IMG),
                scale_factor=(1., 1.)))
        masks = torch.zeros(2, IMG, IMG, dtype=torch.uint8)
        masks[0, 4:40, 4:30] = 1
        masks[1, 10:50, 20:60] = 1
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[4., 4., 30., 40.], [20., 10., 60., 50.]]),
            labels=torch.tensor([i % NUM_CLASSES, 2]),
            masks=BitmapMasks(masks.numpy(), IMG, IMG))
        out.append(s)
    return out


def proposals(B=2, n=20):
    torch.manual_seed(1)
    out = []
    for _ in range(B):
        xy = torch.rand(n, 2) * 40
        wh = torch.rand(n, 2) * 20 + 4
        out.append(
            InstanceData(
                bboxes=torch.cat([xy, xy + wh], 1),
                scores=torch.rand(n),
                labels=torch.zeros(n, dtype=torch.long)))
    return out


def fire(module, std=0.5):
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, std)
    return module


@pytest.mark.parametrize('T', [1, 2])
@pytest.mark.parametrize('build', [standard, cascade])
def test_loss_and_predict_through_mmdet(T, build):
    head = build(T)
    head.init_weights()
    fire(head)  # weights that make every neuron fire
    x = maps(T, grad=True)
    losses = head.loss(x, proposals(), samples())
    names = set(losses)
    assert any('loss_cls' in n for n in names)
    assert any('loss_mask' in n for n in names)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    # RoIs below 112 px map to the finest level (mmdet's finest_scale 56).
    assert x[0].grad.abs().sum() > 0
    for name, p in head.named_parameters():
        assert p.grad is not None, name
    head.eval()
    with torch.no_grad():
        results = head.predict(maps(T), proposals(), samples(), rescale=False)
    assert len(results) == 2
    for res in results:
        assert res.bboxes.shape[1] == 4
        assert len(res.masks) == len(res.bboxes) == len(res.labels)
        assert res.masks.shape[1:] == (IMG, IMG)
    outs = head.forward(maps(T), proposals(), samples())
    assert len(outs) >= 2


def test_roi_align_runs_on_each_time_step():
    head = standard(3)
    x = maps(3)
    rois = torch.tensor([[0., 4., 4., 30., 40.], [1., 10., 8., 50., 60.]])
    feats = head._roi_feats(head.bbox_roi_extractor, head._batch_major(x),
                            rois)
    assert feats.shape == (3, 2, C, 7, 7)
    for t in range(3):
        torch.testing.assert_close(
            feats[t], head.bbox_roi_extractor([m[t] for m in x], rois))
    assert not torch.equal(feats[0], feats[1])


def test_bbox_head_equals_hand_built_layers_at_t1():
    head = fire(
        SpikingShared2FCBBoxHead(
            T=1,
            in_channels=C,
            fc_out_channels=16,
            roi_feat_size=7,
            num_classes=NUM_CLASSES)).double()
    x = torch.randn(1, 5, C, 7, 7, dtype=torch.float64) * 4
    cls, reg = head(x)
    assert cls.shape == (5, NUM_CLASSES + 1)
    assert reg.shape == (5, 4 * NUM_CLASSES)
    fc1, fc2 = head.shared_fcs[0].fc, head.shared_fcs[1].fc
    h = F.linear((x[0].flatten(1) >= 2).double(), fc1.weight, fc1.bias)
    h = F.linear((h >= 2).double(), fc2.weight, fc2.bias)
    s = (h >= 2).double()
    assert 0 < s.mean() < 1
    torch.testing.assert_close(
        cls, F.linear(s, head.fc_cls.weight, head.fc_cls.bias))
    torch.testing.assert_close(
        reg, F.linear(s, head.fc_reg.weight, head.fc_reg.bias))


def test_mask_head_equals_hand_built_layers_at_t1():
    head = fire(
        SpikingFCNMaskHead(
            T=1,
            num_convs=2,
            in_channels=C,
            conv_out_channels=C,
            num_classes=NUM_CLASSES)).double()
    x = torch.randn(1, 4, C, 14, 14, dtype=torch.float64) * 4
    out = head(x)
    assert out.shape == (4, NUM_CLASSES, 28, 28)
    h = x[0]
    for unit in head.convs:
        conv = getattr(unit.conv, 'conv', unit.conv)  # nested or not
        h = F.conv2d((h >= 2).double(), conv.weight, conv.bias, padding=1)
    up = head.upsample
    h = F.conv_transpose2d((h >= 2).double(), up.weight, up.bias, stride=2)
    ref = F.conv2d((h >= 2).double(), head.conv_logits.weight,
                   head.conv_logits.bias)
    torch.testing.assert_close(out, ref)


def test_time_checks_name_both_sides():
    head = standard(2)
    with pytest.raises(ValueError, match=r'built with T=2.*carries 1 time'):
        head.loss(maps(1), proposals(), samples())
    with pytest.raises(ValueError, match='no time axis'):
        head.predict([m[0] for m in maps(2)], proposals(), samples())
    # A sub-head that states another T than its RoI head.
    with pytest.raises(ValueError, match=r'T=2 but its bbox_head .*T=4'):
        standard(2, bbox_head=bbox_head(T=4))
    with pytest.raises(ValueError, match=r'T=2 but its mask_head .*T=1'):
        cascade_cfg = mask_head(T=1)
        standard(2, mask_head=cascade_cfg)
    # The sub-heads took the RoI head's T.
    assert head.bbox_head.T == head.mask_head.T == 2
    bad = torch.randn(3, 4, C, 7, 7)
    with pytest.raises(ValueError, match=r'built with T=2.*RoI head'):
        head.bbox_head(bad)
    with pytest.raises(ValueError, match='no time axis'):
        head.mask_head(bad[0])


def test_shared_roi_extractor_uses_positive_bbox_features():
    head = standard(
        2,
        mask_roi_extractor=None,
        train_cfg=ConfigDict(RCNN_TRAIN, mask_size=14))
    assert head.share_roi_extractor
    losses = head.loss(maps(2), proposals(), samples())
    assert torch.isfinite(losses['loss_mask'])
