"""spikedet's registries: children of mmengine's roots, scoped ``spikedet``.

mmdet's, mmseg's and mmpretrain's registries are children of the same mmengine
roots. A lookup walks from a child up to the root but never sideways into a
sibling, so every spikedet module is registered twice by the decorators below:

* in spikedet's own child registry, so configs of any library can say
  ``type='spikedet.MetaSpikeFormer'`` (the scope prefix imports spikedet by
  itself, as mmseg's configs do with ``mmpretrain.ConvNeXt``);
* in mmengine's root registry, so the plain name ``type='MetaSpikeFormer'``
  works from ``default_scope='mmdet'``, ``'mmseg'`` or ``'mmpretrain'`` after
  ``custom_imports=dict(imports=['spikedet'], allow_failed_imports=False)``.
"""
import functools
from typing import Callable, Optional, Type

from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import DefaultScope, Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='spikedet',
    locations=['spikedet.models'])

HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='spikedet',
    locations=['spikedet.engine'])

OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optim_wrapper_constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    scope='spikedet',
    locations=['spikedet.engine'])


def _register_twice(own: Registry, root: Registry,
                    name: Optional[str] = None) -> Callable[[Type], Type]:

    def decorator(cls: Type) -> Type:
        own.register_module(name=name, module=cls)
        root.register_module(name=name, module=cls)
        return cls

    return decorator


def register_model(name: Optional[str] = None) -> Callable[[Type], Type]:
    """Register a model class in spikedet's and mmengine's MODELS registries.

    Args:
        name (str, optional): Registered name. Defaults to the class name.
    """
    return _register_twice(MODELS, MMENGINE_MODELS, name)


def register_hook(name: Optional[str] = None) -> Callable[[Type], Type]:
    """Register a hook class in spikedet's and mmengine's HOOKS registries.

    Args:
        name (str, optional): Registered name. Defaults to the class name.
    """
    return _register_twice(HOOKS, MMENGINE_HOOKS, name)


def register_optim_wrapper_constructor(
        name: Optional[str] = None) -> Callable[[Type], Type]:
    """Register an optimizer wrapper constructor in spikedet's and mmengine's
    OPTIM_WRAPPER_CONSTRUCTORS registries.

    Args:
        name (str, optional): Registered name. Defaults to the class name.
    """
    return _register_twice(OPTIM_WRAPPER_CONSTRUCTORS,
                           MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, name)


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
