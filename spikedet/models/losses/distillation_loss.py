"""Knowledge-distillation loss of DeiT, as the paper's T=4 models use it."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from spikedet.registry import MODELS


@MODELS.register_module()
class DistillationLoss(nn.Module):
    """Distillation term between a student's distillation-head scores and a
    teacher's scores (Touvron et al., DeiT, 2021).

    The paper's T=4 fine-tuning (Meta-SpikeFormer, 80.0% top-1) adds this term
    for the second head of the student, with a CAFormer-B36 teacher:

    * ``'hard'``: cross-entropy against the teacher's top-1 class,
      ``CE(dist_score, argmax(teacher_score))``;
    * ``'soft'``: ``tau**2 * KL(softmax(teacher / tau) || softmax(student /
      tau))``, summed and divided by the number of score elements
      (``B * num_classes``), DeiT's normalisation.

    The full objective ``(1 - alpha) * base + alpha * distill`` of the paper
    (alpha 0.5) is expressed with the loss weights: ``loss_weight=alpha``
    here and ``loss_weight=1 - alpha`` on the head's classification loss.

    Args:
        mode (str): ``'hard'`` or ``'soft'``. Defaults to ``'hard'``.
        tau (float): Temperature of ``'soft'``. Defaults to 1.0.
        loss_weight (float): Weight of the term. Defaults to 1.0.
    """

    def __init__(self,
                 mode: str = 'hard',
                 tau: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if mode not in ('hard', 'soft'):
            raise ValueError(f"mode must be 'hard' or 'soft', got {mode!r}.")
        if tau <= 0:
            raise ValueError(f'tau must be positive, got {tau}.')
        self.mode = mode
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self, score: torch.Tensor,
                teacher_score: torch.Tensor) -> torch.Tensor:
        """Compute the weighted distillation term.

        Args:
            score (Tensor): Student scores (logits), ``[B, num_classes]``.
            teacher_score (Tensor): Teacher scores (logits), same shape. No
                gradient flows into it.

        Returns:
            Tensor: Scalar loss.
        """
        if score.dim() != 2 or score.shape != teacher_score.shape:
            raise ValueError(
                'DistillationLoss needs student and teacher scores of the '
                f'same shape [B, num_classes], got {tuple(score.shape)} and '
                f'{tuple(teacher_score.shape)}. Check that the teacher '
                'predicts the same classes as the student.')
        teacher_score = teacher_score.detach()
        if self.mode == 'hard':
            loss = F.cross_entropy(score, teacher_score.argmax(dim=1))
        else:
            tau = self.tau
            loss = F.kl_div(
                F.log_softmax(score / tau, dim=1),
                F.log_softmax(teacher_score / tau, dim=1),
                reduction='sum',
                log_target=True) * (tau * tau) / score.numel()
        return self.loss_weight * loss

    def extra_repr(self) -> str:
        return (f'mode={self.mode!r}, tau={self.tau}, '
                f'loss_weight={self.loss_weight}')
