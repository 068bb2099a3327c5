from .checkpoint import (mmengine_safe_globals,
                         register_mmengine_safe_globals)
from .state_dict import (CheckpointMismatchError, check_state_dict,
                         load_state_dict_strict)

__all__ = [
    'CheckpointMismatchError', 'check_state_dict', 'load_state_dict_strict',
    'mmengine_safe_globals', 'register_mmengine_safe_globals'
]
