"""Mixed precision on the CPU: bfloat16 autocast for mmengine's Runner."""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from spikedet.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """mmengine's ``OptimWrapper`` with CPU autocast, what ``tools/train.py
    --amp`` uses without a GPU (mmengine's ``AmpOptimWrapper`` needs one).

    bfloat16 has float32's exponent range, so no loss scaling is needed.
    Spiking neurons of the fused backend keep a float32 membrane under it.

    Args:
        dtype (str | torch.dtype): Autocast dtype. Defaults to
            ``'bfloat16'``.
        **kwargs: ``OptimWrapper``'s arguments (``optimizer``, ...).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype not in (torch.bfloat16, torch.float16):
            raise ValueError('CPUAmpOptimWrapper: dtype must be '
                             f"'bfloat16' or 'float16', got {dtype}.")
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The base context (gradient accumulation) plus CPU autocast."""
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield
