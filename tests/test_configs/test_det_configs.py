"""Every detection config builds, trains one step and infers on a tiny
fashion-scenes dataset; the unchanged configs parse, build and say what the
recipe says (COCO data, CocoMetric, true strides, the paper's optimiser)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from spikedet.testing import find_configs, tiny_det_config
from spikedet.utils.setup_env import register_config_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HEADLINE = osp.join(ROOT, 'configs', 'mask_rcnn_spikeformer_coco.py')
QUICKSTART = osp.join(
    ROOT, 'configs', 'quickstart',
    'mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py')
# Our COCO recipes (the paper's own recipes, *_paper_*, differ in schedule
# and are tested with their own assertions).
COCO_CONFIGS = [
    p for p in find_configs(ROOT, 'configs/mask-rcnn/*.py',
                            'configs/retinanet/*.py') if '_paper_' not in p
] + [HEADLINE]
DET_CONFIGS = COCO_CONFIGS + [QUICKSTART]
SWAP_INS = ('mask-rcnn_r50-swap-metaspikeformer-15m-t1_fpn_1x_coco.py',
            'mask-rcnn_r50-swap-spikformer-8-384-t4_fpn_1x_coco.py')


def ids(paths):
    return [osp.basename(p) for p in paths]


def load(path):
    cfg = Config.fromfile(path)
    register_config_scope(cfg)
    init_default_scope('mmdet')
    return cfg


def build_model(cfg):
    from mmdet.registry import MODELS
    return revert_sync_batchnorm(MODELS.build(cfg.model))


def backbone_type(cfg):
    return cfg.model.backbone.type.split('.')[-1]


def test_all_configs_found():
    names = ids(COCO_CONFIGS)
    for name in ('mask-rcnn_metaspikeformer-15m-t1_spikefpn_1x_coco.py',
                 'mask-rcnn_metaspikeformer-15m-t4_spikefpn_1x_coco.py',
                 'mask-rcnn_metaspikeformer-55m-t1_spikefpn_1x_coco.py',
                 'mask-rcnn_metaspikeformer-55m-t4_spikefpn_1x_coco.py',
                 'mask-rcnn_metaspikeformer-15m-t4_tempagg-fpn_1x_coco.py',
                 'retinanet_metaspikeformer-15m-t1_spikefpn_1x_coco.py',
                 'mask_rcnn_spikeformer_coco.py') + SWAP_INS:
        assert name in names
    assert osp.isfile(QUICKSTART)


@pytest.mark.parametrize('path', COCO_CONFIGS, ids=ids(COCO_CONFIGS))
def test_coco_config_unchanged_builds(path):
    cfg = load(path)
    name = osp.basename(path)
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports == dict(
        imports=['spikedet'], allow_failed_imports=False)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[loader].dataset
        assert ds.type == 'CocoDataset' and ds.data_root == 'data/coco/'
    masks = name.startswith('mask')
    assert cfg.test_evaluator.type == 'CocoMetric'
    assert cfg.test_evaluator.metric == (['bbox', 'segm'] if masks else 'bbox')
    assert cfg.train_cfg.max_epochs == 12

    model = build_model(cfg)
    backbone = model.backbone
    assert type(backbone).__name__ == backbone_type(cfg)
    # True strides: the neck levels the heads use are the backbone's.
    assert backbone.out_strides == (4, 8, 16, 32)
    if masks:
        assert model.roi_head.bbox_roi_extractor.featmap_strides == list(
            backbone.out_strides)
        anchor_strides = model.rpn_head.prior_generator.strides
        assert [s[0] for s in anchor_strides] == [4, 8, 16, 32, 64]
        assert model.roi_head.mask_head.num_classes == 80
    else:
        anchor_strides = model.bbox_head.prior_generator.strides
        assert [s[0] for s in anchor_strides] == [8, 16, 32, 64, 128]
    # Every COCO config loads converted ImageNet weights, strictly, from the
    # 'backbone.*' keys.
    init_cfg = backbone.init_cfg
    assert init_cfg['type'] == 'Pretrained'
    assert init_cfg['prefix'] == 'backbone.'
    if name in SWAP_INS:
        # Only backbone + neck in_channels differ from mmdet's R-50 config.
        assert not backbone.keep_time
        assert type(model.neck).__name__ == 'FPN'
        assert list(model.neck.in_channels) == list(backbone.out_channels)
        assert cfg.optim_wrapper.optimizer.type == 'SGD'
        # e.g. metaspikeformer-15m-t1 -> checkpoints/metaspikeformer-15m_...
        stem = name.split('swap-')[1].split('_fpn')[0].rsplit('-t', 1)[0]
        assert init_cfg['checkpoint'].startswith(f'checkpoints/{stem}')
        return
    assert backbone.keep_time
    arch = '55m' if '55m' in name else '15m'
    T = 4 if '-t4' in name else 1
    assert init_cfg['checkpoint'] == \
        f'checkpoints/metaspikeformer-{arch}_t{T}_in1k.pth'
    assert backbone.T == T
    if 'tempagg' in name:
        assert [type(m).__name__
                for m in model.neck] == ['TemporalAggregation', 'FPN']
        assert model.neck[0].T == T
    else:
        assert type(model.neck).__name__ == 'SpikingFPN'
        assert model.neck.T == T
        assert model.neck.in_channels == list(backbone.out_channels)
    # The paper's optimiser.
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', 2e-4, 0.05)
    assert set(opt) == {'type', 'lr', 'betas', 'weight_decay'}


def test_headline_is_the_15m_spiking_heads_config():
    a = Config.fromfile(HEADLINE)
    b = Config.fromfile(
        osp.join(
            ROOT, 'configs', 'mask-rcnn',
            'mask-rcnn_metaspikeformer-15m-t1_spikefpn-spikeheads_1x_coco.py'))
    assert a.model == b.model
    assert a.optim_wrapper == b.optim_wrapper
    assert a.train_dataloader == b.train_dataloader


@pytest.mark.parametrize('path', DET_CONFIGS, ids=ids(DET_CONFIGS))
def test_config_trains_and_infers_on_tiny_data(path, fashion_scenes_root):
    cfg = load(path)
    tiny_det_config(
        cfg,
        fashion_scenes_root,
        batch_size=2,
        shrink_model=path != QUICKSTART)
    torch.manual_seed(0)
    model = build_model(cfg)
    model.init_weights()
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}

    data = next(iter(Runner.build_dataloader(cfg.train_dataloader)))
    model.train()
    losses = model.train_step(data, optim_wrapper)
    assert losses, 'no losses'
    for key, value in losses.items():
        assert torch.isfinite(value).all(), key
    changed = [
        k for k, v in model.named_parameters()
        if not torch.equal(v, before[k])
    ]
    assert any(k.startswith('backbone.') for k in changed)
    assert any(k.startswith('neck.') for k in changed)

    model.eval()
    val = next(iter(Runner.build_dataloader(cfg.val_dataloader)))
    with torch.no_grad():
        results = model.test_step(val)
    assert len(results) == len(val['data_samples'])
    masks = 'roi_head' in cfg.model
    for res in results:
        pred = res.pred_instances
        assert pred.bboxes.shape[-1] == 4
        assert pred.scores.shape == pred.labels.shape
        if masks:
            assert pred.masks.shape[0] == pred.bboxes.shape[0]
        if len(pred.labels):
            assert 0 <= int(pred.labels.min()) and int(pred.labels.max()) < 10


def test_quickstart_config_is_self_contained():
    cfg = load(QUICKSTART)
    assert cfg.train_dataloader.dataset.data_root == 'data/fashion_scenes/'
    assert cfg.val_evaluator.type == 'CocoMetric'
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    from spikedet.datasets.fashion_scenes import SCENE_CLASSES
    assert tuple(cfg.train_dataloader.dataset.metainfo.classes) == \
        tuple(SCENE_CLASSES)
    assert cfg.model.roi_head.bbox_head.num_classes == len(SCENE_CLASSES)
    # Validation and a checkpoint at the end of training.
    assert cfg.train_cfg.val_interval == cfg.train_cfg.max_iters
    assert cfg.default_hooks.checkpoint.interval == cfg.train_cfg.max_iters


def test_tiny_det_config_needs_the_dataset(tmp_path):
    cfg = load(QUICKSTART)
    with pytest.raises(FileNotFoundError, match='generate_fashion_scenes'):
        tiny_det_config(cfg, str(tmp_path), shrink_model=False)


def test_tools_test_reproduces_end_of_training_validation(
        fashion_scenes_root, tmp_path, monkeypatch):
    """Train the quickstart detector a few iterations (validating at the
    end), then evaluate its checkpoint with tools/test.py: same metrics and
    the very same predictions."""
    import json
    import runpy
    import sys

    cfg = load(QUICKSTART)
    tiny_det_config(cfg, fashion_scenes_root, batch_size=2, shrink_model=False)
    iters = 2
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = iters
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = 1
    cfg.param_scheduler = None
    cfg.val_evaluator.outfile_prefix = str(tmp_path / 'val')
    cfg.test_evaluator = dict(
        cfg.val_evaluator, outfile_prefix=str(tmp_path / 'test'))
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    val_metrics = {
        k[len('val/'):]: v.current()
        for k, v in runner.message_hub.log_scalars.items()
        if k.startswith('val/coco/')
    }
    assert 'coco/bbox_mAP' in val_metrics and 'coco/segm_mAP' in val_metrics
    ckpt = osp.join(cfg.work_dir, f'iter_{iters}.pth')
    assert osp.isfile(ckpt)

    cfg_file = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_file)
    test_metrics = {}
    orig_test = Runner.test

    def capture(self):
        test_metrics.update(orig_test(self))
        return test_metrics

    monkeypatch.setattr(Runner, 'test', capture)
    monkeypatch.setattr(
        sys, 'argv',
        ['test.py', cfg_file, ckpt, '--work-dir',
         str(tmp_path / 'test_work')])
    tool = runpy.run_path(osp.join(ROOT, 'tools', 'test.py'))
    tool['main']()

    assert {k: test_metrics[k] for k in val_metrics} == val_metrics
    for kind in ('bbox', 'segm'):
        with open(tmp_path / f'val.{kind}.json') as f:
            val_preds = json.load(f)
        with open(tmp_path / f'test.{kind}.json') as f:
            test_preds = json.load(f)
        assert val_preds == test_preds
    assert val_preds, 'the detector predicted nothing at all'
