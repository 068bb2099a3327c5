"""Shrink an mmdet config: a tiny fashion-scenes COCO dataset and,
optionally, a tiny model."""
import os.path as osp
from typing import Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict

from .common import LOADERS, require_dataset, small_loader, tiny_arch

#: Tiny archs of the backbones for :func:`tiny_det_config`.
TINY_DET_ARCHS = {
    'MetaSpikeFormer':
    dict(embed_dims=[16, 32, 64, 96], depths=[1, 1, 1, 1], num_heads=2),
    'Spikformer':
    dict(embed_dims=64, depth=1, num_heads=2, patch_size=16),
}
#: Neck/head widths narrowed by :func:`tiny_det_config`: key -> {full: tiny}.
TINY_DET_CHANNELS = {
    'in_channels': {
        256: 32
    },
    'feat_channels': {
        256: 32
    },
    'out_channels': {
        256: 32
    },
    'conv_out_channels': {
        256: 32
    },
    'fc_out_channels': {
        1024: 64
    },
}


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


def _shrink_backbone(model: ConfigDict) -> None:
    """Tiny backbone arch (same T, keep_time, ...), no pretrained weights;
    the necks' ``in_channels`` follow it."""
    from spikedet.registry import MODELS
    backbone = model.backbone
    backbone.arch = tiny_arch(backbone, TINY_DET_ARCHS, 'tiny_det_config')[1]
    backbone.init_cfg = None  # no pretrained file in tests
    channels = list(MODELS.build(backbone).out_channels)
    necks = model.neck if isinstance(model.neck, list) else [model.neck]
    for neck in necks:
        if 'in_channels' in neck:
            neck.in_channels = channels


def _shrink_heads(node) -> None:
    """Narrow neck outputs and heads (256 -> 32 channels, 1024 -> 64 fc)
    and sample fewer RoIs: same structure, a fraction of the compute."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TINY_DET_CHANNELS and isinstance(value, int) \
                    and value in TINY_DET_CHANNELS[key]:
                node[key] = TINY_DET_CHANNELS[key][value]
            elif key == 'sampler' and isinstance(value, dict):
                value['num'] = min(value.get('num', 64), 64)
            else:
                _shrink_heads(value)
    elif isinstance(node, list):
        for value in node:
            _shrink_heads(value)


def _coco_loader(data_root: str, split: str, train: bool,
                 img_scale: Tuple[int, int], with_mask: bool) -> ConfigDict:
    from spikedet.datasets.fashion_scenes import FASHION_SCENES_DET_METAINFO
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
                       'scale_factor') +
            (('flip', 'flip_direction') if train else ())))
    return ConfigDict(
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


def tiny_det_config(cfg: Config,
                    data_root: str,
                    img_scale: Tuple[int, int] = (64, 64),
                    batch_size: int = 2,
                    with_mask: Optional[bool] = None,
                    metrics: Optional[Sequence[str]] = None,
                    shrink_model: bool = True) -> Config:
    """Point an mmdet config at a tiny COCO-format fashion-scenes dataset
    and, with ``shrink_model``, shrink its model, in place.

    * data: the train/val/test dataloaders become
      :class:`mmdet.datasets.CocoDataset` on ``data_root`` (layout of
      :func:`spikedet.datasets.generate_fashion_scenes`) with a short
      pipeline (load, resize to ``img_scale``, flip for training, pack), no
      worker processes; the evaluators a :class:`mmdet.evaluation.CocoMetric`
      on the val annotations; every ``num_classes`` becomes the 10 scene
      classes;
    * model (``shrink_model``): the backbone gets a tiny arch of
      :data:`TINY_DET_ARCHS` (same ``T``, ``keep_time``, strides; no
      pretrained weights), the necks follow its channels, necks and heads
      are narrowed (:data:`TINY_DET_CHANNELS`) and sample at most 64 RoIs.

    Args:
        cfg (Config): A loaded mmdet config; modified in place.
        data_root (str): Root of a generated fashion-scenes dataset.
        img_scale (tuple[int, int]): Resize scale. Defaults to (64, 64).
        batch_size (int): Batch size of every loader. Defaults to 2.
        with_mask (bool, optional): Load instance masks; defaults to whether
            the model has a mask head.
        metrics (Sequence[str], optional): CocoMetric metrics; defaults to
            ``['bbox', 'segm']`` with masks, else ``['bbox']``.
        shrink_model (bool): Shrink the model too (set False for a config
            whose model is tiny already). Defaults to True.

    Returns:
        Config: ``cfg``.
    """
    from spikedet.datasets.fashion_scenes import SCENE_CLASSES
    ann = osp.join(data_root, 'annotations', 'instances_{}.json')
    require_dataset([ann.format(split) for split in ('train', 'val')],
                    'fashion-scenes annotations')
    if with_mask is None:
        with_mask = _has_masks(cfg.model)
    if metrics is None:
        metrics = ['bbox', 'segm'] if with_mask else ['bbox']
    if shrink_model:
        _shrink_backbone(cfg.model)
        _shrink_heads({k: v for k, v in cfg.model.items() if k != 'backbone'})
    _set_num_classes(cfg.model, len(SCENE_CLASSES))

    for name, split in zip(LOADERS, ('train', 'val', 'val')):
        cfg[name] = _coco_loader(data_root, split, name == LOADERS[0],
                                 img_scale, with_mask)
        small_loader(cfg[name], batch_size)
    evaluator = dict(
        type='CocoMetric',
        ann_file=ann.format('val'),
        metric=list(metrics),
        format_only=False)
    cfg.val_evaluator = evaluator
    cfg.test_evaluator = evaluator
    return cfg
