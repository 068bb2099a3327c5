from .state_dict import (CheckpointMismatchError, check_state_dict,
                         load_state_dict_strict)

__all__ = [
    'CheckpointMismatchError', 'check_state_dict', 'load_state_dict_strict'
]
