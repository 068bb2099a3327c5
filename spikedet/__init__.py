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


def _register_config_package() -> None:
    """Let mmengine 0.10.x resolve ``spikedet::`` in ``_base_``.

    Three things, each for ``spikedet`` only (other packages are looked up
    by mmengine exactly as before):

    * mmengine accepts only the packages in its ``MODULE2PACKAGE`` table:
      spikedet adds itself, as other OpenMMLab plugins do.
    * mmengine reads ``<installed path>/.mim/configs`` and takes that path
      from the distribution's location, which for an editable install
      (PEP 660: an ``__editable__`` finder, the metadata in site-packages)
      is a ``site-packages/spikedet`` that does not exist. For spikedet the
      path is this package's directory, right for wheel and editable
      installs alike.
    * mmengine gives every object of a ``pkg::`` base the scope ``pkg``
      (``_scope_='spikedet'``), which would make mmdet's ``MaskRCNN`` or
      mmseg's ``EncoderDecoder`` be looked up in spikedet's registries and
      fail. spikedet's configs are mmdet/mmseg/mmpretrain configs that name
      their library by ``default_scope`` (and spikedet's classes by the
      ``spikedet.`` prefix), so a ``spikedet::`` base is read like a local
      base: without that scope.
    """
    import mmengine.config.config as mmengine_config
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('spikedet', 'spikedet')
    config_cls = mmengine_config.Config
    if getattr(config_cls._get_cfg_path, 'spikedet_aware', False):
        return
    installed_path = mmengine_config.get_installed_path
    get_cfg_path = config_cls._get_cfg_path

    def get_installed_path(package: str) -> str:
        if package == 'spikedet':
            return osp.dirname(osp.abspath(__file__))
        return installed_path(package)

    def _get_cfg_path(cfg_path: str, filename: str):
        path, scope = get_cfg_path(cfg_path, filename)
        return path, (None if scope == 'spikedet' else scope)

    _get_cfg_path.spikedet_aware = True  # type: ignore[attr-defined]
    mmengine_config.get_installed_path = get_installed_path
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
_REGISTRIES = ('MODELS', 'HOOKS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'DATASETS',
               'TRANSFORMS')


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f'{__name__}.{name}')
    if name in _REGISTRIES:
        return getattr(importlib.import_module(f'{__name__}.registry'), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


__all__ = ['__version__', 'version_info']
