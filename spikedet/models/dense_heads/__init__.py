"""Spiking dense heads for mmdet detectors."""
from .spiking_retina_head import SpikingRetinaHead
from .spiking_rpn_head import SpikingDenseHeadMixin, SpikingRPNHead

__all__ = ['SpikingDenseHeadMixin', 'SpikingRPNHead', 'SpikingRetinaHead']
