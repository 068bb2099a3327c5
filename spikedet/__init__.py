"""spikedet: spiking-neural-network backbones for OpenMMLab.

``import spikedet`` is light: it checks the installed library versions
(metadata only, :mod:`spikedet.compat`) and lets mmengine find spikedet's
configs (``_base_ = ['spikedet::<folder>/<config>.py']``). It imports no
model code. spikedet's classes register when first needed: a scoped name in
a config (``type='spikedet.MetaSpikeFormer'``) makes mmengine import
:mod:`spikedet.registry`, whose registries import their ``locations``
(``spikedet.models``, ``spikedet.engine``, ``spikedet.datasets``) on the
first lookup. Submodules and the registries are also reachable as
attributes (``spikedet.models``, ``spikedet.MODELS``), imported on first
access.
"""
import importlib
import os.path as osp
import sys
from typing import Any

from .compat import check_dependencies
from .version import __version__, version_info

check_dependencies()

#: Where the shipped configs are: ``spikedet/.mim/configs`` (a symlink to
#: the checkout's ``configs/`` for an editable install, a copy in a wheel).
CONFIG_ROOT = osp.join(osp.dirname(osp.abspath(__file__)), '.mim', 'configs')
#: Prefix of spikedet's configs in ``_base_``.
CONFIG_PREFIX = 'spikedet::'


def _register_config_package() -> None:
    """Let ``_base_ = ['spikedet::<path>.py']`` work in any config.

    mmengine 0.10.x resolves ``pkg::`` for its own table of OpenMMLab
    packages only, with a pattern that needs a ``folder/`` of word
    characters (no top-level configs, no ``mask-rcnn/``), takes the package
    path from the distribution's location (wrong for a PEP 660 editable
    install, whose metadata sits in site-packages) and gives every object of
    such a base the scope ``pkg``, which would look mmdet's ``MaskRCNN`` up
    in spikedet's registries. spikedet's configs are mmdet/mmseg/mmpretrain
    configs naming their library by ``default_scope`` and spikedet's classes
    by the ``spikedet.`` prefix, so ``spikedet::<path>`` is read as the file
    ``CONFIG_ROOT/<path>``, like a local base (no scope). Other packages are
    resolved by mmengine as before. ``spikedet`` is also added to mmengine's
    package table (used in its registry hints), as other plugins do.
    """
    import mmengine.config.config as mmengine_config
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('spikedet', 'spikedet')
    config_cls = mmengine_config.Config
    if getattr(config_cls._get_cfg_path, 'spikedet_aware', False):
        return
    get_cfg_path = config_cls._get_cfg_path

    def _get_cfg_path(cfg_path: str, filename: str):
        if not cfg_path.startswith(CONFIG_PREFIX):
            return get_cfg_path(cfg_path, filename)
        path = osp.join(CONFIG_ROOT, cfg_path[len(CONFIG_PREFIX):])
        if not osp.isfile(path):
            raise FileNotFoundError(
                f"{filename}: '{cfg_path}' is not a spikedet config: no "
                f"'{path}'. The configs ship in spikedet/.mim/configs; in a "
                'checkout, (re)install with pip install -e . to link them.')
        return path, None

    _get_cfg_path.spikedet_aware = True  # type: ignore[attr-defined]
    config_cls._get_cfg_path = staticmethod(_get_cfg_path)


_register_config_package()

# A Runner that imports spikedet through a config's custom_imports may load
# checkpoints next (resume, load_from): register spikedet's checkpoint
# support (weights-only safe globals, clear errors for damaged files) now,
# cheaply, since mmengine's runner is loaded already. Otherwise spikedet's
# models and tools import it.
if 'mmengine.runner' in sys.modules:
    importlib.import_module(f'{__name__}.utils.checkpoint')

#: Submodules imported on first attribute access.
_SUBMODULES = ('analysis', 'converters', 'datasets', 'engine', 'models',
               'registry', 'testing', 'utils')
#: Names of :mod:`spikedet.registry` reachable as ``spikedet.<NAME>``.
_REGISTRIES = ('MODELS', 'HOOKS', 'OPTIM_WRAPPER_CONSTRUCTORS',
               'OPTIM_WRAPPERS', 'DATASETS', 'TRANSFORMS')


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f'{__name__}.{name}')
    if name in _REGISTRIES:
        return getattr(importlib.import_module(f'{__name__}.registry'), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = ['__version__', 'version_info']
