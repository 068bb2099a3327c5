"""Steps shared by the config-shrinking helpers."""
import glob
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple, Union

from mmengine.config import Config, ConfigDict

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def require_dataset(paths: Iterable[str], what: str) -> None:
    """Raise a :class:`FileNotFoundError` that says how to generate the
    fashion-scenes dataset unless every path exists.

    Args:
        paths (Iterable[str]): Files or folders of the dataset.
        what (str): What is missing, e.g. ``'fashion-scenes annotations'``.
    """
    for path in paths:
        if not osp.exists(path):
            raise FileNotFoundError(
                f"No {what} at '{path}'. Generate the dataset first, e.g. "
                'with spikedet.datasets.generate_fashion_scenes(data_root, '
                '...).')


def small_loader(loader: ConfigDict,
                 batch_size: int,
                 dataset: Optional[dict] = None) -> None:
    """Give a dataloader config a small batch and no worker processes (and
    a new dataset when given), in place."""
    if dataset is not None:
        loader['dataset'] = dataset
    loader['batch_size'] = batch_size
    loader['num_workers'] = 0
    loader['persistent_workers'] = False


def tiny_arch(backbone: ConfigDict, archs: Dict[str, dict],
              helper: str) -> Tuple[str, dict]:
    """The backbone class name of a backbone config and a copy of its tiny
    arch from ``archs``.

    Raises:
        ValueError: ``archs`` has no arch for the backbone.
    """
    name = str(backbone.type).split('.')[-1]
    if name not in archs:
        raise ValueError(f'{helper} shrinks {sorted(archs)} backbones, got '
                         f'{backbone.type!r}; pass shrink_model=False.')
    return name, dict(archs[name])


def cpu_optim_wrapper(cfg: Config) -> None:
    """``AmpOptimWrapper`` -> ``OptimWrapper`` when no GPU is present (the
    rest of the optimizer config is kept), in place."""
    import torch
    if (cfg.get('optim_wrapper', {}).get('type') == 'AmpOptimWrapper'
            and not torch.cuda.is_available()):
        cfg.optim_wrapper['type'] = 'OptimWrapper'
        cfg.optim_wrapper.pop('dtype', None)
        cfg.optim_wrapper.pop('loss_scale', None)


#: First words of a config that only keeps a deprecated name loadable.
ALIAS_MARKER = '# Deprecated name, kept loadable'


def is_config_alias(path: str) -> bool:
    """Whether a config file is a deprecated-name alias of another one."""
    with open(path) as f:
        return f.read(len(ALIAS_MARKER)) == ALIAS_MARKER


def find_configs(root: str,
                 *patterns: str,
                 aliases: Union[bool, str] = False) -> List[str]:
    """Sorted config files under ``root`` matching the glob ``patterns``.

    Args:
        root (str): Repository root.
        *patterns (str): Globs relative to ``root``, e.g.
            ``'configs/sem-fpn/*.py'``.
        aliases (bool): Also list deprecated-name aliases (or only them,
            with ``aliases='only'``). Defaults to False.

    Returns:
        list[str]: Absolute paths.
    """
    paths = sorted({
        p
        for pattern in patterns
        for p in glob.glob(osp.join(root, pattern))
    })
    if aliases == 'only':
        return [p for p in paths if is_config_alias(p)]
    return paths if aliases else [p for p in paths if not is_config_alias(p)]


def default_scope_name() -> Optional[str]:
    """The current mmengine default scope by name (None without one).

    Tests compare scopes by name: mmengine's ``overwrite_default_scope``
    restores deep copies of the instances, so identity says nothing about
    whether a tool left the caller's scope as it was.
    """
    from mmengine.registry import DefaultScope
    current = DefaultScope.get_current_instance()
    return None if current is None else current.scope_name
