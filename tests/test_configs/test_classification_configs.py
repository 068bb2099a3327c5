"""Every classification config (configs/metaspikeformer, configs/spikformer,
the Fashion-MNIST quickstart):

* builds its full-size model, whose parameter count is the paper's;
* has pipelines that give the recipe's input size (224 for ImageNet);
* runs one training iteration with its own pipeline (RandomResizedCrop,
  RandAugment, RandomErasing; Mixup/CutMix where the recipe has them), its
  optimizer constructor and schedulers, and one test step scored by
  mmpretrain's Accuracy, on CPU, with a tiny architecture, 64x64 crops
  instead of 224x224 (the same transforms otherwise) and a tiny generated
  dataset in place of ImageNet/CIFAR-10.
"""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.registry import MODELS
from PIL import Image

from spikedet.testing import find_configs, tiny_cls_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = 'configs/quickstart/metaspikeformer-tiny-t1_fashion-mnist.py'
CONFIGS = [
    osp.relpath(p, REPO) for p in find_configs(
        REPO, 'configs/metaspikeformer/*.py', 'configs/spikformer/*.py')
] + [QUICKSTART]

# Parameters (millions) of the papers' models with their heads: measured on
# the official Meta-SpikeFormer code (1000 classes), and the Spikformer
# paper's tables (1000 classes; 10 for CIFAR-10).
PAPER_PARAMS = {
    'metaspikeformer-15m': 15.11,
    'metaspikeformer-31m': 31.33,
    'metaspikeformer-55m': 55.35,
    'spikformer-8-384': 16.81,
    'spikformer-8-512': 29.68,
    'spikformer-8-768': 66.34,
    'spikformer-4-384': 9.32,
}


def _load(path: str) -> Config:
    return Config.fromfile(osp.join(REPO, path))


def _model_key(path: str) -> str:
    """``metaspikeformer-15m-t4_8xb24...`` -> ``metaspikeformer-15m``."""
    return osp.basename(path).split('_')[0].rsplit('-t', 1)[0]


@pytest.fixture(scope='module')
def rgb_root(tmp_path_factory) -> str:
    """Random RGB images with labels 0 and 1, an mmpretrain CustomDataset:
    ``ann.txt`` lists two of odd sizes (ImageNet-like), ``ann32.txt`` two of
    32x32 (CIFAR-like)."""
    root = tmp_path_factory.mktemp('tiny_rgb')
    rng = np.random.default_rng(0)
    sizes = {'ann.txt': [(40, 52), (36, 30)], 'ann32.txt': [(32, 32)] * 2}
    for ann, shapes in sizes.items():
        lines = []
        for i, size in enumerate(shapes):
            name = f'{osp.splitext(ann)[0]}_{i}.png'
            img = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / name)
            lines.append(f'{name} {i}\n')
        (root / ann).write_text(''.join(lines))
    return str(root)


def _ann(path: str) -> str:
    return 'ann32.txt' if 'cifar' in path else 'ann.txt'


@pytest.mark.parametrize('path', CONFIGS)
def test_config_metadata(path):
    cfg = _load(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports == dict(
        imports=['spikedet'], allow_failed_imports=False)
    backbone = cfg.model.backbone
    assert backbone.keep_time
    assert cfg.model.head.type == 'spikedet.SpikingClsHead'
    if 't4' in path or 'spikformer' in path:
        assert backbone.T == 4
    if '-t4_' in path and 'metaspikeformer' in path:  # fine-tuned from T=1
        assert cfg.load_from and 't1' in cfg.load_from


@pytest.mark.parametrize('path',
                         [p for p in CONFIGS if _model_key(p) in PAPER_PARAMS])
def test_full_model_has_paper_size(path):
    cfg = _load(path)
    if 'teacher' in cfg.model:
        # The CAFormer teacher needs timm; the student alone is counted.
        cfg.model.teacher = None
    init_default_scope('mmpretrain')
    with torch.device('meta'):  # shapes only, no memory or init time
        model = MODELS.build(cfg.model)
    expected = PAPER_PARAMS[_model_key(path)]
    head = model.head
    if head.with_distill:  # the second linear layer of the T=4 model
        expected += head.fc_dist.weight.numel() / 1e6 + \
            head.fc_dist.bias.numel() / 1e6
    num = sum(p.numel() for p in model.parameters()) / 1e6
    assert num == pytest.approx(expected, abs=0.01), (path, num)


@pytest.mark.parametrize('path', CONFIGS)
def test_pipelines_give_recipe_size(path, rgb_root, fashion_mnist_cls_root):
    from mmpretrain.registry import DATASETS
    init_default_scope('mmpretrain')
    cfg = _load(path)
    size = 32 if ('cifar' in path or path == QUICKSTART) else 224
    channels = 1 if path == QUICKSTART else 3
    for key in ('train_dataloader', 'test_dataloader'):
        dataset = cfg[key].dataset
        pipeline = list(dataset.pipeline)
        if pipeline[0]['type'] != 'LoadImageFromFile':
            pipeline.insert(0, dict(type='LoadImageFromFile'))
        root = fashion_mnist_cls_root if path == QUICKSTART else rgb_root
        ann = dataset.ann_file if path == QUICKSTART else _ann(path)
        data = DATASETS.build(
            dict(
                type='CustomDataset',
                data_root=root,
                ann_file=ann,
                data_prefix='',
                pipeline=pipeline))
        assert data[0]['inputs'].shape == (channels, size, size), key


@pytest.fixture
def fast_config_text(monkeypatch):
    """The Runner formats its config with yapf three times (log, dump,
    message hub), most of a tiny run's time: skip the formatting."""
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self._cfg_dict.to_dict())))


@pytest.mark.parametrize('path', CONFIGS)
def test_one_train_iter_and_test_step(path, rgb_root, fashion_mnist_cls_root,
                                      tmp_path, fast_config_text):
    cfg = _load(path)
    if path == QUICKSTART:  # tiny already, real data
        tiny_cls_config(cfg, fashion_mnist_cls_root, shrink_model=False)
    else:
        tiny_cls_config(cfg, rgb_root, _ann(path))
    cfg.work_dir = str(tmp_path / 'work_dir')
    if cfg.train_cfg.get('by_epoch', True):
        cfg.train_cfg.max_epochs = 1  # 2 images, batch 2: one iteration
    else:
        cfg.train_cfg.max_iters = 1
    cfg.train_cfg.val_interval = 2  # no validation; the test step below
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':  # GPU only
        # What the configs tell CPU users to do.
        cfg.merge_from_dict({'optim_wrapper.type': 'OptimWrapper'})
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    if cfg.get('load_from'):
        # A T=1-like checkpoint of the tiny student (no fc_dist).
        init_default_scope('mmpretrain')
        model_cfg = cfg.model.copy()
        model_cfg.pop('teacher', None)
        model_cfg.type = 'ImageClassifier'
        model_cfg.head = dict(model_cfg.head, with_distill=False)
        model_cfg.head.pop('distill_loss', None)
        state = MODELS.build(model_cfg).state_dict()
        cfg.load_from = str(tmp_path / 't1.pth')
        torch.save(dict(state_dict=state), cfg.load_from)

    runner = Runner.from_cfg(cfg)
    if 'spikformer' in path:  # the recipe's mixup (and cutmix)
        assert runner.model.data_preprocessor.batch_augments is not None
    runner.train()
    assert runner.iter == 1
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss)
    if 'distill' in path:
        assert math.isfinite(
            runner.message_hub.get_scalar('train/loss_dist').current())
    metrics = runner.test()
    assert 0. <= metrics['accuracy/top1'] <= 100.
