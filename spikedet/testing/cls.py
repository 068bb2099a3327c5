"""Shrink an mmpretrain config: a tiny image folder dataset, small crops
and, optionally, a tiny model."""
from typing import Optional

from mmengine.config import Config

from .common import LOADERS, small_loader, tiny_arch

#: Tiny archs of the backbones for :func:`tiny_cls_config` (Spikformer keeps
#: the patch size of its config's arch).
TINY_CLS_ARCHS = {
    'MetaSpikeFormer':
    dict(embed_dims=[8, 16, 32, 48], depths=[1, 1, 1, 1], num_heads=2),
    'Spikformer':
    dict(embed_dims=32, depth=1, num_heads=2),
}
#: A tiny stand-in for a distillation teacher (1000 ImageNet classes).
TINY_TEACHER = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=1000, in_channels=64))
#: Transforms whose size follows the crop: type -> (key, size / crop).
SIZED_TRANSFORMS = {
    'RandomResizedCrop': ('scale', 1.),
    'CenterCrop': ('crop_size', 1.),
    'ResizeEdge': ('scale', 256 / 224),
}


def _shrink_cls_model(model: Config) -> None:
    """Tiny backbone of :data:`TINY_CLS_ARCHS`, the head follows it; a
    teacher becomes :data:`TINY_TEACHER`."""
    from spikedet.registry import MODELS
    backbone = model.backbone
    name, arch = tiny_arch(backbone, TINY_CLS_ARCHS, 'tiny_cls_config')
    if name == 'Spikformer':
        full = MODELS.get(name).parse_arch(backbone.get('arch', '8-384'))
        arch['patch_size'] = full['patch_size']
    backbone.arch = arch
    dims = arch['embed_dims']
    model.head.in_channels = dims[-1] if isinstance(dims, list) else dims
    if model.get('teacher') is not None:
        model.teacher = TINY_TEACHER


def _small_pipeline(pipeline: list, crop_size: int) -> list:
    """The same transforms, sized for ``crop_size`` crops, loading files."""
    pipeline = [dict(t) for t in pipeline]
    if pipeline[0]['type'] != 'LoadImageFromFile':  # e.g. CIFAR10 arrays
        pipeline.insert(0, dict(type='LoadImageFromFile'))
    for t in pipeline:
        if t['type'] in SIZED_TRANSFORMS:
            key, ratio = SIZED_TRANSFORMS[t['type']]
            t[key] = round(crop_size * ratio)
    return pipeline


def tiny_cls_config(cfg: Config,
                    data_root: str,
                    ann_file: Optional[str] = None,
                    crop_size: int = 64,
                    batch_size: int = 2,
                    num_samples: int = 2,
                    shrink_model: bool = True) -> Config:
    """Point an mmpretrain config at a tiny image dataset and, with
    ``shrink_model``, shrink its model, in place.

    * data: a loader whose dataset is an mmpretrain ``CustomDataset``
      already (the quickstart) reads ``data_root`` instead, first
      ``num_samples`` samples; any other dataset (ImageNet, CIFAR-10)
      becomes a ``CustomDataset`` of ``data_root``/``ann_file`` with the
      config's own transforms, sized for ``crop_size`` crops (224 ->
      ``crop_size``, the test resize 256 -> ``crop_size * 256 / 224``).
      Batch ``batch_size``, no worker processes, no serialisation;
    * model (``shrink_model``): a tiny backbone of :data:`TINY_CLS_ARCHS`
      (same ``T`` and patch size), the head follows it, a distillation
      teacher becomes :data:`TINY_TEACHER`.

    Args:
        cfg (Config): A loaded mmpretrain config; modified in place.
        data_root (str): Folder of the images.
        ann_file (str, optional): mmpretrain annotation list (``path
            label`` lines), relative to ``data_root``; needed for configs
            whose dataset is not a ``CustomDataset``. Defaults to None.
        crop_size (int): Training/test crop. Defaults to 64.
        batch_size (int): Batch of every loader. Defaults to 2.
        num_samples (int): Samples kept of a ``CustomDataset``.
            Defaults to 2.
        shrink_model (bool): Shrink the model too. Defaults to True.

    Returns:
        Config: ``cfg``.
    """
    if shrink_model:
        _shrink_cls_model(cfg.model)
    for name in LOADERS:
        loader = cfg[name]
        dataset = loader.dataset
        if dataset.type == 'CustomDataset':
            dataset.data_root = data_root
            dataset.indices = num_samples
        elif ann_file is None:
            raise ValueError(
                f'{name} reads a {dataset.type}: tiny_cls_config needs an '
                'ann_file of images under data_root to replace it.')
        else:
            loader.dataset = dict(
                type='CustomDataset',
                data_root=data_root,
                ann_file=ann_file,
                data_prefix='',
                pipeline=_small_pipeline(dataset.pipeline, crop_size))
        loader.dataset.serialize_data = False  # (its gc.collect is slow)
        small_loader(loader, batch_size)
    return cfg
