"""DistillationLoss: DeiT's hard and soft distillation terms."""
import pytest
import torch
import torch.nn.functional as F

from spikedet.models.losses import DistillationLoss


def _scores(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    student = torch.randn(6, 5, generator=g, requires_grad=True)
    teacher = torch.randn(6, 5, generator=g, requires_grad=True)
    return student, teacher


def test_hard_is_cross_entropy_to_teacher_top1():
    student, teacher = _scores()
    loss = DistillationLoss(mode='hard', loss_weight=0.5)(student, teacher)
    target = teacher.argmax(dim=1)
    expected = 0.5 * F.cross_entropy(student, target)
    assert torch.allclose(loss, expected)
    loss.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None  # no gradient into the teacher


def test_hard_is_independent_of_teacher_confidence():
    student, teacher = _scores(1)
    loss_fn = DistillationLoss(mode='hard')
    assert torch.allclose(
        loss_fn(student, teacher), loss_fn(student, teacher * 10))


def test_soft_matches_kl_definition():
    student, teacher = _scores(2)
    tau = 2.0
    loss = DistillationLoss(mode='soft', tau=tau)(student, teacher)
    p_t = F.softmax(teacher.detach() / tau, dim=1)
    log_p_s = F.log_softmax(student / tau, dim=1)
    kl = (p_t * (p_t.log() - log_p_s)).sum()
    expected = kl * tau * tau / student.numel()
    assert torch.allclose(loss, expected, atol=1e-6)
    # Zero when the student copies the teacher.
    same = DistillationLoss(mode='soft', tau=tau)(teacher.detach(), teacher)
    assert same.abs() < 1e-6


def test_bad_arguments():
    with pytest.raises(ValueError, match="'hard' or 'soft'"):
        DistillationLoss(mode='kl')
    with pytest.raises(ValueError, match='tau'):
        DistillationLoss(mode='soft', tau=0.)
    with pytest.raises(ValueError, match='same shape'):
        DistillationLoss()(torch.randn(2, 5), torch.randn(2, 6))
