from .base import BaseSpikingBackbone
from .meta_spikeformer import MetaSpikeFormer
from .spikformer import Spikformer

__all__ = ['BaseSpikingBackbone', 'MetaSpikeFormer', 'Spikformer']
