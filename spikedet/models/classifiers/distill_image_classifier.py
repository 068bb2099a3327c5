"""Image classifier trained with a frozen teacher (the paper's T=4 recipe)."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModel, BaseModule
from mmengine.runner.checkpoint import load_checkpoint
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.structures import DataSample

from spikedet.registry import MODELS, init_in_scope


@MODELS.register_module()
class DistillImageClassifier(ImageClassifier):
    """:class:`mmpretrain.models.ImageClassifier` whose head learns from a
    frozen teacher too, as in DeiT's distillation through a second head.

    The paper fine-tunes Meta-SpikeFormer at T=4 this way: a CAFormer-B36
    teacher (timm's ``caformer_b36.sail_in22k_ft_in1k``) sees the same
    augmented batch as the student; the student's ``fc`` learns from the
    labels and its ``fc_dist`` from the teacher's top-1 class (hard
    distillation, see :class:`spikedet.DistillationLoss`); inference
    averages both heads. The head must therefore have a distillation layer,
    e.g. ``SpikingClsHead(with_distill=True)``.

    The teacher never trains (no gradient, always in eval mode) and is not
    part of the student's checkpoints: saved state dicts leave out its
    ``teacher.*`` keys, and loading a checkpoint keeps the teacher's own
    weights. It receives the student's preprocessed batch, so it must expect
    the same normalisation (ImageNet mean/std for CAFormer and most
    ImageNet models).

    Args:
        backbone (dict): The student backbone.
        head (dict): The student head, with a distillation layer.
        teacher (dict | nn.Module, optional): The teacher: any mmpretrain
            model config (e.g. ``dict(type='TimmClassifier',
            model_name='caformer_b36.sail_in22k_ft_in1k', pretrained=True)``,
            which needs ``timm``) or a built module mapping a batch to scores
            ``[B, num_classes]``. None builds no teacher: the model can then
            only predict (e.g. evaluate a distilled checkpoint with
            ``--cfg-options model.teacher=None``). Defaults to None.
        teacher_ckpt (str, optional): Checkpoint loaded strictly into the
            teacher by :meth:`init_weights`. Without it, a teacher with an
            ``init_cfg`` is initialised by it, any other keeps the weights it
            was built with (e.g. timm's ``pretrained=True``).
            Defaults to None.
        **kwargs: Passed to :class:`mmpretrain.models.ImageClassifier`
            (``neck``, ``train_cfg``, ``data_preprocessor``, ``init_cfg``).
    """

    @init_in_scope('mmpretrain')
    def __init__(self,
                 backbone: dict,
                 head: dict,
                 teacher: Optional[Union[dict, nn.Module]] = None,
                 teacher_ckpt: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(backbone=backbone, head=head, **kwargs)
        if not getattr(self.head, 'with_distill', False):
            raise ValueError(
                'DistillImageClassifier needs a head with a distillation '
                'layer, e.g. SpikingClsHead(with_distill=True); got '
                f'{type(self.head).__name__} without one.')
        if teacher is None and teacher_ckpt is not None:
            raise ValueError('teacher_ckpt is set but teacher is None.')
        if teacher is not None and not isinstance(teacher, nn.Module):
            teacher = MMPRETRAIN_MODELS.build(teacher)
        self.teacher = teacher
        self.teacher_ckpt = teacher_ckpt
        if teacher is not None:
            teacher.requires_grad_(False)
            teacher.eval()
        self._register_state_dict_hook(self._drop_teacher_keys)
        self._register_load_state_dict_pre_hook(self._keep_teacher_weights)

    # -- teacher -------------------------------------------------------------
    def train(self, mode: bool = True) -> 'DistillImageClassifier':
        super().train(mode)
        if self.teacher is not None:
            self.teacher.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the student; load or initialise the teacher on its own
        (a classifier-wide ``init_cfg`` never touches the teacher)."""
        teacher = self._modules.pop('teacher', None)
        try:
            super().init_weights()
        finally:
            if teacher is not None:
                self._modules['teacher'] = teacher
        if teacher is None:
            return
        if self.teacher_ckpt is not None:
            load_checkpoint(
                teacher,
                self.teacher_ckpt,
                map_location='cpu',
                strict=True,
                logger='current')
        elif isinstance(teacher, BaseModule) and teacher.init_cfg:
            teacher.init_weights()
        else:
            print_log(
                f'DistillImageClassifier: the teacher '
                f'({type(teacher).__name__}) keeps the weights it was built '
                'with; set teacher_ckpt to load others.',
                logger='current')

    @torch.no_grad()
    def teacher_scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """The teacher's scores (logits) of a preprocessed batch.

        Args:
            inputs (Tensor): The batch the student sees, ``[B, C, H, W]``.

        Returns:
            Tensor: ``[B, num_classes]``.
        """
        if self.teacher is None:
            raise RuntimeError(
                'DistillImageClassifier was built without a teacher '
                '(teacher=None), which can only predict. Set model.teacher '
                'to a teacher config to train.')
        if isinstance(self.teacher, BaseModel):
            scores = self.teacher(inputs, mode='tensor')
        else:
            scores = self.teacher(inputs)
        if not isinstance(scores, torch.Tensor) or scores.dim() != 2:
            raise TypeError(
                'The teacher must map a batch to scores [B, num_classes]; '
                f'{type(self.teacher).__name__} returned '
                f'{type(scores).__name__}' +
                (f' of shape {tuple(scores.shape)}' if isinstance(
                    scores, torch.Tensor) else '') + '.')
        return scores

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """Student losses: classification on the labels and distillation
        from the teacher's scores of the same batch."""
        teacher_score = self.teacher_scores(inputs)
        feats = self.extract_feat(inputs)
        return self.head.loss(feats, data_samples, teacher_score=teacher_score)

    # -- checkpoints without the teacher -----------------------------------
    @staticmethod
    def _drop_teacher_keys(module: nn.Module, state_dict: dict, prefix: str,
                           local_metadata: dict) -> dict:
        teacher = prefix + 'teacher.'
        for key in [k for k in state_dict if k.startswith(teacher)]:
            del state_dict[key]
        return state_dict

    def _keep_teacher_weights(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        if self.teacher is None:
            return
        for key, value in self.teacher.state_dict(prefix=prefix +
                                                  'teacher.').items():
            state_dict.setdefault(key, value)
