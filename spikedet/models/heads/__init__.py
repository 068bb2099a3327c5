from .spiking_cls_head import SpikingClsHead

__all__ = ['SpikingClsHead']
