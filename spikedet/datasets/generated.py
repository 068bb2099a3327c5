"""What the dataset generators share: their ``meta.json`` and their claim on
an output folder (never overwrite files another program wrote)."""
import json
import os
import os.path as osp
from typing import Callable, Optional, Sequence

META_FILE = 'meta.json'


def read_json(path: str) -> Optional[dict]:
    """The content of a JSON file; None if it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_meta(out_dir: str) -> Optional[dict]:
    """``out_dir/meta.json``; None if there is none."""
    return read_json(osp.join(out_dir, META_FILE))


def write_meta(out_dir: str, meta: dict) -> None:
    """Write ``out_dir/meta.json``."""
    with open(osp.join(out_dir, META_FILE), 'w') as f:
        json.dump(meta, f, indent=2)


def is_finished(meta: Optional[dict], params: dict) -> bool:
    """Whether ``meta`` records a finished generation with ``params``."""
    return (meta is not None and bool(meta.get('complete'))
            and meta.get('params') == params)


def _non_empty(path: str) -> bool:
    return bool(os.listdir(path))


def claim_out_dir(out_dir: str,
                  old_meta: Optional[dict],
                  generator: str,
                  params: dict,
                  folders: Sequence[str],
                  make_dirs: Sequence[str] = (),
                  foreign: Callable[[str], bool] = _non_empty) -> None:
    """Make sure ``out_dir`` is ``generator``'s to (re)write, then mark it
    as an unfinished generation.

    The folder is ours if its ``meta.json`` was written by ``generator``
    (also by an interrupted run) or if none of its ``folders`` holds
    ``foreign`` content yet; anything else (e.g. a real dataset with the
    same layout) is refused instead of being overwritten.

    Args:
        out_dir (str): The output folder.
        old_meta (dict, optional): Its current ``meta.json``.
        generator (str): Dotted name of the generating function.
        params (dict): The generation parameters.
        folders (Sequence[str]): Sub-folders the generator writes.
        make_dirs (Sequence[str]): Sub-folders to create. Defaults to ().
        foreign (Callable[[str], bool]): Whether an existing sub-folder holds
            content the generator must not overwrite. Defaults to "it is
            not empty".

    Raises:
        FileExistsError: A sub-folder holds foreign content.
    """
    writer = generator.rsplit('.', 1)[-1]
    if old_meta is None or old_meta.get('generator') != generator:
        for sub in folders:
            path = osp.join(out_dir, sub)
            if osp.isdir(path) and foreign(path):
                raise FileExistsError(
                    f'{path!r} already holds files that {writer} did not '
                    'write (no meta.json of ours). Choose an empty or new '
                    '--out-dir, or delete them yourself.')
    for sub in make_dirs:
        os.makedirs(osp.join(out_dir, sub), exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    write_meta(out_dir,
               dict(generator=generator, complete=False, params=params))
