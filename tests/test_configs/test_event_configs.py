"""Every event config builds, reads its data through its own pipeline and
trains one iteration: the quickstarts on tiny Fashion event data, the
papers' neuromorphic recipes (at T=2) on a spikingjelly-format folder; an
image config's data in an event config fails with a clear error."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from spikedet.datasets.events import (generate_fashion_event_cls,
                                      generate_fashion_event_scenes,
                                      save_events)
from spikedet.utils.setup_env import register_config_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTARTS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'quickstart', '*event*.py')))
RECIPES = sorted(glob.glob(osp.join(ROOT, 'configs', 'event', '*.py')))


def ids(paths):
    return [osp.basename(p) for p in paths]


def load(path):
    cfg = Config.fromfile(path)
    register_config_scope(cfg)
    init_default_scope(cfg.default_scope)
    return cfg


def registries(scope):
    if scope == 'mmdet':
        from mmdet.registry import DATASETS, MODELS
    elif scope == 'mmseg':
        from mmseg.registry import DATASETS, MODELS
    else:
        from mmpretrain.registry import DATASETS, MODELS
    return DATASETS, MODELS


@pytest.fixture(scope='module')
def event_data(tmp_path_factory):
    base = tmp_path_factory.mktemp('event_configs')
    cls = str(base / 'fashion_events')
    generate_fashion_event_cls(
        cls, num_train=8, num_test=4, duration_us=30_000)
    scenes = str(base / 'fashion_event_scenes')
    generate_fashion_event_scenes(
        scenes,
        str(base / 'rgb'),
        duration_us=20_000,
        scene_cfg=dict(num_train=4, num_val=2, img_size=64))
    # spikingjelly-processed folders: DVS128 Gesture's layout (11 classes,
    # train/test folders) and CIFAR10-DVS's (10 classes, no split).
    rng = np.random.default_rng(0)

    def fill(folder, num):
        folder.mkdir(parents=True)
        for i in range(num):
            n = 400
            save_events(
                str(folder / f'{i:02d}.npz'),
                dict(
                    t=np.arange(n) * 10,
                    x=rng.integers(0, 128, n),
                    y=rng.integers(0, 128, n),
                    p=rng.integers(0, 2, n)))

    sj = base / 'dvs128gesture'
    for split in ('train', 'test'):
        for k in range(11):
            fill(sj / 'events_np' / split / str(k), 2)
    cifar = base / 'cifar10dvs'
    for k in range(10):
        fill(cifar / 'events_np' / f'class{k}', 11)
    return dict(cls=cls, scenes=scenes, sj=str(sj), cifar=str(cifar))


def point_at(cfg, data):
    """Point the config's datasets at the tiny data."""
    name = osp.basename(cfg.filename)
    for key in ('train_dataloader', 'val_dataloader'):
        ds = cfg[key].dataset
        if 'fashion-events' in name:
            ds.data_root = data['cls']
        elif 'event-scenes' in name:
            ds.data_root = data['scenes']
        elif 'cifar10dvs' in name:
            ds.data_root = data['cifar']
        else:
            ds.data_root = data['sj']
    if cfg.default_scope == 'mmdet':
        cfg.val_evaluator.ann_file = osp.join(data['scenes'], 'annotations',
                                              'instances_val.json')


def one_iteration(cfg, num=2):
    torch.manual_seed(0)
    DATASETS, MODELS = registries(cfg.default_scope)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))
    optim_cfg = dict(cfg.optim_wrapper)
    optim_cfg['type'] = 'OptimWrapper'  # AMP recipes, here on the CPU
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    batch = pseudo_collate([train_set[i] for i in range(num)])
    T = cfg.model.backbone.T
    data = model.data_preprocessor(batch, True)
    assert data['inputs'].shape[:3] == (num, T, 2)
    before = [p.detach().clone() for p in model.parameters()]
    model.train()
    log_vars = model.train_step(batch, optim_wrapper)
    assert torch.isfinite(log_vars['loss'])
    changed = [
        not torch.equal(b, p) for b, p in zip(before, model.parameters())
    ]
    assert sum(changed) > len(changed) // 2
    val_set = DATASETS.build(cfg.val_dataloader.dataset)
    model.eval()
    with torch.no_grad():
        outputs = model.val_step(pseudo_collate([val_set[0]]))
    assert len(outputs) == 1
    return model, train_set


