"""Spiking RoI heads and their bbox/mask heads for mmdet detectors."""
from .bbox_heads import (SpikingConvFCBBoxHead, SpikingShared2FCBBoxHead,
                         SpikingShared4Conv1FCBBoxHead)
from .mask_heads import SpikingFCNMaskHead
from .spiking_cascade_roi_head import SpikingCascadeRoIHead
from .spiking_standard_roi_head import (SpikingRoIHeadMixin,
                                        SpikingStandardRoIHead,
                                        set_heads_time_steps)

__all__ = [
    'SpikingCascadeRoIHead', 'SpikingRoIHeadMixin', 'SpikingStandardRoIHead',
    'set_heads_time_steps', 'SpikingConvFCBBoxHead',
    'SpikingShared2FCBBoxHead', 'SpikingShared4Conv1FCBBoxHead',
    'SpikingFCNMaskHead'
]
