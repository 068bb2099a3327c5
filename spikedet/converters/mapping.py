"""The table-driven key mapping shared by the converters.

A *module map* sends each official module name to a ``(target, kind)``
rule: the spikedet module name (None to leave the key unmapped) and how the
tensors are treated (None: as they are; :data:`POINTWISE`: a Conv1d/Linear
weight that becomes a 1x1 Conv2d weight; :data:`DROP`: parameters the
official forward never uses). Parameter leaf names (``weight``, ``bias``,
``running_mean`` ...) are kept.
"""
import re
from typing import Dict, List, Optional, Tuple, Union

import torch

Rule = Tuple[Optional[str], Optional[str]]  # (target module, kind)
Part = Union[str, Tuple[Optional[str], Optional[str]]]

#: Kind of a rule: a point-wise Conv1d/Linear weight that becomes Conv2d 1x1.
POINTWISE = 'pointwise'
#: Kind of a rule: official parameters that the official forward never uses.
DROP = 'drop'

#: Official classifier layers -> SpikingClsHead layers.
HEAD_PARTS = {'head': 'fc', 'head_kd': 'fc_dist'}


def as_rule(value: Part) -> Rule:
    """A table entry (a target name or a ``(target, kind)`` pair) as a
    rule."""
    return (value, None) if isinstance(value, str) else tuple(value)


def add_parts(module_map: Dict[str, Rule], src: str, dst: Optional[str],
              parts: Dict[str, Part]) -> None:
    """Map the sub-modules ``parts`` of official module ``src`` into
    spikedet module ``dst``."""
    for part, value in parts.items():
        target, kind = as_rule(value)
        module_map[f'{src}.{part}'] = (None if target is None else
                                       f'{dst}.{target}', kind)


def as_conv2d_1x1(t: torch.Tensor) -> torch.Tensor:
    """Conv1d ``[o, i, 1]`` or Linear ``[o, i]`` -> Conv2d ``[o, i, 1, 1]``;
    anything else is returned as is (the shape check reports it)."""
    if t.dim() == 3 and t.shape[-1] == 1 or t.dim() == 2:
        return t.reshape(t.shape[0], t.shape[1], 1, 1)
    return t


def count_blocks(state_dict: Dict[str, torch.Tensor], name: str) -> int:
    """Number of blocks ``name.0``, ``name.1``, ... in a state dict."""
    pattern = re.compile(rf'^{re.escape(name)}\.(\d+)\.')
    indices = [int(m.group(1)) for m in map(pattern.match, state_dict) if m]
    return max(indices) + 1 if indices else 0


def apply_map(
    state_dict: Dict[str, torch.Tensor], module_map: Dict[str, Rule]
) -> Tuple[Dict[str, torch.Tensor], Dict[str, str], List[str], List[str]]:
    """Rename the keys of an official state dict.

    Returns:
        tuple: The converted state dict, the key map (official -> spikedet
        key), the sorted unmapped keys and the sorted dropped keys.
    """
    out, key_map, unmapped, dropped = {}, {}, [], []
    for key, tensor in state_dict.items():
        module, _, leaf = key.rpartition('.')
        target, kind = module_map.get(module, (None, None))
        if kind == DROP and leaf in ('weight', 'bias'):
            dropped.append(key)
            continue
        if target is None:
            unmapped.append(key)
            continue
        if kind == POINTWISE and leaf == 'weight':
            tensor = as_conv2d_1x1(tensor)
        new_key = f'{target}.{leaf}'
        out[new_key] = tensor
        key_map[key] = new_key
    return out, key_map, sorted(unmapped), sorted(dropped)