def test_configs_found():
    assert len(QUICKSTARTS) == 3 and len(RECIPES) == 3
    for path in QUICKSTARTS + RECIPES:
        cfg = load(path)
        assert cfg.model.backbone.in_channels == 2
        assert cfg.model.backbone.T >= 2
        assert cfg.model.data_preprocessor.num_frames == \
            cfg.model.backbone.T
        for key in ('train_dataloader', 'val_dataloader'):
            steps = cfg[key].dataset.pipeline
            assert steps[0].type == 'spikedet.LoadEventStream'
            assert steps[1].num_frames == cfg.model.backbone.T


@pytest.mark.parametrize('path', QUICKSTARTS, ids=ids(QUICKSTARTS))
def test_quickstart_one_iteration(path, event_data):
    cfg = load(path)
    point_at(cfg, event_data)
    one_iteration(cfg)


@pytest.mark.parametrize('path', RECIPES, ids=ids(RECIPES))
def test_recipe_one_iteration_at_t2(path, event_data):
    """The papers' architectures at full size, at T=2 to keep it cheap."""
    cfg = load(path)
    assert cfg.model.backbone.T == 16
    assert 'spikingjelly' in open(path).read()
    T = 2
    cfg.model.backbone.T = T
    cfg.model.data_preprocessor.num_frames = T
    for key in ('train_dataloader', 'val_dataloader'):
        cfg[key].dataset.pipeline[1].num_frames = T
    point_at(cfg, event_data)
    model, train_set = one_iteration(cfg)
    if 'cifar10dvs' in path:  # per class the first ceil(0.9 * 11) files
        assert len(train_set) == 10 * 10
    else:
        assert len(train_set) == 22
        assert train_set.metainfo['classes'][:3] == ('0', '1', '10')


def test_spikformer_dvs_arch():
    """The CIFAR10-DVS Spikformer: 4 max-pools (128 -> 8x8 tokens),
    attention scale 0.25, 16 heads, bias-free Q/K/V, 2 blocks of 256."""
    from spikedet.registry import MODELS
    model = MODELS.build(
        dict(
            type='spikedet.Spikformer',
            arch='dvs-2-256',
            T=2,
            in_channels=2,
            keep_time=True))
    assert len(model.blocks) == 2
    attn = model.blocks[0].attn
    assert attn.scale == 0.25 and attn.num_heads == 16
    assert attn.q.conv.bias is None and attn.proj.conv.bias is not None
    out = model(torch.rand(1, 2, 2, 128, 128))
    assert out[-1].shape == (2, 1, 256, 8, 8)


def test_frame_count_and_rgb_errors(event_data):
    cfg = load(QUICKSTARTS[-1])  # the classifier
    point_at(cfg, event_data)
    DATASETS, MODELS = registries(cfg.default_scope)
    model = MODELS.build(cfg.model)
    # frames integrated for another T than the model's
    cfg.train_dataloader.dataset.pipeline[1].num_frames = 3
    batch = pseudo_collate([DATASETS.build(cfg.train_dataloader.dataset)[0]])
    with pytest.raises(ValueError, match=r'integrated 3 frames.*T=4'):
        model.data_preprocessor(batch, True)
    # RGB images given to the event config
    rgb = dict(
        inputs=[torch.zeros(3, 32, 32, dtype=torch.uint8)],
        data_samples=batch['data_samples'])
    with pytest.raises(ValueError, match='grayscale/RGB'):
        model.data_preprocessor(rgb, True)
    # an image file given to the event loader
    from spikedet.datasets.transforms import LoadEventStream
    with pytest.raises(ValueError, match=r'000001\.png.*not an event file'):
        LoadEventStream(34)(dict(img_path='img_dir/val/000001.png'))
