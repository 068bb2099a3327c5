"""Let checkpoints written by mmengine's Runner load under torch's
weights-only unpickler.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``. mmengine
0.10.7 calls ``torch.load`` without that argument (resume, ``load_from``,
``tools/test.py``, ``init_cfg=dict(type='Pretrained')``), and a Runner
checkpoint holds more than tensors: its ``message_hub`` stores
:class:`~mmengine.logging.HistoryBuffer` objects backed by numpy arrays, and
``eta``/``best_score`` are numpy scalars. Loading one therefore fails with
``UnpicklingError: Weights only load failed``.

:func:`register_mmengine_safe_globals` allow-lists exactly the globals such a
checkpoint refers to, so the safe unpickler accepts it. Nothing else changes:
``weights_only`` stays on, and a file that refers to any other global (a
custom class, ``os.system``, ...) is still rejected.

Why each global is needed (found by saving Runner checkpoints with hooks,
evaluation, every common parameter scheduler and an EMA hook, then loading
them with ``weights_only=True``):

* ``mmengine.logging.history_buffer.HistoryBuffer``: every logged scalar in
  ``checkpoint['message_hub']['log_scalars']``.
* ``builtins.getattr``, bound to a *restricted* function: ``HistoryBuffer``
  pickles its statistics methods as ``getattr(HistoryBuffer, 'mean')`` etc.,
  and ``OneCycleParamScheduler`` its ``anneal_func`` as
  ``getattr(OneCycleParamScheduler, '_annealing_cos')``. The stand-in only
  resolves those named attributes of those two classes and raises for
  anything else; the real ``getattr`` is never allow-listed.
* ``mmengine.optim.scheduler.param_scheduler.OneCycleParamScheduler``: the
  owner of the above ``anneal_func``.
* ``numpy._core.multiarray._reconstruct``, ``numpy.ndarray``,
  ``numpy.dtype`` and the numeric/bool ``numpy.dtypes.*DType`` classes:
  numpy arrays (``HistoryBuffer`` histories; non-scalar metric values kept
  as ``val/<key>`` runtime info). ``ObjectDType`` is deliberately left out,
  so object arrays are rejected.
* ``numpy._core.multiarray.scalar``: numpy scalars (``eta`` from
  ``IterTimerHook``, ``best_score`` and metric values such as mmseg's mIoU).
* The same numpy functions under their numpy 1.x names
  (``numpy.core.multiarray.*``), so checkpoints written with numpy 1.x load
  too.

Builtin containers, ``collections.OrderedDict``/``Counter`` (MultiStepLR's
``milestones``) and tensors are accepted by torch without help.
"""
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.optim.scheduler.param_scheduler import OneCycleParamScheduler
from mmengine.utils import digit_version

SafeGlobal = Union[Callable, Tuple[Callable, str]]

# Class attributes a checkpoint may fetch with ``getattr``; nothing else.
_GETATTR_ALLOWED: Tuple[Tuple[type, Tuple[str, ...]], ...] = (
    (HistoryBuffer, ('min', 'max', 'current', 'mean')),
    (OneCycleParamScheduler, ('_annealing_cos', '_annealing_linear')),
)

# numpy dtypes whose arrays/scalars may appear in a checkpoint.
_NUMPY_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                 'uint16', 'uint32', 'uint64', 'float16', 'float32',
                 'float64', 'longdouble', 'complex64', 'complex128',
                 'clongdouble')


def _checkpoint_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` inside weights-only loads.

    Only resolves the statistics methods of ``HistoryBuffer`` and the
    annealing functions of ``OneCycleParamScheduler``.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    for owner, names in _GETATTR_ALLOWED:
        if obj is owner and name in names:
            return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) while loading a checkpoint '
        'with weights_only=True: only the attributes mmengine checkpoints '
        'refer to are allowed (see spikedet.utils.checkpoint). Load the '
        'file with torch.load(..., weights_only=False) only if you trust it.')


def _numpy_multiarray():
    """numpy's ``multiarray`` module (``numpy._core`` since numpy 2)."""
    core = getattr(np, '_core', None)
    if core is None:  # numpy < 2
        core = np.core
    return core.multiarray


def mmengine_safe_globals() -> List[SafeGlobal]:
    """The globals that checkpoints written by mmengine's Runner refer to.

    Returns:
        list: Entries for :func:`torch.serialization.add_safe_globals`;
        a ``(obj, 'full.name')`` tuple where the pickled name differs from
        ``obj.__module__ + '.' + obj.__qualname__``.
    """
    multiarray = _numpy_multiarray()
    safe: List[SafeGlobal] = [
        HistoryBuffer,
        OneCycleParamScheduler,
        (_checkpoint_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
    ]
    for prefix in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        safe.append((multiarray._reconstruct, f'{prefix}._reconstruct'))
        safe.append((multiarray.scalar, f'{prefix}.scalar'))
    # Since numpy 1.25 every dtype instance has its own class, e.g.
    # numpy.dtypes.Float64DType, which the unpickler checks on BUILD.
    for name in _NUMPY_DTYPES:
        dtype_cls = type(np.dtype(name))
        if dtype_cls is not np.dtype and dtype_cls not in safe:
            safe.append(dtype_cls)
    return safe


def register_mmengine_safe_globals() -> bool:
    """Allow-list the globals of mmengine Runner checkpoints for
    ``torch.load(..., weights_only=True)``.

    Called on ``import spikedet``. Idempotent: repeated calls change nothing.
    A no-op on torch < 2.6, where ``torch.load`` does not default to
    ``weights_only=True`` and mmengine's loads need no help.

    Returns:
        bool: Whether the globals are registered (False on torch < 2.6).
    """
    if digit_version(torch.__version__) < digit_version('2.6.0'):
        return False
    # add_safe_globals stores entries in a set, so repeating it is harmless;
    # it is still called on every invocation so that a caller who removed
    # entries (e.g. by leaving a torch.serialization.safe_globals context
    # that listed the same objects) gets them back.
    torch.serialization.add_safe_globals(mmengine_safe_globals())
    return True
