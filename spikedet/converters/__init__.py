"""Conversion of the papers' official checkpoints to spikedet's layout.

Two official code bases are covered, one module each:

* :mod:`.sdtv2`: Spike-driven Transformer V2 to :class:`MetaSpikeFormer`
  plus :class:`SpikingClsHead`;
* :mod:`.spikformer`: Spikformer (ImageNet and CIFAR-10 code) to
  :class:`Spikformer` plus :class:`SpikingClsHead`.

The official-to-spikedet key mapping is generated from tables (one per
official container and module type, see :mod:`.mapping`). Conversion is
strict: every official key must map (except parameters the official forward
never uses, dropped with a note), and the result must fit the spikedet
model of the inferred architecture exactly in names and shapes, otherwise
:class:`~spikedet.utils.state_dict.CheckpointMismatchError` lists what is
missing, unexpected or mis-shaped. The command lines are
``tools/model_converters/sdtv2_to_spikedet.py`` and
``spikformer_to_spikedet.py``.
"""
import os.path as osp
from typing import Sequence, Union

from .base import ConvertedCheckpoint, build_converted_model
from .checkpoint import (ConversionError, extract_state_dict,
                         load_checkpoint_file)
from .sdtv2 import convert_sdtv2
from .spikformer import convert_spikformer

#: Converter name -> function.
CONVERTERS = dict(sdtv2=convert_sdtv2, spikformer=convert_spikformer)


def convert_file(
    kind: str,
    src: str,
    dst: str,
    arch: Union[str, dict, None] = None,
    trusted: bool = False,
    safe_types: Sequence[type] = ()) -> ConvertedCheckpoint:
    """Load ``src``, convert it with the ``kind`` converter (``'sdtv2'`` or
    ``'spikformer'``) and save the result to ``dst``.

    Args:
        kind (str): ``'sdtv2'`` or ``'spikformer'``.
        src (str): The official checkpoint.
        dst (str): Where to write the converted one.
        arch (str | dict, optional): Expected arch, see the converters.
            Defaults to None (inferred).
        trusted (bool): Allow arbitrary pickled objects in ``src``, see
            :func:`load_checkpoint_file`. Defaults to False.
        safe_types (Sequence[type]): Further classes ``src`` may hold, see
            :func:`load_checkpoint_file`. Defaults to ().

    Returns:
        ConvertedCheckpoint: The conversion result.
    """
    if kind not in CONVERTERS:
        raise KeyError(f"Unknown converter '{kind}', choose from "
                       f'{sorted(CONVERTERS)}.')
    if osp.abspath(src) == osp.abspath(dst):
        raise ValueError('DST must differ from SRC (the official file would '
                         'be overwritten).')
    converted = CONVERTERS[kind](load_checkpoint_file(src, trusted,
                                                      safe_types), arch)
    converted.save(dst, src)
    return converted


__all__ = [
    'CONVERTERS', 'ConversionError', 'ConvertedCheckpoint',
    'build_converted_model', 'convert_file', 'convert_sdtv2',
    'convert_spikformer', 'extract_state_dict', 'load_checkpoint_file'
]
