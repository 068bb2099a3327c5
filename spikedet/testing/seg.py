"""Shrink an mmseg config: the fashion-scenes segmentation dataset and a
tiny Meta-SpikeFormer model."""
import copy
import os.path as osp
from typing import List, Sequence

from mmengine.config import Config, ConfigDict

from .common import LOADERS, cpu_optim_wrapper, require_dataset, small_loader

#: Per-level channels of the tiny Meta-SpikeFormer used by
#: :func:`tiny_seg_config`.
TINY_SEG_EMBED_DIMS = (16, 24, 32, 48)


def _seg_dataset(data_root: str, split: str) -> dict:
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
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', reduce_zero_label=False),
            dict(type='PackSegInputs')
        ])


def _set_head_channels(head_cfg, feat_channels: List[int], channels: int,
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


def _tiny_seg_data(cfg: Config, data_root: str, batch_size: int) -> None:
    """Every dataloader reads fashion-scenes; the evaluators are IoU."""
    require_dataset([
        osp.join(data_root, sub, split) for split in ('train', 'val')
        for sub in ('img_dir', 'ann_dir')
    ], 'fashion-scenes folder')
    for name, split in zip(LOADERS, ('train', 'val', 'val')):
        if cfg.get(name) is not None:
            small_loader(cfg[name], batch_size, _seg_dataset(data_root, split))
    for name in ('val_evaluator', 'test_evaluator'):
        if cfg.get(name) is not None:
            cfg[name] = dict(type='IoUMetric', iou_metrics=['mIoU'])


def _tiny_seg_model(model: ConfigDict, img_size: int,
                    embed_dims: Sequence[int], channels: int,
                    num_classes: int) -> None:
    """Tiny Meta-SpikeFormer; necks and heads follow its channels."""
    model['pretrained'] = None
    if model.get('data_preprocessor') is not None:
        model.data_preprocessor['size'] = (img_size, img_size)
    backbone = model.backbone
    if not str(backbone.get('type', '')).endswith('MetaSpikeFormer'):
        raise ValueError('tiny_seg_config shrinks Meta-SpikeFormer '
                         f"backbones, got {backbone.get('type')!r}.")
    backbone['arch'] = dict(
        embed_dims=list(embed_dims),
        depths=[1, 1, 1, 1],
        num_heads=2,
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
    for key in ('decode_head', 'auxiliary_head'):
        if model.get(key) is not None:
            _set_head_channels(model[key], feat_channels, channels,
                               num_classes)


def tiny_seg_config(cfg: Config,
                    data_root: str,
                    img_size: int = 64,
                    batch_size: int = 2,
                    embed_dims: Sequence[int] = TINY_SEG_EMBED_DIMS,
                    channels: int = 16) -> Config:
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
    from spikedet.datasets.fashion_scenes import SCENE_SEG_CLASSES
    if cfg.get('default_scope') != 'mmseg':
        raise ValueError('tiny_seg_config needs an mmseg config '
                         f"(default_scope='mmseg'), got "
                         f"{cfg.get('default_scope')!r}.")
    _tiny_seg_data(cfg, data_root, batch_size)
    _tiny_seg_model(cfg.model, img_size, embed_dims, channels,
                    len(SCENE_SEG_CLASSES))
    cpu_optim_wrapper(cfg)
    return cfg
