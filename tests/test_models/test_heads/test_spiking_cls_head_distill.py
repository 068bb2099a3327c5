"""SpikingClsHead's distillation branch (teacher scores from the
classifier)."""
import pytest
import torch
from mmpretrain.structures import DataSample

from spikedet.models.heads import SpikingClsHead
from spikedet.models.losses import DistillationLoss


def _inputs(batch=4, classes=5, channels=8, T=2):
    g = torch.Generator().manual_seed(0)
    feats = (torch.randn(T, batch, channels, 2, 2, generator=g) * 2, )
    labels = torch.randint(classes, (batch, ), generator=g)
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    teacher = torch.randn(batch, classes, generator=g)
    return feats, samples, labels, teacher


def _scores(head, feats):
    x = head.pre_logits(feats)
    return head.fc(x).mean(0), head.fc_dist(x).mean(0)


def test_teacher_scores_train_fc_dist():
    head = SpikingClsHead(
        num_classes=5,
        in_channels=8,
        with_distill=True,
        loss=dict(type='CrossEntropyLoss', loss_weight=0.5),
        distill_loss=dict(type='spikedet.DistillationLoss', loss_weight=0.5))
    assert isinstance(head.distill_loss, DistillationLoss)
    feats, samples, labels, teacher = _inputs()
    losses = head.loss(feats, samples, teacher_score=teacher)
    cls_score, dist_score = _scores(head, feats)
    assert torch.allclose(
        losses['loss'],
        0.5 * torch.nn.functional.cross_entropy(cls_score, labels))
    assert torch.allclose(
        losses['loss_dist'],
        0.5 * torch.nn.functional.cross_entropy(dist_score, teacher.argmax(1)))
    (losses['loss'] + losses['loss_dist']).backward()
    assert head.fc.bias.grad.abs().sum() > 0
    assert head.fc_dist.bias.grad.abs().sum() > 0


def test_without_teacher_fc_dist_learns_labels():
    head = SpikingClsHead(num_classes=5, in_channels=8, with_distill=True)
    feats, samples, labels, _ = _inputs()
    losses = head.loss(feats, samples)
    _, dist_score = _scores(head, feats)
    assert torch.allclose(
        losses['loss_dist'],
        torch.nn.functional.cross_entropy(dist_score, labels))


def test_loss_works_in_eval_mode():
    head = SpikingClsHead(num_classes=5, in_channels=8, with_distill=True)
    head.eval()
    feats, samples, _, teacher = _inputs()
    assert set(head.loss(feats, samples,
                         teacher_score=teacher)) == {'loss', 'loss_dist'}


def test_errors():
    feats, samples, _, teacher = _inputs()
    head = SpikingClsHead(num_classes=5, in_channels=8)
    with pytest.raises(ValueError, match='with_distill=True'):
        head.loss(feats, samples, teacher_score=teacher)
    with pytest.raises(ValueError, match='with_distill=False'):
        SpikingClsHead(
            num_classes=5,
            in_channels=8,
            distill_loss=dict(type='spikedet.DistillationLoss'))
