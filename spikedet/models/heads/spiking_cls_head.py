"""Classification head for spiking backbones (mmpretrain)."""
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.models.heads import ClsHead

from spikedet.registry import register_model
from ..spiking import build_neuron


@register_model()
class SpikingClsHead(ClsHead):
    """Linear classifier on time-keeping features, as the papers' models do:
    spatial mean per time step, (LIF), linear, mean over time.

    Meta-SpikeFormer fires a LIF before the linear layer
    (``spike_before_fc=True``); Spikformer feeds the averaged block output
    straight to it (``spike_before_fc=False``). ``with_distill`` adds the
    second (distillation) linear layer of the paper's T=4 model: in training
    :meth:`forward` returns ``(cls_score, dist_score)``, in inference their
    average.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Channels of the backbone's last output.
        spike_before_fc (bool): Fire a LIF before the linear layer.
            Defaults to True.
        with_distill (bool): Add the distillation layer ``fc_dist``.
            Defaults to False.
        neuron_cfg (dict, optional): Neuron config. Defaults to None.
        init_cfg (dict, optional): Defaults to truncated normal (std 0.02)
            for the linear layers.
        **kwargs: Passed to :class:`mmpretrain.models.heads.ClsHead` (e.g.
            ``loss``, ``topk``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 spike_before_fc: bool = True,
                 with_distill: bool = False,
                 neuron_cfg: Optional[dict] = None,
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

    def loss(self, feats, data_samples, **kwargs) -> dict:
        """Cross-entropy on the class score; with ``with_distill`` and no
        teacher, the distillation layer is trained on the labels too (a
        teacher is supplied by :class:`spikedet.DistillImageClassifier`)."""
        scores = self(feats)
        if not self.with_distill:
            return self._get_loss(scores, data_samples, **kwargs)
        cls_score, dist_score = scores
        losses = self._get_loss(cls_score, data_samples, **kwargs)
        dist = self._get_loss(dist_score, data_samples, **kwargs)
        losses['loss_dist'] = dist['loss']
        return losses
