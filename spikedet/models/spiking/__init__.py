"""Spiking machinery used by every spikedet model: neurons, time steps,
the spiking conv unit and spike attention."""
from .attention import check_num_heads, spiking_linear_attention, split_heads
from .checks import check_num_steps, check_time_major
from .conv import SpikingConvModule
from .linear import SpikingLinear
from .neuron import (DEFAULT_NEURON_CFG, SpikingNeuron, build_neuron,
                     cupy_available, merge_neuron_cfg)
from .time import (AGGREGATIONS, TimeDropPath, aggregate_time, encode_input,
                   seq_apply)

__all__ = [
    'check_num_heads', 'spiking_linear_attention', 'split_heads',
    'SpikingConvModule', 'DEFAULT_NEURON_CFG', 'SpikingNeuron', 'build_neuron',
    'cupy_available', 'merge_neuron_cfg', 'AGGREGATIONS', 'TimeDropPath',
    'aggregate_time', 'encode_input', 'seq_apply', 'SpikingLinear',
    'check_num_steps', 'check_time_major'
]
