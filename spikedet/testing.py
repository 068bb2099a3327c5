"""Helpers for tests: run a full-size config on a tiny generated dataset.

Shared by the test suites of every task (detection here; other tasks add
their own ``tiny_*`` helpers next to it).
"""
import os.path as osp
from typing import Optional, Sequence, Tuple

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
                      with_mask: Optional[bool] = None,
                      metrics: Optional[Sequence[str]] = None) -> Config:
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


# --- mmseg (segmentation) -------------------------------------------------

#: Per-level channels of the tiny Meta-SpikeFormer used by
#: :func:`tiny_seg_config`.
TINY_SEG_EMBED_DIMS = (16, 24, 32, 48)


def _seg_dataset(data_root: str, split: str, pipeline: list) -> dict:
    import copy

    from spikedet.datasets.fashion_scenes import FASHION_SCENES_SEG_METAINFO
    return dict(
        type='BaseSegDataset',
        data_root=data_root,
        metainfo=copy.deepcopy(FASHION_SCENES_SEG_METAINFO),
        img_suffix='.png',
        seg_map_suffix='.png',
        reduce_zero_label=False,
        data_prefix=dict(
            img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
        pipeline=pipeline)


def _set_head_channels(head_cfg, feat_channels: list, channels: int,
                       num_classes: int) -> None:
    """Point an mmseg decode/auxiliary head config at new input channels."""
    heads = head_cfg if isinstance(head_cfg, list) else [head_cfg]
    for head in heads:
        index = head.get('in_index', -1)
        if isinstance(index, (list, tuple)):
            head['in_channels'] = [feat_channels[i] for i in index]
        else:
            head['in_channels'] = feat_channels[index]
        if 'channels' in head:
            head['channels'] = channels
        head['num_classes'] = num_classes


def tiny_seg_config(cfg, data_root: str, img_size: int = 64,
                    batch_size: int = 2,
                    embed_dims=TINY_SEG_EMBED_DIMS,
                    channels: int = 16):
    """Shrink an mmseg segmentor config for quick CPU tests, in place.

    * data: every dataloader reads the fashion-scenes dataset at
      ``data_root`` (:mod:`spikedet.datasets.fashion_scenes`, 11 classes,
      ``reduce_zero_label=False``) with load/pack-only pipelines, batch
      ``batch_size``, no worker processes; evaluators become mmseg's
      ``IoUMetric``; the data preprocessor pads to ``img_size``;
    * model: a Meta-SpikeFormer backbone gets a tiny arch (``embed_dims``,
      one block per stage, no pretrained weights, ``T`` kept); necks and
      heads follow its channels, with ``channels`` feature channels, and
      11 classes;
    * ``AmpOptimWrapper`` becomes ``OptimWrapper`` when no GPU is present
      (the rest of the optimizer config is kept).

    Args:
        cfg (Config): An mmseg config (``default_scope='mmseg'``).
        data_root (str): A fashion-scenes dataset (e.g. the
            ``fashion_scenes_root`` test fixture).
        img_size (int): Side of the scenes. Defaults to 64.
        batch_size (int): Batch of every dataloader. Defaults to 2.
        embed_dims (Sequence[int]): Stage channels of the tiny backbone.
            Defaults to :data:`TINY_SEG_EMBED_DIMS`.
        channels (int): Channels of the neck outputs and the heads.
            Defaults to 16.

    Returns:
        Config: ``cfg``, modified.
    """
    import torch
    from spikedet.datasets.fashion_scenes import SCENE_SEG_CLASSES

    if cfg.get('default_scope') != 'mmseg':
        raise ValueError('tiny_seg_config needs an mmseg config '
                         f"(default_scope='mmseg'), got "
                         f"{cfg.get('default_scope')!r}.")
    for split in ('train', 'val'):
        for sub in ('img_dir', 'ann_dir'):
            folder = osp.join(data_root, sub, split)
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f"No fashion-scenes folder '{folder}'. Generate the "
                    'dataset first, e.g. with spikedet.datasets.'
                    'generate_fashion_scenes(data_root, ...).')
    num_classes = len(SCENE_SEG_CLASSES)
    load = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', reduce_zero_label=False),
        dict(type='PackSegInputs')
    ]
    for name, split in (('train_dataloader', 'train'),
                        ('val_dataloader', 'val'),
                        ('test_dataloader', 'val')):
        if cfg.get(name) is None:
            continue
        loader = cfg[name]
        loader['dataset'] = _seg_dataset(data_root, split, load)
        loader['batch_size'] = batch_size
        loader['num_workers'] = 0
        loader['persistent_workers'] = False
    for name in ('val_evaluator', 'test_evaluator'):
        if cfg.get(name) is not None:
            cfg[name] = dict(type='IoUMetric', iou_metrics=['mIoU'])

    model = cfg.model
    model['pretrained'] = None
    if model.get('data_preprocessor') is not None:
        model.data_preprocessor['size'] = (img_size, img_size)
    backbone = model.backbone
    if not str(backbone.get('type', '')).endswith('MetaSpikeFormer'):
        raise ValueError('tiny_seg_config shrinks Meta-SpikeFormer '
                         f"backbones, got {backbone.get('type')!r}.")
    backbone['arch'] = dict(
        embed_dims=list(embed_dims), depths=[1, 1, 1, 1], num_heads=2,
        mlp_ratio=2)
    backbone['init_cfg'] = None
    out_indices = backbone.get('out_indices', (0, 1, 2, 3))
    feat_channels = [embed_dims[i] for i in out_indices]

    necks = model.get('neck')
    for neck in (necks if isinstance(necks, list) else [necks]):
        if neck is None:
            continue
        if 'in_channels' in neck and neck['in_channels'] is not None:
            neck['in_channels'] = list(feat_channels)
        if 'out_channels' in neck:
            neck['out_channels'] = channels
            feat_channels = [channels] * neck['num_outs']
    _set_head_channels(model.decode_head, feat_channels, channels,
                       num_classes)
    if model.get('auxiliary_head') is not None:
        _set_head_channels(model.auxiliary_head, feat_channels, channels,
                           num_classes)

    if (cfg.get('optim_wrapper', {}).get('type') == 'AmpOptimWrapper'
            and not torch.cuda.is_available()):
        cfg.optim_wrapper['type'] = 'OptimWrapper'
        cfg.optim_wrapper.pop('dtype', None)
        cfg.optim_wrapper.pop('loss_scale', None)
    return cfg
