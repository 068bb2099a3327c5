"""Spiking mask heads for mmdet RoI heads."""
from .spiking_fcn_mask_head import SpikingFCNMaskHead

__all__ = ['SpikingFCNMaskHead']
