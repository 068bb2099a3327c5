"""The 55m T=4 distillation recipe builds its real teacher, timm's
CAFormer-B36 (random weights: no download), and takes one training
iteration. The student is shrunk; the teacher is full size, so the images
are tiny."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from spikedet.testing.common import is_config_alias

try:
    import timm  # noqa: F401
except ImportError:  # make setup installs it; a missing teacher is a failure
    pytest.fail(
        "timm (the distillation teacher) is not installed: pip install "
        "'spikedet[distill]' or run make setup",
        pytrace=False)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The paper's CAFormer-B36 (timm's count).
CAFORMER_B36_PARAMS = 98.75e6


def _distill_config() -> str:
    found = [
        p for p in glob.glob(
            osp.join(ROOT, 'configs', 'metaspikeformer', '*55m*distill*.py'))
        if not is_config_alias(p)
    ]
    assert len(found) == 1, found
    return found[0]


def test_caformer_b36_teacher_trains_one_iteration():
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    cfg = Config.fromfile(_distill_config())
    assert cfg.model.teacher.type == 'TimmClassifier'
    assert cfg.model.teacher.model_name.startswith('caformer_b36')
    cfg.model.teacher.pretrained = False  # random weights, no download
    # A tiny student (the recipe's T=4 kept), its heads follow it.
    cfg.model.backbone.arch = dict(
        embed_dims=[8, 16, 32, 48], depths=[1, 1, 1, 1], num_heads=2)
    cfg.model.backbone.init_cfg = None
    cfg.model.head.in_channels = 48
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
        cfg.optim_wrapper.type = 'OptimWrapper'  # CPU
        cfg.optim_wrapper.pop('loss_scale', None)

    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    teacher = model.teacher
    assert type(teacher).__name__ == 'TimmClassifier'
    assert type(teacher.model).__name__ == 'MetaFormer'
    n = sum(p.numel() for p in teacher.parameters())
    assert abs(n - CAFORMER_B36_PARAMS) / CAFORMER_B36_PARAMS < 0.001, n
    assert not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())

    gen = torch.Generator().manual_seed(0)
    data = dict(
        inputs=[
            torch.randint(
                0, 256, (3, 32, 32), generator=gen, dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[DataSample().set_gt_label(i) for i in (1, 500)])
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    teacher_before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student_before = [p.detach().clone() for p in model.backbone.parameters()]
    losses = model.train_step(data, optim_wrapper)

    assert any('dist' in k for k in losses), losses.keys()
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert any(not torch.equal(b, p.detach()) for b, p in zip(
        student_before, model.backbone.parameters())), 'student unchanged'
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), f'teacher changed: {k}'
