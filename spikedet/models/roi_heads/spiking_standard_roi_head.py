"""A spiking standard RoI head (mmdet): RoIAlign per time step."""
import copy
from typing import Optional, Sequence, Tuple

import torch
from mmdet.models.roi_heads import StandardRoIHead

from spikedet.registry import MODELS, init_in_scope
from ..spiking import check_num_steps, check_time_major

Maps = Tuple[torch.Tensor, ...]


def set_heads_time_steps(T: int, owner: str, heads: dict) -> dict:
    """Give every sub-head config the RoI head's ``T``.

    Args:
        T (int): The RoI head's time steps.
        owner (str): Name of the RoI head, for the error message.
        heads (dict): ``{name: config | list of configs | None}``.

    Returns:
        dict: The configs (copies) with ``T`` set where it was missing.

    Raises:
        ValueError: A sub-head that states another ``T``.
    """
    out = {}
    for key, cfg in heads.items():
        if cfg is None:
            out[key] = None
            continue
        cfgs = copy.deepcopy(cfg if isinstance(cfg, list) else [cfg])
        for c in cfgs:
            if c.get('T', T) != T:
                raise ValueError(
                    f"{owner} was built with T={T} but its {key} "
                    f"({c.get('type')}) with T={c['T']}: give the RoI head "
                    f'and its {key} the same T (or leave T out of the '
                    f'{key}, it takes the RoI head\'s).')
            c['T'] = T
        out[key] = cfgs if isinstance(cfg, list) else cfgs[0]
    return out


class SpikingRoIHeadMixin:
    """Time handling shared by the spiking RoI heads.

    The entry points (``loss``, ``predict``, ``forward``) take the
    time-major maps ``[T, B, C, H, W]`` of a neck that keeps the time axis,
    check their ``T`` and hand them on to mmdet's code as batch-major views
    ``[B, T, C, H, W]`` (mmdet indexes the maps per image when sampling
    RoIs; a transpose is free). RoI features are extracted for each time
    step by RoIAlign on that step's maps and stacked time-major,
    ``[T, num_rois, C, h, w]``, for the spiking bbox/mask heads, which
    return logits averaged over ``T``: mmdet's targets, losses and
    decoding run unchanged.

    Samplers that use the image features (OHEM) are not supported.
    """

    def _init_time_steps(self, T: int, kwargs: dict) -> dict:
        """Set ``self.T`` and give the bbox/mask head configs in
        ``kwargs`` (the RoI head's arguments) the same ``T``."""
        name = type(self).__name__
        self.T = check_num_steps(T, name)
        if kwargs.get('shared_head') is not None:
            raise ValueError(f'{name} does not support a shared_head.')
        heads = {k: kwargs.get(k) for k in ('bbox_head', 'mask_head')}
        return dict(kwargs, **set_heads_time_steps(T, name, heads))

    def _batch_major(self, x: Sequence[torch.Tensor]) -> Maps:
        check_time_major(x, self.T, type(self).__name__)
        return tuple(lvl.transpose(0, 1) for lvl in x)

    @staticmethod
    def _roi_feats(extractor: torch.nn.Module, x: Maps,
                   rois: torch.Tensor) -> torch.Tensor:
        """RoIAlign on each time step: ``[T, num_rois, C, h, w]``."""
        levels = x[:extractor.num_inputs]
        return torch.stack([
            extractor([lvl[:, t] for lvl in levels], rois)
            for t in range(levels[0].shape[1])
        ])

    def loss(self, x: Sequence[torch.Tensor], *args, **kwargs) -> dict:
        return super().loss(self._batch_major(x), *args, **kwargs)

    def predict(self, x: Sequence[torch.Tensor], *args, **kwargs) -> list:
        return super().predict(self._batch_major(x), *args, **kwargs)

    def forward(self, x: Sequence[torch.Tensor], *args, **kwargs) -> tuple:
        return super().forward(self._batch_major(x), *args, **kwargs)


@MODELS.register_module()
class SpikingStandardRoIHead(SpikingRoIHeadMixin, StandardRoIHead):
    """mmdet's standard RoI head for spiking bbox and mask heads.

    As the paper's ``SpikeStandardRoIHead`` (Spike-Driven-Transformer-V2,
    ``detection/``): RoIAlign runs on each time step's maps, and the bbox
    and mask heads (e.g. ``spikedet.SpikingShared2FCBBoxHead``,
    ``spikedet.SpikingFCNMaskHead``) take the time-major RoI features. See
    :class:`SpikingRoIHeadMixin` for the time handling.

    Args:
        T (int): Number of time steps of the input maps; given to the bbox
            and mask heads (whose configs may leave ``T`` out).
        **kwargs: The arguments of mmdet's ``StandardRoIHead`` (RoI
            extractors, heads, train/test configs); ``shared_head`` is not
            supported.
    """

    @init_in_scope('mmdet')
    def __init__(self, T: int, **kwargs) -> None:
        super().__init__(**self._init_time_steps(T, kwargs))

    def _bbox_forward(self, x: Maps, rois: torch.Tensor) -> dict:
        bbox_feats = self._roi_feats(self.bbox_roi_extractor, x, rois)
        cls_score, bbox_pred = self.bbox_head(bbox_feats)
        return dict(
            cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=bbox_feats)

    def _mask_forward(self,
                      x: Maps,
                      rois: Optional[torch.Tensor] = None,
                      pos_inds: Optional[torch.Tensor] = None,
                      bbox_feats: Optional[torch.Tensor] = None) -> dict:
        if rois is not None:
            mask_feats = self._roi_feats(self.mask_roi_extractor, x, rois)
        else:  # shared RoI extractor: the positives' bbox RoI features
            mask_feats = bbox_feats[:, pos_inds.bool()]
        mask_preds = self.mask_head(mask_feats)
        return dict(mask_preds=mask_preds, mask_feats=mask_feats)
