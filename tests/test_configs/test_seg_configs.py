"""Every segmentation config builds, trains one step and infers (whole image
and sliding window) on a tiny fashion-scenes dataset; the unchanged configs
parse, build and say what the paper's recipe says."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from spikedet.testing import find_configs, tiny_seg_config
from spikedet.utils.setup_env import register_config_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Our ADE20K recipes (the paper's own recipes, *_paper_*, differ in data,
# schedule and pyramid and are tested with their own assertions).
ADE_CONFIGS = [
    p
    for p in find_configs(ROOT, 'configs/sem-fpn/*.py', 'configs/upernet/*.py')
    if '_paper_' not in p
]
QUICKSTART = osp.join(ROOT, 'configs', 'quickstart',
                      'fpn_metaspikeformer-tiny-t1_fashion-scenes.py')
SEG_CONFIGS = ADE_CONFIGS + [QUICKSTART]
SWAP_IN = 'fpn_r50-swap-metaspikeformer-15m-t1_ade20k-512x512.py'
MMSEG_SEM_FPN = 'mmseg::sem_fpn/fpn_r50_4xb4-160k_ade20k-512x512.py'


def load(path):
    cfg = Config.fromfile(path)
    register_config_scope(cfg)
    init_default_scope('mmseg')
    return cfg


def build_model(cfg):
    from mmseg.registry import MODELS
    return revert_sync_batchnorm(MODELS.build(cfg.model))


def ids(paths):
    return [osp.basename(p) for p in paths]


def test_all_configs_found():
    names = ids(ADE_CONFIGS)
    for arch in ('15m', '55m'):
        for T in (1, 4):
            assert (f'fpn_metaspikeformer-{arch}-t{T}_4xb2-160k_'
                    'ade20k-512x512.py') in names
    assert any(n.startswith('upernet_') for n in names)
    assert SWAP_IN in names


@pytest.mark.parametrize('path', ADE_CONFIGS, ids=ids(ADE_CONFIGS))
def test_ade20k_config_unchanged_builds(path):
    cfg = load(path)
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports == dict(
        imports=['spikedet'], allow_failed_imports=False)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[loader].dataset
        assert ds.type == 'ADE20KDataset'
        assert ds.data_root == 'data/ade/ADEChallengeData2016'
    assert cfg.test_evaluator.type == 'IoUMetric'
    assert cfg.train_cfg.max_iters == 160000

    model = build_model(cfg)
    backbone = model.backbone
    assert type(backbone).__name__ == 'MetaSpikeFormer'
    assert backbone.out_strides == (4, 8, 16, 32)
    assert model.decode_head.num_classes == 150
    name = osp.basename(path)
    if name == SWAP_IN:
        assert not backbone.keep_time
        return
    # The paper's recipe (spiking models).
    assert backbone.keep_time
    T = int(name.split('-t')[1][0])
    assert backbone.T == T == model.neck.T
    assert list(model.neck.in_channels) == list(backbone.out_channels)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr) == ('AdamW', 1e-3)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == dict(
        neck=dict(lr_mult=2.), head=dict(lr_mult=2.))
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end) == ('LinearLR', 0, 1500)
    assert (poly.type, poly.begin, poly.end, poly.power,
            poly.eta_min) == ('PolyLR', 1500, 160000, 1., 0.)
    # Total batch 8, as the file name says (4 GPUs x 2 images).
    assert '_4xb2-' in name and cfg.train_dataloader.batch_size == 2
    if name.startswith('fpn_'):
        assert type(model.neck).__name__ == 'SpikingFPN'
        assert type(model.decode_head).__name__ == 'SpikingFPNHead'
    else:
        assert type(model.neck).__name__ == 'TemporalAggregation'
        assert type(model.decode_head).__name__ == 'UPerHead'
    arch = name.split('metaspikeformer-')[1][:3]
    assert backbone.arch_settings == type(backbone).arch_zoo[arch]


def test_swap_in_config_changes_only_the_backbone(tmp_path):
    base_file = tmp_path / 'mmseg_fpn.py'
    base_file.write_text(f"_base_ = ['{MMSEG_SEM_FPN}']\n")
    base = Config.fromfile(str(base_file)).to_dict()
    swap = Config.fromfile(osp.join(ROOT, 'configs', 'sem-fpn',
                                    SWAP_IN)).to_dict()
    base_model, swap_model = base.pop('model'), swap.pop('model')
    swap.pop('custom_imports')
    assert swap == base
    assert swap_model['backbone']['type'] == 'spikedet.MetaSpikeFormer'
    assert swap_model['neck']['in_channels'] == [64, 128, 256, 360]
    for key in ('backbone', 'pretrained', 'neck'):
        base_model.pop(key)
        swap_model.pop(key)
    assert swap_model == base_model


def test_quickstart_classes():
    from spikedet.datasets.fashion_scenes import (SCENE_SEG_CLASSES,
                                                  SCENE_SEG_PALETTE)
    cfg = Config.fromfile(QUICKSTART)
    for loader in ('train_dataloader', 'val_dataloader'):
        meta = cfg[loader].dataset.metainfo
        assert tuple(meta.classes) == SCENE_SEG_CLASSES
        assert [tuple(c) for c in meta.palette] == SCENE_SEG_PALETTE
        assert cfg[loader].dataset.reduce_zero_label is False
    assert cfg.model.decode_head.num_classes == len(SCENE_SEG_CLASSES)
    assert cfg.optim_wrapper.type == 'OptimWrapper'  # runs on CPU


@pytest.mark.parametrize('path', SEG_CONFIGS, ids=ids(SEG_CONFIGS))
def test_tiny_train_step_and_inference(path, fashion_scenes_root):
    from mmseg.evaluation import IoUMetric
    from mmseg.registry import DATASETS
    torch.manual_seed(0)
    cfg = tiny_seg_config(load(path), fashion_scenes_root, img_size=64)
    model = build_model(cfg)

    # One training iteration with the config's optimizer settings.
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    batch = pseudo_collate([train_set[i] for i in range(2)])
    before = [p.detach().clone() for p in model.parameters()]
    model.train()
    log_vars = model.train_step(batch, optim_wrapper)
    assert torch.isfinite(log_vars['loss'])
    changed = [
        not torch.equal(b, p) for b, p in zip(before, model.parameters())
    ]
    assert sum(changed) > len(changed) // 2

    # Whole-image and sliding-window inference, scored by IoUMetric.
    val_set = DATASETS.build(cfg.val_dataloader.dataset)
    batch = pseudo_collate([val_set[i] for i in range(2)])
    model.eval()
    for test_cfg in (dict(mode='whole'),
                     dict(mode='slide', crop_size=(48, 48), stride=(32, 32))):
        model.test_cfg = Config(test_cfg)
        with torch.no_grad():
            outputs = model.val_step(batch)
        assert len(outputs) == 2
        for out in outputs:
            assert out.pred_sem_seg.data.shape == (1, 64, 64)
            assert out.seg_logits.data.shape == (11, 64, 64)
        metric = IoUMetric(iou_metrics=['mIoU'])
        metric.dataset_meta = val_set.metainfo
        metric.process(batch, [o.to_dict() for o in outputs])
        result = metric.compute_metrics(metric.results)
        assert 0 <= result['mIoU'] <= 100


def test_quickstart_train_then_test_cli(fashion_scenes_root, tmp_path,
                                        monkeypatch, capsys):
    """tools/train.py writes a checkpoint of the quickstart segmenter and
    tools/test.py scores it with aAcc, mIoU and mAcc."""
    import runpy
    opts = ['--cfg-options']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.dataset.data_root={fashion_scenes_root}',
            f'{loader}.num_workers=0', f'{loader}.persistent_workers=False',
            f'{loader}.batch_size=2'
        ]
    opts += [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2', 'param_scheduler=[]',
        'visualizer.vis_backends=[]'
    ]
    work_dir = str(tmp_path / 'work')
    for script, args in (('train.py', [QUICKSTART]),
                         ('test.py',
                          [QUICKSTART,
                           osp.join(work_dir, 'iter_2.pth')])):
        monkeypatch.setattr('sys.argv',
                            [script] + args + ['--work-dir', work_dir] + opts)
        runpy.run_path(osp.join(ROOT, 'tools', script), run_name='__main__')
    out = capsys.readouterr().out
    test_log = out[out.rindex('Load checkpoint from'):]
    for metric in ('aAcc', 'mIoU', 'mAcc'):
        assert f'{metric}: ' in test_log
