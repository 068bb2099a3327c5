"""The paper-reproduction detection configs (*_paper_*, Cascade Mask R-CNN)
and the spiking-head detectors: they build, say what the official recipes
say (with true stride labels), and train one step and infer on a tiny
fashion-scenes dataset."""
import math
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
PAPER = find_configs(ROOT, 'configs/mask-rcnn/*_paper_*.py',
                     'configs/retinanet/*_paper_*.py',
                     'configs/cascade-rcnn/*_paper_*.py')
SPIKE_HEADS = find_configs(ROOT, 'configs/mask-rcnn/*spikeheads*.py') + [
    osp.join(ROOT, 'configs', 'mask_rcnn_spikeformer_coco.py')
]
QUICKSTART = osp.join(
    ROOT, 'configs', 'quickstart',
    'mask-rcnn_metaspikeformer-tiny-t1_spikefpn-spikeheads_fashion-scenes.py')
COCO_TRAIN_IMAGES = 117266  # train2017 images with annotations
SPIKING_HEADS = {
    'SpikingRPNHead', 'SpikingRetinaHead', 'SpikingStandardRoIHead',
    'SpikingCascadeRoIHead', 'SpikingShared2FCBBoxHead',
    'SpikingConvFCBBoxHead', 'SpikingFCNMaskHead'
}


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


def heads(model):
    if hasattr(model, 'bbox_head'):
        return [model.bbox_head]
    roi = model.roi_head
    subs = [roi.bbox_head, roi.mask_head]
    subs = [
        m for s in subs
        for m in (s if isinstance(s, torch.nn.ModuleList) else [s])
    ]
    return [model.rpn_head, roi] + subs


def time_steps(model):
    return {model.backbone.T, model.neck.T} | {h.T for h in heads(model)}


def test_all_configs_found():
    names = ids(PAPER)
    for T in (1, 4):
        for arch in ('15m', '55m'):
            assert any(
                n.startswith(f'mask-rcnn_metaspikeformer-{arch}-t{T}'
                             '_paper_') for n in names), (arch, T)
    assert any(n.startswith('retinanet_') for n in names)
    assert any(n.startswith('cascade-mask-rcnn_') for n in names)
    assert len(SPIKE_HEADS) == 2 and osp.isfile(QUICKSTART)


@pytest.mark.parametrize('path', PAPER, ids=ids(PAPER))
def test_paper_config_reproduces_the_official_recipe(path):
    name = osp.basename(path)
    with open(path) as f:
        header = f.read()
    assert 'Reproduces the official config' in header
    assert 'Remaining difference' in header
    cfg = load(path)
    model = build_model(cfg)
    T = 4 if '-t4' in name else 1
    assert time_steps(model) == {T}
    assert {type(h).__name__ for h in heads(model)} <= SPIKING_HEADS
    # Stage 4 keeps stride 16, and the labels say so.
    assert model.backbone.out_strides == (4, 8, 16, 16)
    assert model.backbone.keep_time
    neck = model.neck
    assert type(neck).__name__ == 'SpikingFPN'
    assert neck.time_aggregation is None and neck.aggregate is None
    assert not any(
        isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
        for m in neck.modules())
    if name.startswith('retinanet'):
        gen = model.bbox_head.prior_generator
        assert neck.start_level == 1 and neck.add_extra_convs == 'on_input'
        assert [s[0] for s in gen.strides] == [8, 16, 16, 32, 64]
        # The official anchor sizes: its labels 8-128 x octave base 4.
        assert gen.base_sizes == [8, 16, 32, 64, 128]
    else:
        gen = model.rpn_head.prior_generator
        assert [s[0] for s in gen.strides] == [4, 8, 16, 16, 32]
        assert gen.base_sizes == [4, 8, 16, 32, 64]  # x8: 32-512
        roi = model.roi_head
        extractors = roi.bbox_roi_extractor, roi.mask_roi_extractor
        for ext in extractors:
            for e in (ext if isinstance(ext, torch.nn.ModuleList) else [ext]):
                assert e.featmap_strides == [4, 8, 16, 16]

    opt = cfg.optim_wrapper
    assert opt.optimizer.type == 'AdamW' and opt.optimizer.weight_decay == \
        0.05 and tuple(opt.optimizer.betas) == (0.9, 0.999)
    assert opt.paramwise_cfg.custom_keys == {'norm': dict(decay_mult=0.)}
    warmup, main = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.start_factor == 0.001
    assert not warmup.by_epoch
    total_batch = cfg.auto_scale_lr.base_batch_size
    if name.startswith('mask-rcnn'):
        epochs, batch, gpus, lr = ((5, 1, 5, 2.5e-5) if T == 1 else
                                   (8, 2, 3, 2e-4))
        assert (cfg.train_cfg.max_epochs, cfg.train_dataloader.batch_size,
                total_batch, opt.optimizer.lr) == (epochs, batch, batch * gpus,
                                                   lr)
        assert warmup.end == 4000
        assert cfg.iters_per_epoch == math.ceil(COCO_TRAIN_IMAGES /
                                                total_batch)
        assert main.type == 'LinearLR' and main.end_factor == 0.01
        assert main.end == epochs * cfg.iters_per_epoch
        assert not main.by_epoch
    else:
        assert cfg.train_cfg.max_epochs == 36
        assert cfg.train_dataloader.batch_size == 2 and opt.optimizer.lr == \
            2e-4
        if name.startswith('retinanet'):
            assert warmup.end == 4000
            assert (main.type, main.start_factor, main.begin, main.end) == \
                ('LinearLR', 0.01, 1, 36)
        else:
            assert warmup.end == 1000
            assert main.type == 'MultiStepLR' and main.milestones == [27, 33]
            assert [
                h.loss_bbox.__class__.__name__
                for h in model.roi_head.bbox_head
            ] == ['GIoULoss'] * 3
    # DETR-style resize-crop-resize augmentation.
    pipeline = cfg.train_dataloader.dataset.pipeline
    choice = [t for t in pipeline if t.type == 'RandomChoice']
    assert len(choice) == 1
    branches = choice[0].transforms
    crop = branches[-1]
    assert [t.type for t in crop
            ] == ['RandomChoiceResize', 'RandomCrop', 'RandomChoiceResize']
    assert tuple(crop[1].crop_size) == (384, 600)
    assert [s[0] for s in crop[2].scales] == list(range(480, 801, 32))
    assert len(branches) == (1 if '-t1_paper_5xb1' in name else 2)


