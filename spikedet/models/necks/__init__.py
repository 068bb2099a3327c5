from .spiking_fpn import SpikingConvModule, SpikingFPN
from .temporal_aggregation import TemporalAggregation

__all__ = ['SpikingConvModule', 'SpikingFPN', 'TemporalAggregation']
