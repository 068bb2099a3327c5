"""A spiking Cascade R-CNN RoI head (mmdet): RoIAlign per time step."""
import torch
from mmdet.models.roi_heads import CascadeRoIHead

from spikedet.registry import MODELS, init_in_scope
from .spiking_standard_roi_head import Maps, SpikingRoIHeadMixin


@MODELS.register_module()
class SpikingCascadeRoIHead(SpikingRoIHeadMixin, CascadeRoIHead):
    """mmdet's Cascade R-CNN RoI head for spiking bbox and mask heads.

    As the paper's Cascade Mask R-CNN (``SpikeCascadeRoIHead``): every stage
    runs RoIAlign on each time step's maps and its spiking bbox/mask head
    takes the time-major RoI features; box refinement between the stages
    uses the T-averaged deltas. See :class:`SpikingRoIHeadMixin`.

    Args:
        T (int): Number of time steps of the input maps; given to every
            stage's bbox and mask head.
        **kwargs: The arguments of mmdet's ``CascadeRoIHead``
            (``num_stages``, ``stage_loss_weights``, RoI extractors, heads,
            train/test configs).
    """

    @init_in_scope('mmdet')
    def __init__(self, T: int, **kwargs) -> None:
        super().__init__(**self._init_time_steps(T, kwargs))

    def _bbox_forward(self, stage: int, x: Maps, rois: torch.Tensor) -> dict:
        bbox_feats = self._roi_feats(self.bbox_roi_extractor[stage], x, rois)
        cls_score, bbox_pred = self.bbox_head[stage](bbox_feats)
        return dict(
            cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=bbox_feats)

    def _mask_forward(self, stage: int, x: Maps, rois: torch.Tensor) -> dict:
        mask_feats = self._roi_feats(self.mask_roi_extractor[stage], x, rois)
        return dict(mask_preds=self.mask_head[stage](mask_feats))
