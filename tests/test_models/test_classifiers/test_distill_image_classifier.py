"""DistillImageClassifier: a frozen teacher drives the student's fc_dist."""
import copy

import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from spikedet.models.classifiers import DistillImageClassifier

NUM_CLASSES = 4
STUDENT = dict(
    type='spikedet.MetaSpikeFormer',
    arch=dict(embed_dims=[8, 16, 24, 32], depths=[1, 1, 1, 1], num_heads=2),
    T=2,
    out_indices=(3, ),
    keep_time=True)
# A tiny mmpretrain classifier stands in for CAFormer-B36.
TEACHER = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=NUM_CLASSES, in_channels=64))


def _build(init: bool = True, **kwargs) -> DistillImageClassifier:
    torch.manual_seed(0)
    init_default_scope('mmpretrain')
    cfg = dict(
        type='spikedet.DistillImageClassifier',
        backbone=STUDENT,
        head=dict(
            type='spikedet.SpikingClsHead',
            num_classes=NUM_CLASSES,
            in_channels=32,
            with_distill=True,
            loss=dict(type='CrossEntropyLoss', loss_weight=0.5),
            distill_loss=dict(
                type='spikedet.DistillationLoss', mode='hard',
                loss_weight=0.5)),
        teacher=TEACHER)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    if init:
        model.init_weights()
    return model


def _batch(n=2):
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(n, 3, 32, 32, generator=g)
    samples = [DataSample().set_gt_label(i % NUM_CLASSES) for i in range(n)]
    return inputs, samples


def test_loss_uses_teacher_top1():
    model = _build()
    model.train()
    assert not model.teacher.training
    assert not any(p.requires_grad for p in model.teacher.parameters())
    inputs, samples = _batch()
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss', 'loss_dist'}
    teacher_score = model.teacher_scores(inputs)
    feats = model.extract_feat(inputs)
    x = model.head.pre_logits(feats)
    dist_score = model.head.fc_dist(x).mean(0)
    expected = 0.5 * torch.nn.functional.cross_entropy(dist_score,
                                                       teacher_score.argmax(1))
    assert torch.allclose(losses['loss_dist'], expected)
    sum(losses.values()).backward()
    # (fc_dist.weight may get no gradient if the tiny student's last LIF
    # stays silent; the bias always does.)
    assert model.head.fc_dist.bias.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())


def test_predict_averages_heads():
    model = _build().eval()
    inputs, samples = _batch()
    preds = model(inputs, samples, mode='predict')
    assert len(preds) == 2 and preds[0].pred_score.shape == (NUM_CLASSES, )
    feats = model.extract_feat(inputs)
    x = model.head.pre_logits(feats)
    avg = (model.head.fc(x).mean(0) + model.head.fc_dist(x).mean(0)) / 2
    assert torch.allclose(preds[0].pred_score, avg.softmax(1)[0], atol=1e-6)


def test_checkpoints_leave_out_the_teacher(tmp_path):
    model = _build()
    state = model.state_dict()
    assert state and not any(k.startswith('teacher.') for k in state)
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    # A student checkpoint (e.g. a T=1 model without fc_dist) loads and the
    # teacher keeps its weights.
    other = _build()
    student_only = {
        k: v
        for k, v in other.state_dict().items()
        if not k.startswith('head.fc_dist')
    }
    result = model.load_state_dict(student_only, strict=False)
    assert sorted(
        result.missing_keys) == ['head.fc_dist.bias', 'head.fc_dist.weight']
    assert not result.unexpected_keys
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k
    model.load_state_dict(other.state_dict(), strict=True)
    assert torch.equal(model.head.fc.weight, other.head.fc.weight)


def test_classifier_init_cfg_skips_teacher():
    model = _build(
        init=False, init_cfg=dict(type='Constant', val=0., layer='Conv2d'))
    teacher_before = copy.deepcopy(model.teacher.state_dict())
    model.init_weights()
    assert model.backbone.stem[0].conv.weight.abs().sum() == 0
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k


def test_teacher_ckpt_is_loaded(tmp_path):
    reference = _build()
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save({'state_dict': reference.teacher.state_dict()}, ckpt)
    model = _build(init=False, teacher_ckpt=ckpt)
    with torch.no_grad():
        for p in model.teacher.parameters():
            p.add_(1.)
    model.init_weights()
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, reference.teacher.state_dict()[k]), k


def test_without_teacher_only_predicts():
    model = _build(teacher=None)
    assert model.teacher is None
    inputs, samples = _batch()
    model.eval()
    assert len(model(inputs, samples, mode='predict')) == 2
    model.train()
    with pytest.raises(RuntimeError, match='model.teacher'):
        model(inputs, samples, mode='loss')


def test_errors():
    init_default_scope('mmpretrain')
    with pytest.raises(ValueError, match='with_distill=True'):
        DistillImageClassifier(
            backbone=STUDENT,
            head=dict(
                type='spikedet.SpikingClsHead', num_classes=4, in_channels=32),
            teacher=TEACHER)
    with pytest.raises(ValueError, match='teacher_ckpt'):
        _build(teacher=None, teacher_ckpt='x.pth')
    model = _build(teacher=torch.nn.Identity())
    with pytest.raises(TypeError, match=r'\[B, num_classes\]'):
        model.teacher_scores(torch.randn(2, 3, 32, 32))
