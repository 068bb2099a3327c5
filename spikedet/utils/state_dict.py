"""Strict state-dict loading: a checkpoint that does not fit is an error that
lists every missing, unexpected and mis-shaped key, never a partial load."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn


class CheckpointMismatchError(KeyError):
    """A checkpoint's keys or shapes do not match the model."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def _fmt(keys: List[str], limit: int = 20) -> str:
    shown = ', '.join(keys[:limit])
    more = f' ... (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return shown + more


def check_state_dict(
    model: nn.Module,
    state_dict: Dict[str, torch.Tensor],
    hint: Optional[str] = None,
    new_prefixes: Sequence[str] = ()) -> List[str]:
    """Raise :class:`CheckpointMismatchError` unless ``state_dict`` fits
    ``model`` exactly (same keys, same shapes).

    Args:
        model (nn.Module): The model to load into.
        state_dict (dict): The weights.
        hint (str, optional): What the user should do, appended to the
            message. Defaults to None.
        new_prefixes (Sequence[str]): Key prefixes of modules that the
            checkpoint cannot hold because they are new in the model (e.g. a
            dense-prediction pyramid on a classification checkpoint): their
            keys may be missing, all of them or none. Defaults to ().

    Returns:
        list[str]: The keys left missing under ``new_prefixes``.
    """
    own = model.state_dict()
    missing = sorted(k for k in own if k not in state_dict)
    new = [k for k in missing if k.startswith(tuple(new_prefixes))]
    if new:
        partly = sorted({
            p
            for p in new_prefixes
            for k in own if k.startswith(p) and k in state_dict
        })
        if partly:
            raise CheckpointMismatchError(
                f'The checkpoint holds only part of {partly}: load all of '
                'their weights or none.')
        missing = [k for k in missing if k not in new]
    unexpected = sorted(k for k in state_dict if k not in own)
    mis_shaped = sorted(f'{k} (checkpoint {tuple(state_dict[k].shape)}, '
                        f'model {tuple(own[k].shape)})' for k in own
                        if k in state_dict and hasattr(state_dict[k], 'shape')
                        and tuple(state_dict[k].shape) != tuple(own[k].shape))
    if not (missing or unexpected or mis_shaped):
        return new
    lines = [f'The checkpoint does not fit {type(model).__name__}:']
    if missing:
        lines.append(f'  missing keys ({len(missing)}): {_fmt(missing)}')
    if unexpected:
        lines.append(
            f'  unexpected keys ({len(unexpected)}): {_fmt(unexpected)}')
    if mis_shaped:
        lines.append(
            f'  mis-shaped keys ({len(mis_shaped)}): {_fmt(mis_shaped)}')
    if hint:
        lines.append(hint)
    raise CheckpointMismatchError('\n'.join(lines))


def load_state_dict_strict(
    model: nn.Module,
    state_dict: Dict[str, torch.Tensor],
    hint: Optional[str] = None,
    new_prefixes: Sequence[str] = ()) -> List[str]:
    """Check with :func:`check_state_dict`, then load.

    Returns:
        list[str]: Keys under ``new_prefixes`` that keep their
        initialisation.
    """
    new = check_state_dict(model, state_dict, hint, new_prefixes)
    model.load_state_dict(state_dict, strict=not new)
    return new
