from .cpu_amp_optim_wrapper import CPUAmpOptimWrapper
from .layer_decay_optim_wrapper_constructor import (
    SpikingLayerDecayOptimWrapperConstructor, get_layer_depth_metaspikeformer,
    get_layer_depth_spikformer)

__all__ = [
    'CPUAmpOptimWrapper', 'SpikingLayerDecayOptimWrapperConstructor',
    'get_layer_depth_metaspikeformer', 'get_layer_depth_spikformer'
]
