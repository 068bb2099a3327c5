"""Classification head for spiking backbones (mmpretrain)."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS

from spikedet.registry import MODELS, init_in_scope
from ..spiking import build_neuron
from ..spiking.reparam import DeployMixin, reparameterize


@MODELS.register_module()
class SpikingClsHead(DeployMixin, ClsHead):
    """Linear classifier on time-keeping features, as the papers' models do:
    spatial mean per time step, (LIF), linear, mean over time.

    Meta-SpikeFormer fires a LIF before the linear layer
    (``spike_before_fc=True``); Spikformer feeds the averaged block output
    straight to it (``spike_before_fc=False``). ``with_distill`` adds the
    second (distillation) linear layer of the paper's T=4 model: in training
    :meth:`forward` returns ``(cls_score, dist_score)``, in inference their
    average.

    With a teacher (:class:`spikedet.DistillImageClassifier` passes its
    scores to :meth:`loss`), ``fc_dist`` learns from ``distill_loss`` (the
    paper's hard distillation); without one, from the labels.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the backbone's last output.
        spike_before_fc (bool): Fire a LIF before the linear layer.
            Defaults to True.
        with_distill (bool): Add the distillation layer ``fc_dist``.
            Defaults to False.
        distill_loss (dict, optional): Loss between ``fc_dist``'s scores and
            a teacher's, used when :meth:`loss` gets ``teacher_score``.
            Defaults to hard distillation,
            ``dict(type='spikedet.DistillationLoss', mode='hard')``.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
        deploy (bool): Build the deploy (re-parameterised, inference-only)
            model, to load a checkpoint written by
            tools/model_converters/reparameterize_model.py, see
            :meth:`switch_to_deploy`. Defaults to False.
        init_cfg (dict, optional): Defaults to truncated normal (std 0.02)
            for the linear layers.
        **kwargs: Passed to :class:`mmpretrain.models.heads.ClsHead` (e.g.
            ``loss``, ``topk``).
    """

    @init_in_scope('mmpretrain')
    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 spike_before_fc: bool = True,
                 with_distill: bool = False,
                 distill_loss: Optional[dict] = None,
                 neuron_cfg: Optional[dict] = None,
                 deploy: bool = False,
                 init_cfg: Optional[dict] = dict(
                     type='TruncNormal', layer='Linear', std=.02, bias=0.),
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'num_classes={num_classes} must be positive.')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.lif = build_neuron(neuron_cfg) if spike_before_fc else None
        self.fc = nn.Linear(in_channels, num_classes)
        self.with_distill = with_distill
        self.fc_dist = nn.Linear(in_channels,
                                 num_classes) if with_distill else None
        self.distill_loss = None
        if with_distill:
            if distill_loss is None:
                distill_loss = dict(
                    type='spikedet.DistillationLoss', mode='hard')
            self.distill_loss = distill_loss if isinstance(
                distill_loss,
                nn.Module) else MMPRETRAIN_MODELS.build(distill_loss)
        elif distill_loss is not None:
            raise ValueError('distill_loss is set but with_distill=False: '
                             'set with_distill=True to add fc_dist.')
        if deploy:
            reparameterize(self, check_eval=False)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """Spatially averaged (and spiking) features, ``[T, B, C]``."""
        x = feats[-1]
        if x.dim() != 5:
            raise ValueError(
                'SpikingClsHead needs time-keeping features [T, B, C, H, W]; '
                f'got shape {tuple(x.shape)}. Build the backbone with '
                'keep_time=True.')
        if x.shape[2] != self.in_channels:
            raise ValueError(f'Expected {self.in_channels} channels, got '
                             f'{x.shape[2]} (shape {tuple(x.shape)}).')
        x = x.flatten(3).mean(3)
        return self.lif(x) if self.lif is not None else x

    def forward(
        self, feats: Tuple[torch.Tensor]
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        x = self.pre_logits(feats)
        cls_score = self.fc(x).mean(0)
        if not self.with_distill:
            return cls_score
        dist_score = self.fc_dist(x).mean(0)
        if self.training:
            return cls_score, dist_score
        return (cls_score + dist_score) / 2

    def loss(self,
             feats: Tuple[torch.Tensor],
             data_samples,
             teacher_score: Optional[torch.Tensor] = None,
             **kwargs) -> dict:
        """Classification loss of ``fc``; with ``with_distill`` also
        ``loss_dist`` of ``fc_dist``: ``distill_loss`` against
        ``teacher_score`` if given (a teacher is supplied by
        :class:`spikedet.DistillImageClassifier`), else the classification
        loss on the labels.

        Args:
            feats (tuple[Tensor]): Backbone features, the last one
                ``[T, B, C, H, W]``.
            data_samples (list[DataSample]): Annotations.
            teacher_score (Tensor, optional): Teacher scores
                ``[B, num_classes]``. Defaults to None.
            **kwargs: Passed to the classification loss.

        Returns:
            dict[str, Tensor]: ``loss`` (and ``loss_dist``), plus accuracies
            if ``cal_acc``.
        """
        x = self.pre_logits(feats)
        cls_score = self.fc(x).mean(0)
        losses = self._get_loss(cls_score, data_samples, **kwargs)
        if not self.with_distill:
            if teacher_score is not None:
                raise ValueError(
                    'SpikingClsHead got teacher scores but has no '
                    'distillation layer: set with_distill=True.')
            return losses
        dist_score = self.fc_dist(x).mean(0)
        if teacher_score is None:
            losses['loss_dist'] = self._get_loss(dist_score, data_samples,
                                                 **kwargs)['loss']
        else:
            losses['loss_dist'] = self.distill_loss(dist_score, teacher_score)
        return losses