@pytest.mark.parametrize('path', SPIKE_HEADS, ids=ids(SPIKE_HEADS))
def test_spike_driven_detector_is_spiking_to_the_heads(path):
    model = build_model(load(path))
    assert time_steps(model) == {1}
    assert model.neck.aggregate is None
    assert {type(h).__name__ for h in heads(model)} <= SPIKING_HEADS
    assert model.backbone.out_strides == (4, 8, 16, 32)


TRAIN = PAPER + [QUICKSTART]


@pytest.mark.parametrize('path', TRAIN, ids=ids(TRAIN))
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
    assert losses
    for key, value in losses.items():
        assert torch.isfinite(value).all(), key
    changed = {
        k.split('.')[0]
        for k, v in model.named_parameters() if not torch.equal(v, before[k])
    }
    assert {'backbone', 'neck'} <= changed
    assert changed & {'rpn_head', 'roi_head', 'bbox_head'}

    model.eval()
    val = next(iter(Runner.build_dataloader(cfg.val_dataloader)))
    with torch.no_grad():
        results = model.test_step(val)
        # The labelled strides are the maps' true strides.
        feats = model.extract_feat(model.data_preprocessor(val)['inputs'])
    gen = (model.bbox_head
           if hasattr(model, 'bbox_head') else model.rpn_head).prior_generator
    pad = model.data_preprocessor(val)['inputs'].shape[-1]
    for feat, (stride, _) in zip(feats, gen.strides):
        assert feat.dim() == 5  # time-major into the heads
        assert feat.shape[-1] * stride == pad
    assert len(results) == len(val['data_samples'])
    for res in results:
        pred = res.pred_instances
        assert pred.bboxes.shape[-1] == 4
        if 'roi_head' in cfg.model:
            assert pred.masks.shape[0] == pred.bboxes.shape[0]


def test_neck_head_time_step_mismatch_is_a_clear_error(fashion_scenes_root):
    path = [p for p in PAPER if 'mask-rcnn_metaspikeformer-15m-t4' in p][0]
    cfg = load(path)
    tiny_det_config(cfg, fashion_scenes_root, batch_size=1)
    cfg.model.rpn_head.T = 2
    model = build_model(cfg).eval()
    val = next(iter(Runner.build_dataloader(cfg.val_dataloader)))
    with pytest.raises(
            ValueError, match=r'SpikingRPNHead was built with T=2.*4 time'):
        with torch.no_grad():
            model.test_step(val)
    cfg = load(path)
    tiny_det_config(cfg, fashion_scenes_root, batch_size=1)
    cfg.model.neck.time_aggregation = 'mean'
    model = build_model(cfg).eval()
    with pytest.raises(ValueError, match=r'no time axis.*time_aggregation'):
        with torch.no_grad():
            model.test_step(val)
