"""Spiking bbox heads for mmdet RoI heads."""
from .spiking_convfc_bbox_head import (SpikingConvFCBBoxHead,
                                       SpikingShared2FCBBoxHead,
                                       SpikingShared4Conv1FCBBoxHead)

__all__ = [
    'SpikingConvFCBBoxHead', 'SpikingShared2FCBBoxHead',
    'SpikingShared4Conv1FCBBoxHead'
]
