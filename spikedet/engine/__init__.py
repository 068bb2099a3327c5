from .hooks import FiringRateHook
from .optimizers import SpikingLayerDecayOptimWrapperConstructor

__all__ = ['FiringRateHook', 'SpikingLayerDecayOptimWrapperConstructor']
