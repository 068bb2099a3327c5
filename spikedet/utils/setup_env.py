"""Make a config of any of mmdet, mmseg or mmpretrain runnable: register the
library named by its ``default_scope`` and check its data paths up front."""
import importlib
import os.path as osp
from typing import Iterator, List, Optional, Tuple

from mmengine.config import Config, ConfigDict

#: default_scope -> module with ``register_all_modules``.
LIBRARIES = {
    'mmdet': 'mmdet.utils',
    'mmseg': 'mmseg.utils',
    'mmpretrain': 'mmpretrain.utils',
}


def register_config_scope(cfg: Config) -> str:
    """Check the config's ``default_scope``, register the modules of the
    library it names (and spikedet's), and return it.

    Not OpenMMLab's ``register_all_modules``: that one registers a fixed
    library; this one picks the library from the config.

    Args:
        cfg (Config): The config.

    Returns:
        str: The default scope.
    """
    scope = cfg.get('default_scope')
    if scope not in LIBRARIES:
        raise ValueError(
            f'The config sets default_scope={scope!r}. spikedet runs configs '
            f'of {sorted(LIBRARIES)}: set default_scope to the library '
            'whose models and datasets the config uses.')
    importlib.import_module(
        LIBRARIES[scope]).register_all_modules(init_default_scope=False)
    import spikedet  # noqa: F401  (registers spikedet's modules)
    return scope


def _datasets(cfg: ConfigDict) -> Iterator[ConfigDict]:
    """Yield the leaf dataset configs of a dataset config (unwrapping
    Repeat/ClassBalanced/Concat datasets)."""
    if not isinstance(cfg, dict):
        return
    if 'datasets' in cfg:
        for d in cfg['datasets']:
            yield from _datasets(d)
    elif 'dataset' in cfg:
        yield from _datasets(cfg['dataset'])
    else:
        yield cfg


def _paths(ds: ConfigDict) -> List[Tuple[str, str]]:
    root = ds.get('data_root') or ''
    paths = []
    if root:
        paths.append(('data_root', root))
    ann = ds.get('ann_file')
    if ann:
        paths.append(
            ('ann_file', ann if osp.isabs(ann) else osp.join(root, ann)))
    prefix = ds.get('data_prefix')
    if isinstance(prefix, dict):
        for key, p in prefix.items():
            if isinstance(p, str) and p:
                paths.append((f'data_prefix.{key}',
                              p if osp.isabs(p) else osp.join(root, p)))
    elif isinstance(prefix, str) and prefix:
        paths.append(('data_prefix',
                      prefix if osp.isabs(prefix) else osp.join(root, prefix)))
    return paths


def check_data_paths(cfg: Config, loaders: Tuple[str, ...]) -> None:
    """Raise a clear :class:`FileNotFoundError` if a dataset path of the
    given dataloaders does not exist (instead of a deep traceback later).

    Args:
        cfg (Config): The config.
        loaders (tuple[str]): Dataloader keys to check, e.g.
            ``('train_dataloader', 'val_dataloader')``.
    """
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not loader_cfg:
            continue
        for ds in _datasets(loader_cfg.get('dataset')):
            for key, path in _paths(ds):
                if path.startswith(('http://', 'https://', 's3://')):
                    continue
                if not osp.exists(path):
                    raise FileNotFoundError(
                        f"{loader}: the dataset's {key} '{path}' does not "
                        'exist. Put the dataset there (see the README, '
                        "section 'Data'), or point the config at your copy, "
                        f'e.g. --cfg-options {loader}.dataset.data_root='
                        '/path/to/data/')


def _init_cfgs(node, path: str = 'model') -> Iterator[Tuple[str, dict]]:
    """Yield ``(config path, init_cfg)`` for every Pretrained init_cfg."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        for cfg in (init if isinstance(init, list) else [init]):
            if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
                yield f'{path}.init_cfg', cfg
        for key, value in node.items():
            if key != 'init_cfg':
                yield from _init_cfgs(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _init_cfgs(value, f'{path}[{i}]')


def check_pretrained_paths(cfg: Config) -> None:
    """Raise a clear :class:`FileNotFoundError` if a local ``Pretrained``
    checkpoint named by the model's init_cfg does not exist."""
    if cfg.get('load_from') or cfg.get('resume'):
        return  # the loaded checkpoint replaces the initialisation
    for where, init in _init_cfgs(cfg.get('model')):
        ckpt = init.get('checkpoint', '')
        if '://' in ckpt or osp.exists(ckpt):
            continue
        raise FileNotFoundError(
            f"{where}: the pretrained checkpoint '{ckpt}' does not exist. "
            'Convert the official ImageNet weights with tools/model_converters'
            '/sdtv2_to_spikedet.py (see the README), or train from scratch '
            f'with --cfg-options {where}=None')


def load_config(config: str,
                launcher: str = 'none',
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Tuple[Config, str]:
    """Load a config as tools/train.py and tools/test.py do: merge
    ``--cfg-options``, register its library, set the launcher and the work
    dir (``./work_dirs/<config name>`` unless given).

    Returns:
        tuple[Config, str]: The config and its default scope.
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f"Config file '{config}' not found.")
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    scope = register_config_scope(cfg)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg, scope


def build_runner(cfg: Config):
    """Build the config's runner (``runner_type`` or mmengine's Runner)."""
    if 'runner_type' not in cfg:
        from mmengine.runner import Runner
        return Runner.from_cfg(cfg)
    from mmengine.registry import RUNNERS
    return RUNNERS.build(cfg)
