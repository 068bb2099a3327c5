"""Helpers for tests: shrink a full-size config of any task so that it runs
on a CPU in seconds, on a tiny generated dataset.

One helper per task, named alike, each modifying the config in place and
returning it:

* :func:`tiny_det_config` (mmdet): fashion-scenes in COCO format;
* :func:`tiny_seg_config` (mmseg): fashion-scenes segmentation maps;
* :func:`tiny_cls_config` (mmpretrain): an mmpretrain ``CustomDataset``.

:func:`find_configs` lists config files without the deprecated-name
aliases. Importing this package is light: the libraries and datasets the
helpers need are imported when a helper runs.
"""
from .cls import TINY_CLS_ARCHS, tiny_cls_config
from .common import default_scope_name, find_configs, is_config_alias
from .det import TINY_DET_ARCHS, tiny_det_config
from .seg import TINY_SEG_EMBED_DIMS, tiny_seg_config

__all__ = [
    'tiny_det_config', 'tiny_seg_config', 'tiny_cls_config', 'TINY_DET_ARCHS',
    'TINY_SEG_EMBED_DIMS', 'TINY_CLS_ARCHS', 'find_configs', 'is_config_alias',
    'default_scope_name'
]
