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

The module also gives every local checkpoint load one clear error for a file
that is not a complete checkpoint (:func:`check_checkpoint_file`): a
truncated download or copy otherwise ends in torch's bare ``OSError: [Errno
22] Invalid argument`` or ``PytorchStreamReader failed reading zip
archive``. :func:`register_checkpoint_file_check` installs it as mmengine's
loader for local paths (``CheckpointLoader``'s ``''`` scheme), which
``tools/test.py``, ``--resume``, ``load_from`` and ``init_cfg=dict(type=
'Pretrained')`` all go through; the converters call it directly. Both
registrations run when this module is imported.
"""
import os.path as osp
import pickle
import zipfile
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.optim.scheduler.param_scheduler import OneCycleParamScheduler
from mmengine.runner.checkpoint import CheckpointLoader, load_from_local
from mmengine.utils import digit_version

SafeGlobal = Union[Callable, Tuple[Callable, str]]

# Class attributes a checkpoint may fetch with ``getattr``; nothing else.
_GETATTR_ALLOWED: Tuple[Tuple[type, Tuple[str, ...]], ...] = (
    (HistoryBuffer, ('min', 'max', 'current', 'mean')),
    (OneCycleParamScheduler, ('_annealing_cos', '_annealing_linear')),
)

# numpy dtypes whose arrays/scalars may appear in a checkpoint.
_NUMPY_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
                 'uint32', 'uint64', 'float16', 'float32', 'float64',
                 'longdouble', 'complex64', 'complex128', 'clongdouble')


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


# -- complete-checkpoint check ------------------------------------------------

#: How ``torch.save`` files start: a zip archive (torch >= 1.6) or the legacy
#: format (pickle protocol 2, then torch's magic number as a long).
_ZIP_MAGIC = b'PK\x03\x04'
_LEGACY_MAGIC = b'\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.'

#: What to do about a file that is not a complete checkpoint.
_CHECKPOINT_ADVICE = (
    'Download or copy it again (compare its size or sha256 with the source), '
    'or pass a .pth written by tools/train.py (work_dirs/<config>/'
    'epoch_N.pth or iter_N.pth) or by a converter in '
    'tools/model_converters/ (the papers\' official files need converting '
    'first).')


class CheckpointFileError(OSError):
    """A file given as a checkpoint is empty, truncated or not a checkpoint
    written by ``torch.save``."""


def _describe_start(head: bytes) -> str:
    """Guess what a non-checkpoint file is from its first bytes."""
    text = head.lstrip().lower()
    if text.startswith((b'<!doctype html', b'<html', b'<?xml')):
        return ('it is an HTML/XML page (often the error page of a failed '
                'download)')
    if text.startswith((b'{', b'[')):
        return 'it looks like a JSON file'
    if head.startswith(b'\x80'):
        return 'it is a plain Python pickle, not a torch.save file'
    if head.startswith(b'\x1f\x8b'):
        return 'it is gzip-compressed: unpack it first'
    if head.startswith(b'\x89PNG') or head.startswith(b'\xff\xd8\xff'):
        return 'it is an image'
    try:
        head.decode('utf-8')
        return 'it is a text file'
    except UnicodeDecodeError:
        return f'it starts with the bytes {head[:8]!r}'


def checkpoint_file_problem(filename: str) -> Optional[str]:
    """Say why a local file is not a complete ``torch.save`` checkpoint,
    without loading it.

    Reads the first bytes and, for a zip-format checkpoint (torch >= 1.6),
    the zip directory at the end of the file, which a truncated file lacks.
    A legacy-format file (torch < 1.6) can only be checked by loading it.

    Args:
        filename (str): Path of the file.

    Returns:
        str or None: The reason, or None if the file looks complete.
    """
    size = osp.getsize(filename)
    if size == 0:
        return 'the file is empty (0 bytes)'
    with open(filename, 'rb') as f:
        head = f.read(64)
    if head.startswith(_LEGACY_MAGIC):
        return None
    if not head.startswith(_ZIP_MAGIC):
        return ('it is not a file written by torch.save (neither a zip '
                f'archive nor the legacy format): {_describe_start(head)}')
    try:
        with zipfile.ZipFile(filename) as zf:
            names = zf.namelist()
            last = max(
                zf.infolist(), key=lambda i: i.header_offset, default=None)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        return ('it starts like a torch.save zip archive but its end is '
                f'missing or damaged ({e}): the file is truncated, e.g. an '
                'interrupted download, copy or save')
    if not any(n.endswith('data.pkl') for n in names):
        return ('it is a zip archive but not a torch.save checkpoint (it has '
                'no data.pkl)')
    if last is not None and last.header_offset + last.compress_size > size:
        return 'the zip archive is cut short: the file is truncated'
    return None


def check_checkpoint_file(filename: str) -> None:
    """Raise a clear error unless ``filename`` is an existing, complete
    ``torch.save`` checkpoint (see :func:`checkpoint_file_problem`).

    Args:
        filename (str): Path of the checkpoint (``~`` is expanded).

    Raises:
        FileNotFoundError: If there is no such file.
        CheckpointFileError: If the file is empty, truncated or not a
            checkpoint; the message names the file and what to do.
    """
    path = osp.expanduser(filename)
    if not osp.isfile(path):
        what = 'is a directory' if osp.isdir(path) else 'does not exist'
        raise FileNotFoundError(
            f"Checkpoint '{filename}' {what}. Pass the path of a .pth file "
            'written by tools/train.py or by a converter in '
            'tools/model_converters/.')
    problem = checkpoint_file_problem(path)
    if problem is not None:
        raise CheckpointFileError(
            f"'{filename}' ({osp.getsize(path)} bytes) is not a complete "
            f'checkpoint: {problem}. {_CHECKPOINT_ADVICE}')


def _is_read_error(e: RuntimeError) -> bool:
    """Whether a ``RuntimeError`` of ``torch.load`` is about the file's
    bytes (damaged zip records) rather than its content."""
    msg = str(e)
    return any(
        words in msg for words in ('PytorchStreamReader', 'zip archive',
                                   'unexpected EOF', 'might be corrupted'))


def load_local_checkpoint(filename: str,
                          map_location: Optional[Any] = None) -> Any:
    """mmengine's local checkpoint loader, with :func:`check_checkpoint_file`
    first and a clear error for a file torch still cannot read.

    Registered for local paths by :func:`register_checkpoint_file_check`;
    otherwise exactly ``mmengine.runner.checkpoint.load_from_local`` (a
    refusal of torch's weights-only unpickler is passed on unchanged).

    Args:
        filename (str): Local path.
        map_location (optional): As for :func:`torch.load`. Defaults to None.

    Returns:
        The loaded checkpoint.
    """
    check_checkpoint_file(filename)
    try:
        return load_from_local(filename, map_location)
    except pickle.UnpicklingError as e:
        if 'weights only load failed' in str(e).lower() and \
                'invalid load key' not in str(e).lower():
            raise
        raise CheckpointFileError(
            f"'{filename}' could not be read as a checkpoint ({e}). "
            f'{_CHECKPOINT_ADVICE}') from e
    except (EOFError, RuntimeError, OSError) as e:
        if isinstance(e, RuntimeError) and not _is_read_error(e):
            raise  # e.g. a CUDA tensor on a machine without CUDA
        raise CheckpointFileError(
            f"'{filename}' could not be read as a checkpoint: it is damaged "
            f'or truncated ({type(e).__name__}: {e}). {_CHECKPOINT_ADVICE}'
        ) from e


def register_checkpoint_file_check() -> None:
    """Make :func:`load_local_checkpoint` mmengine's loader for local paths
    (``CheckpointLoader``'s ``''`` scheme). Idempotent."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)


# Runs wherever spikedet loads or builds anything that reaches a checkpoint:
# spikedet's models and tools import this module.
register_mmengine_safe_globals()
register_checkpoint_file_check()
