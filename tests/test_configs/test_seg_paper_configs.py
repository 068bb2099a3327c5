"""The paper-reproduction Semantic FPN configs (configs/sem-fpn/*_paper_*)
and the paper-pyramid quickstart: each says what the official file says,
builds the paper's geometry, follows the T=1 -> T=4 initialisation chain,
and trains one iteration and infers on a tiny fashion-scenes dataset."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from spikedet.testing import TINY_SEG_EMBED_DIMS, tiny_seg_config
from spikedet.utils.setup_env import register_config_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEM_FPN = osp.join(ROOT, 'configs', 'sem-fpn')
QUICKSTART_PAPER = osp.join(
    ROOT, 'configs', 'quickstart',
    'fpn_metaspikeformer-tiny-t1_paper-pyramid_fashion-scenes.py')

# What each official file (BICLab/Spike-Driven-Transformer-V2, commit
# 953aacc, segmentation/configs/sem_sdt/) sets: arch, T, images per GPU,
# iterations, end of the poly decay, warmup (end, start factor), lr, weight
# decay, AMP, lr multipliers, validation and checkpoint intervals, and how
# the model starts ('imagenet', the T=1 segmentor's backbone through
# init_cfg, or the whole T=1 segmentor through load_from).
ADE, VOC, AUG = 'ADE20KDataset', 'PascalVOCDataset', 'ConcatDataset'
HEAD2 = dict(head=2.)
NECK_HEAD2 = dict(neck=2., head=2.)
NECK_HEAD1 = dict(neck=1., head=1.)
PAPER = {
    # fpn_SDT_512x512_384_ade20k.py
    'fpn_metaspikeformer-15m-t1_paper_8xb1-160k_ade20k-512x512.py':
    ('15m', 1, ADE, 1, 160000, 160000, (1500, 1e-6), 1e-3, 0.005, False, HEAD2,
     8000, 16000, 'imagenet'),
    # fpn_SDT_512x512_15M_T4_ade20k.py
    'fpn_metaspikeformer-15m-t4_paper_8xb8-160k_ade20k-512x512.py':
    ('15m', 4, ADE, 8, 160000, 160000, (1500, 1e-6), 1e-3, 0.005, True,
     NECK_HEAD2, 5000, 16000, 'backbone'),
    # fpn_SDT_512x512_512_ade20k.py
    'fpn_metaspikeformer-55m-t1_paper_8xb5-160k_ade20k-512x512.py':
    ('55m', 1, ADE, 5, 160000, 160000, (1500, 1e-6), 1e-3, 0.005, False, HEAD2,
     8000, 16000, 'imagenet'),
    # fpn_SDT_512x512_55M_T4_ade20k.py
    'fpn_metaspikeformer-55m-t4_paper_8xb5-80k_ade20k-512x512.py':
    ('55m', 4, ADE, 5, 80000, 160000, (1500, 1e-6), 1e-3, 0.05, True,
     NECK_HEAD2, 8000, 4000, 'backbone'),
    # fpn_SDT_512x512_384_voc2012.py
    'fpn_metaspikeformer-15m-t1_paper_8xb5-80k_voc12-512x512.py':
    ('15m', 1, VOC, 5, 80000, 80000, (1500, 1e-6), 1e-3, 0.005, False, HEAD2,
     8000, 8000, 'imagenet'),
    # fpn_SDT_512x512_15M_T4_voc2012.py
    'fpn_metaspikeformer-15m-t4_paper_8xb8-40k_voc12-512x512.py':
    ('15m', 4, VOC, 8, 40000, 40000, (1000, 1e-7), 1e-4, 0.005, True,
     NECK_HEAD1, 4000, 8000, 'load_from'),
    # fpn_SDT_512x512_512_voc2012.py (lr 0.001 x gpu_multiples 0.5)
    'fpn_metaspikeformer-55m-t1_paper_8xb5-80k_voc12-512x512.py':
    ('55m', 1, VOC, 5, 80000, 80000, (1500, 1e-6), 5e-4, 0.005, False, HEAD2,
     8000, 8000, 'imagenet'),
    # fpn_SDT_512x512_55M_T4_voc2012.py
    'fpn_metaspikeformer-55m-t4_paper_8xb4-40k_voc12-512x512.py':
    ('55m', 4, VOC, 4, 40000, 80000, (1000, 1e-7), 1e-4, 0.005, True,
     NECK_HEAD1, 4000, 4000, 'load_from'),
    # fpn_SDT_512x512_384_voc12aug.py
    'fpn_metaspikeformer-15m-t1_paper_8xb10-80k_voc12aug-512x512.py':
    ('15m', 1, AUG, 10, 80000, 160000, (1500, 1e-6), 1e-3, 0.005, False,
     dict(head=10.), 8000, 8000, 'imagenet'),
    # fpn_SDT_512x512_512_voc12aug.py
    'fpn_metaspikeformer-55m-t1_paper_8xb3-80k_voc12aug-512x512.py':
    ('55m', 1, AUG, 3, 80000, 80000, (1500, 1e-6), 1e-3, 0.005, False,
     dict(head=10.), 5000, 8000, 'imagenet'),
}
PAPER_PATHS = [osp.join(SEM_FPN, name) for name in PAPER]
# The official pyramids: stem, stage 0, stage 1, last stage.
PYRAMID = {'15m': (32, 64, 128, 360), '55m': (64, 128, 256, 640)}
NECK_CHANNELS = {'15m': 128, '55m': 256}


def load(path):
    cfg = Config.fromfile(path)
    register_config_scope(cfg)
    init_default_scope('mmseg')
    return cfg


def build_model(cfg, device='cpu'):
    from mmseg.registry import MODELS
    with torch.device(device):
        return revert_sync_batchnorm(MODELS.build(cfg.model))


def t1_config_of(name):
    """The T=1 config a T=4 paper config starts from."""
    t1 = [
        n for n in PAPER
        if n.split('_')[1] == name.split('_')[1].replace('-t4', '-t1')
        and n.split('_')[-1] == name.split('_')[-1]
    ]
    assert len(t1) == 1, (name, t1)
    return t1[0]


def test_all_paper_configs_present():
    import glob
    found = {
        osp.basename(p)
        for p in glob.glob(osp.join(SEM_FPN, '*.py')) if '_paper_' in p
    }
    assert found == set(PAPER)


@pytest.mark.parametrize('name', list(PAPER))
def test_paper_config_says_what_the_official_file_says(name):
    (arch, T, dataset, batch, iters, poly_end, (warm_end, warm_start), lr, wd,
     amp, lr_mults, val_interval, ckpt_interval, init) = PAPER[name]
    cfg = load(osp.join(SEM_FPN, name))
    header = open(osp.join(SEM_FPN, name)).read().split('_base_')[0]
    assert 'Reproduces BICLab/Spike-Driven-Transformer-V2' in header
    assert 'Remaining differences' in header

    # Data, batch and schedule.
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.type == (
            dataset if loader == 'train_dataloader' else
            ADE if dataset == ADE else VOC)
    assert cfg.train_dataloader.batch_size == batch
    assert cfg.val_dataloader.batch_size == 1
    assert f'_8xb{batch}-' in name
    assert cfg.auto_scale_lr.base_batch_size == 8 * batch
    assert cfg.train_cfg.max_iters == iters
    assert f'-{iters // 1000}k_' in name
    assert cfg.train_cfg.val_interval == val_interval
    assert cfg.default_hooks.checkpoint.interval == ckpt_interval
    warmup, poly = cfg.param_scheduler
    assert (warmup.type, warmup.begin, warmup.end,
            warmup.start_factor) == ('LinearLR', 0, warm_end, warm_start)
    assert (poly.type, poly.begin, poly.end, poly.power,
            poly.eta_min) == ('PolyLR', warm_end, poly_end, 1., 0.)
    wrapper = cfg.optim_wrapper
    assert wrapper.type == ('AmpOptimWrapper' if amp else 'OptimWrapper')
    assert (wrapper.optimizer.type, wrapper.optimizer.lr,
            wrapper.optimizer.weight_decay) == ('AdamW', lr, wd)
    assert {
        k: v.lr_mult
        for k, v in wrapper.paramwise_cfg.custom_keys.items()
    } == lr_mults
    crop = (512, 512)
    assert tuple(cfg.model.data_preprocessor.size) == crop
    train_types = [
        t.type for t in cfg.train_dataloader.dataset.get(
            'pipeline',
            cfg.train_dataloader.dataset.get('datasets', [{}])[0].get(
                'pipeline'))
    ]
    assert train_types[2:6] == [
        'RandomResize', 'RandomCrop', 'RandomFlip', 'PhotoMetricDistortion'
    ]

    # Initialisation chain.
    backbone_init = cfg.model.backbone.init_cfg
    if init == 'imagenet':
        assert backbone_init.checkpoint == (
            f'checkpoints/metaspikeformer-{arch}_t1_in1k.pth')
        assert cfg.load_from is None
    else:
        t1 = t1_config_of(name)
        t1_ckpt = (f'work_dirs/{t1[:-3]}/'
                   f'iter_{PAPER[t1][4]}.pth')
        if init == 'backbone':
            assert (backbone_init.checkpoint,
                    backbone_init.prefix) == (t1_ckpt, 'backbone.')
            assert cfg.load_from is None
        else:
            assert backbone_init is None and cfg.load_from == t1_ckpt

    # The paper's geometry, built at full size (on 'meta': shapes only).
    model = build_model(cfg, 'meta')
    backbone, neck, head = model.backbone, model.neck, model.decode_head
    assert backbone.arch_settings == type(backbone).arch_zoo[arch]
    assert backbone.T == T and neck.T == 1
    assert backbone.keep_time and backbone.average_time
    assert backbone.out_strides == (2, 4, 8, 16)
    assert backbone.out_channels == PYRAMID[arch]
    assert tuple(neck.in_channels) == PYRAMID[arch]
    assert neck.out_channels == head.channels == NECK_CHANNELS[arch]
    assert not [m for m in neck.modules() if 'Norm' in type(m).__name__]
    assert head.feature_strides == [2, 4, 8, 16]
    assert [len(s) for s in head.scale_heads] == [1, 1, 2, 3]
    assert head.num_classes == (150 if dataset == ADE else 21)
    assert head.dropout_ratio == 0.1
    assert head.act_cfg is None


def _tiny(cfg, data_root):
    """``tiny_seg_config`` plus the stem level the paper pyramid adds."""
    cfg = tiny_seg_config(cfg, data_root, img_size=64)
    backbone = cfg.model.backbone
    dims = TINY_SEG_EMBED_DIMS
    if backbone.get('out_stem'):
        cfg.model.neck.in_channels = [dims[0] // 2] + [
            dims[i] for i in backbone.out_indices
        ]
    cfg.load_from = None
    return cfg


@pytest.mark.parametrize(
    'path',
    PAPER_PATHS + [QUICKSTART_PAPER],
    ids=[osp.basename(p) for p in PAPER_PATHS + [QUICKSTART_PAPER]])
def test_tiny_train_step_and_inference(path, fashion_scenes_root):
    from mmseg.evaluation import IoUMetric
    from mmseg.registry import DATASETS
    torch.manual_seed(0)
    cfg = _tiny(load(path), fashion_scenes_root)
    model = build_model(cfg)
    assert model.backbone.out_strides == (2, 4, 8, 16)

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

    val_set = DATASETS.build(cfg.val_dataloader.dataset)
    batch = pseudo_collate([val_set[i] for i in range(2)])
    model.eval()
    with torch.no_grad():
        outputs = model.val_step(batch)
    for out in outputs:
        assert out.pred_sem_seg.data.shape == (1, 64, 64)
        assert out.seg_logits.data.shape == (11, 64, 64)
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = val_set.metainfo
    metric.process(batch, [o.to_dict() for o in outputs])
    assert 0 <= metric.compute_metrics(metric.results)['mIoU'] <= 100


@pytest.mark.parametrize('name', [n for n in PAPER if '-t4_' in n])
def test_t4_starts_from_the_t1_segmentor(name, fashion_scenes_root, tmp_path):
    """A T=1 segmentor checkpoint initialises the T=4 model as the config
    says: the backbone only (init_cfg) or the whole segmentor (load_from).
    """
    t1_cfg = _tiny(
        load(osp.join(SEM_FPN, t1_config_of(name))), fashion_scenes_root)
    torch.manual_seed(0)
    t1 = build_model(t1_cfg)
    ckpt = str(tmp_path / 't1.pth')
    torch.save(dict(state_dict=t1.state_dict(), meta=dict()), ckpt)

    cfg = load(osp.join(SEM_FPN, name))
    init = PAPER[name][-1]
    cfg = _tiny(cfg, fashion_scenes_root)
    if init == 'backbone':
        cfg.model.backbone.init_cfg = dict(
            type='Pretrained', checkpoint=ckpt, prefix='backbone.')
    torch.manual_seed(1)
    t4 = build_model(cfg)
    assert t4.backbone.T == 4
    t4.init_weights()
    if init == 'load_from':
        load_checkpoint(t4, ckpt, map_location='cpu', strict=True)
    t1_sd, t4_sd = t1.state_dict(), t4.state_dict()
    assert t1_sd.keys() == t4_sd.keys()
    for key, value in t4_sd.items():
        same = torch.equal(value, t1_sd[key])
        if key.startswith('backbone.') or init == 'load_from':
            assert same, key
        elif key.endswith('weight') and value.dim() == 4:
            assert not same, key  # the official starts neck/head afresh
