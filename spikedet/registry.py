"""spikedet's registries: children of mmengine's roots, scoped ``spikedet``.

Every spikedet class is registered once, here, as mmyolo does: nothing of
spikedet lands in mmengine's root registries. mmdet's, mmseg's and
mmpretrain's registries are children of the same roots, and a scoped name
such as ``type='spikedet.MetaSpikeFormer'`` resolves from any of their
default scopes: mmengine imports ``spikedet.registry``, finds the
``spikedet`` child of the root and imports the child's ``locations``
(``spikedet.models``, ...), which registers the classes. A plain
``type='MetaSpikeFormer'`` resolves only with ``default_scope='spikedet'``.

Register a new class with::

    from spikedet.registry import MODELS

    @MODELS.register_module()
    class MyNeck(BaseModule):
        ...
"""
import functools
from typing import Callable

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import DefaultScope, Registry


def _child_of(root: Registry, location: str) -> Registry:
    """spikedet's child of an mmengine root registry, filled by importing
    ``location``."""
    return Registry(
        root.name, parent=root, scope='spikedet', locations=[location])


#: Models: backbones, necks, heads, losses, classifiers.
MODELS = _child_of(MMENGINE_MODELS, 'spikedet.models')
#: Runner hooks.
HOOKS = _child_of(MMENGINE_HOOKS, 'spikedet.engine')
#: Optimizer wrapper constructors.
OPTIM_WRAPPER_CONSTRUCTORS = _child_of(MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                       'spikedet.engine')
#: Optimizer wrappers.
OPTIM_WRAPPERS = _child_of(MMENGINE_OPTIM_WRAPPERS, 'spikedet.engine')
#: Datasets.
DATASETS = _child_of(MMENGINE_DATASETS, 'spikedet.datasets')
#: Data transforms.
TRANSFORMS = _child_of(MMENGINE_TRANSFORMS, 'spikedet.datasets')


def init_in_scope(scope: str) -> Callable[[Callable], Callable]:
    """Decorate an ``__init__`` so that the sub-modules it builds from
    configs (losses, heads, teachers) resolve in ``scope``'s registries,
    whatever the caller's default scope: e.g. a mmseg decode head gets
    mmseg's ``CrossEntropyLoss``, never mmdet's or mmpretrain's.

    Args:
        scope (str): ``'mmdet'``, ``'mmseg'`` or ``'mmpretrain'``.
    """

    def decorator(init: Callable) -> Callable:

        @functools.wraps(init)
        def wrapper(self, *args, **kwargs):
            with DefaultScope.overwrite_default_scope(scope):
                init(self, *args, **kwargs)

        return wrapper

    return decorator
