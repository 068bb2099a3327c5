"""Helpers for tests: run a full-size config on a tiny generated dataset.

Shared by the test suites of every task (detection here; other tasks add
their own ``tiny_*`` helpers next to it).
"""
import os.path as osp
from typing import Sequence, Tuple

from mmengine.config import Config, ConfigDict

from spikedet.datasets.fashion_scenes import (FASHION_SCENES_DET_METAINFO,
                                              SCENE_CLASSES)


def _has_masks(model: dict) -> bool:
    roi_head = model.get('roi_head') or {}
    return bool(roi_head.get('mask_head'))


def _set_num_classes(node, num_classes: int) -> None:
    """Set every ``num_classes`` under ``node`` (the RPN head has none)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'num_classes':
                node[key] = num_classes
            else:
                _set_num_classes(value, num_classes)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _set_num_classes(value, num_classes)


def swap_to_tiny_coco(cfg: Config,
                      data_root: str,
                      img_scale: Tuple[int, int] = (64, 64),
                      batch_size: int = 2,
                      with_mask: bool = None,
                      metrics: Sequence[str] = None) -> Config:
    """Point an mmdet config at a tiny COCO-format fashion-scenes dataset.

    Everything about the model stays as the config says except the number of
    classes (set to the 10 scene classes). The train/val/test dataloaders
    become :class:`mmdet.datasets.CocoDataset` on ``data_root`` (layout of
    :func:`spikedet.datasets.generate_fashion_scenes`) with a short pipeline
    (load, resize to ``img_scale``, flip for training, pack), no worker
    processes, and the evaluators a :class:`mmdet.evaluation.CocoMetric` on
    the val annotations.

    Args:
        cfg (Config): A loaded mmdet config; modified in place.
        data_root (str): Root of a generated fashion-scenes dataset.
        img_scale (tuple[int, int]): Resize scale. Defaults to (64, 64).
        batch_size (int): Batch size of every loader. Defaults to 2.
        with_mask (bool, optional): Load instance masks; defaults to whether
            the model has a mask head.
        metrics (Sequence[str], optional): CocoMetric metrics; defaults to
            ``['bbox', 'segm']`` with masks, else ``['bbox']``.

    Returns:
        Config: ``cfg``.
    """
    ann = osp.join(data_root, 'annotations', 'instances_{}.json')
    for split in ('train', 'val'):
        if not osp.isfile(ann.format(split)):
            raise FileNotFoundError(
                f"No fashion-scenes annotations at '{ann.format(split)}'. "
                'Generate the dataset first, e.g. with '
                'spikedet.datasets.generate_fashion_scenes(data_root, ...).')
    if with_mask is None:
        with_mask = _has_masks(cfg.model)
    if metrics is None:
        metrics = ['bbox', 'segm'] if with_mask else ['bbox']
    _set_num_classes(cfg.model, len(SCENE_CLASSES))

    def loader(split: str, train: bool) -> ConfigDict:
        pipeline = [
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=with_mask),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
        ]
        if train:
            pipeline.append(dict(type='RandomFlip', prob=0.5))
        pipeline.append(
            dict(
                type='PackDetInputs',
                meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                           'scale_factor') + (('flip', 'flip_direction')
                                              if train else ())))
        return ConfigDict(
            batch_size=batch_size,
            num_workers=0,
            persistent_workers=False,
            sampler=dict(type='DefaultSampler', shuffle=train),
            dataset=dict(
                type='CocoDataset',
                data_root=data_root,
                ann_file=f'annotations/instances_{split}.json',
                data_prefix=dict(img=f'img_dir/{split}/'),
                metainfo=FASHION_SCENES_DET_METAINFO,
                filter_cfg=dict(filter_empty_gt=train, min_size=1),
                test_mode=not train,
                pipeline=pipeline))

    cfg.train_dataloader = loader('train', True)
    cfg.val_dataloader = loader('val', False)
    cfg.test_dataloader = loader('val', False)
    evaluator = dict(
        type='CocoMetric',
        ann_file=ann.format('val'),
        metric=list(metrics),
        format_only=False)
    cfg.val_evaluator = evaluator
    cfg.test_evaluator = evaluator
    return cfg
