from .spiking_fpn import SpikingFPN
from .temporal_aggregation import TemporalAggregation

__all__ = ['SpikingFPN', 'TemporalAggregation']
