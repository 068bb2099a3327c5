from ..spiking import SpikingConvModule  # noqa: F401 (re-export)
from .spiking_fpn import SpikingFPN
from .temporal_aggregation import TemporalAggregation

__all__ = ['SpikingConvModule', 'SpikingFPN', 'TemporalAggregation']
