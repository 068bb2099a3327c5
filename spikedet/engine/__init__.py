from .hooks import FiringRateHook

__all__ = ['FiringRateHook']
