"""Reading official checkpoints and writing converted ones."""
import pickle
from typing import Any, Dict, Sequence, Tuple

import torch

from spikedet.utils.checkpoint import check_checkpoint_file


class ConversionError(ValueError):
    """The file is not a checkpoint this converter understands, or ``arch``
    does not match it."""


def load_checkpoint_file(path: str,
                         trusted: bool = False,
                         safe_types: Sequence[type] = ()) -> Any:
    """Load a checkpoint file on the CPU.

    Loads with ``weights_only=True`` (tensors and plain containers), also
    allowing the classes in ``safe_types`` (the converter scripts allow the
    namespace class of Python's command-line parser, which the official
    training scripts store as ``args``). A file holding other Python objects
    is refused unless ``trusted``: then it is fully unpickled, which can run
    code.

    Args:
        path (str): Checkpoint path.
        trusted (bool): Allow arbitrary pickled objects. Defaults to False.
        safe_types (Sequence[type]): Further classes the file may hold.
            Defaults to ().

    Returns:
        The loaded object.
    """
    check_checkpoint_file(path)
    try:
        with torch.serialization.safe_globals(list(safe_types)):
            return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        if not trusted:
            lines = [
                line.strip()
                for line in str(e).splitlines() if 'Unpickler error' in line
            ] or [str(e).strip()]
            reason = lines[0].split('. Please')[0]
            allowed = ', '.join(t.__qualname__ for t in safe_types)
            raise ConversionError(
                f"'{path}' holds Python objects other than tensors and plain "
                f'containers{" and " + allowed if allowed else ""}, so it was '
                f'not loaded ({reason}). If you trust the file, re-run with '
                '--trusted (loads with weights_only=False, which can execute '
                'code from the file).') from e
    return torch.load(path, map_location='cpu', weights_only=False)


def extract_state_dict(ckpt: Any) -> Tuple[Dict[str, torch.Tensor], str]:
    """Find the state dict in a loaded checkpoint.

    Accepts ``{'model': sd, ...}`` (the official Meta-SpikeFormer files),
    ``{'state_dict': sd, ...}`` (timm, mmengine) and a plain state dict, and
    strips a ``module.`` prefix (DDP) carried by every key.

    Args:
        ckpt: The loaded checkpoint.

    Returns:
        tuple: The state dict and a description of where it was found.
    """
    if not isinstance(ckpt, dict):
        raise ConversionError(
            f'Expected a checkpoint dict, got {type(ckpt).__name__}.')
    where = 'the file (a plain state dict)'
    for key in ('model', 'state_dict'):
        if isinstance(ckpt.get(key), dict):
            ckpt, where = ckpt[key], f"the file's '{key}' entry"
            break
    not_tensors = [k for k, v in ckpt.items() if not torch.is_tensor(v)]
    if not_tensors:
        raise ConversionError(
            f'No state dict found: {where} has non-tensor entries '
            f'{sorted(map(str, not_tensors))[:10]}. Expected a plain state '
            "dict or one under 'model' or 'state_dict'.")
    if not ckpt:
        raise ConversionError(f'The state dict in {where} is empty.')
    if all(k.startswith('module.') for k in ckpt):
        ckpt = {k[len('module.'):]: v for k, v in ckpt.items()}
        where += " (DDP 'module.' prefix stripped)"
    return dict(ckpt), where


def save_state_dict(state_dict: Dict[str, torch.Tensor], meta: dict,
                    path: str) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}``; with tensors, plain
    containers, str, int and bool only, ``torch.load`` with
    ``weights_only=True`` reads it.

    Args:
        state_dict (dict): The tensors.
        meta (dict): Plain metadata.
        path (str): Where to write.
    """
    state_dict = {
        k: v.detach().cpu().contiguous()
        for k, v in state_dict.items()
    }
    torch.save({'state_dict': state_dict, 'meta': meta}, path)
