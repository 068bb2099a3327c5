from .checkpoint import mmengine_safe_globals, register_mmengine_safe_globals
from .dist import setup_cpu_distributed
from .state_dict import (CheckpointMismatchError, check_state_dict,
                         load_state_dict_strict)

__all__ = [
    'CheckpointMismatchError', 'check_state_dict', 'load_state_dict_strict',
    'mmengine_safe_globals', 'register_mmengine_safe_globals',
    'setup_cpu_distributed'
]
