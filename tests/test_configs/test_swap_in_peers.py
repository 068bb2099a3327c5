"""The README's swap-in recipe, as a user writes it, on peer configs taken
straight from the installed libraries: mmdet (two-stage, one-stage,
DETR-style), mmseg (UperNet, DeepLabV3+, PSPNet, whose bases set
``model.pretrained='open-mmlab://resnet50_v1c'``) and mmpretrain (ResNet
classifier). Each builds and takes one training step (data preprocessor,
loss, backward, optimizer step) on tiny random data.

Only the backbone and the channels that follow it are the recipe; the tiny
arch and the narrowed head channels (``# test size``) keep the step fast.
"""
import textwrap

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import spikedet  # noqa: F401  (spikedet:: configs, version check)
from spikedet.models.backbones.base import pretrained_to_init_cfg

#: Channels of the tiny arch at strides 4, 8, 16, 32.
CH = [8, 16, 32, 64]
TINY = dict(embed_dims=CH, depths=[1, 1, 1, 1], num_heads=2)


def _backbone(out_indices=(0, 1, 2, 3)) -> str:
    return (f"dict(_delete_=True, type='spikedet.MetaSpikeFormer', "
            f'arch={TINY!r}, T=1, last_stride=2, '
            f'out_indices={tuple(out_indices)!r}, keep_time=False)')


#: name -> (library base config, model overrides of the recipe).
RECIPES = {
    # mmdet
    'faster-rcnn': ('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
                    f'backbone={_backbone()}, neck=dict(in_channels={CH})'),
    'retinanet': ('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
                  f'backbone={_backbone()}, neck=dict(in_channels={CH})'),
    'fcos': ('mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
             f'backbone={_backbone()}, neck=dict(in_channels={CH})'),
    'detr':
    ('mmdet::detr/detr_r50_8xb2-150e_coco.py', f'backbone={_backbone((3, ))}, '
     f'neck=dict(in_channels=[{CH[3]}])'),
    # mmseg: the recipe adds pretrained=None (see test below)
    'upernet': ('mmseg::upernet/upernet_r50_4xb2-40k_cityscapes-512x1024.py',
                f'pretrained=None, backbone={_backbone()}, '
                f'decode_head=dict(in_channels={CH}, channels=16), '
                f'auxiliary_head=dict(in_channels={CH[2]}, channels=16)'),
    'deeplabv3plus':
    ('mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-'
     '512x1024.py', f'pretrained=None, backbone={_backbone()}, '
     f'decode_head=dict(in_channels={CH[3]}, c1_in_channels={CH[0]}, '
     'channels=16, c1_channels=8), '
     f'auxiliary_head=dict(in_channels={CH[2]}, channels=16)'),
    'pspnet': ('mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
               f'pretrained=None, backbone={_backbone()}, '
               f'decode_head=dict(in_channels={CH[3]}, channels=16), '
               f'auxiliary_head=dict(in_channels={CH[2]}, channels=16)'),
    # mmpretrain
    'resnet-classifier': ('mmpretrain::resnet/resnet50_8xb32_in1k.py',
                          f'backbone={_backbone((3, ))}, '
                          f'head=dict(in_channels={CH[3]})'),
}


def _user_config(tmp_path, name: str, overrides: str) -> Config:
    base, model = RECIPES[name]
    path = tmp_path / f'{name}_swap.py'
    text = f"_base_ = ['{base}']\nmodel = dict({model}{overrides})\n"
    path.write_text(textwrap.dedent(text))
    return Config.fromfile(str(path))


def _det_batch():
    from mmdet.testing import demo_mm_inputs
    torch.manual_seed(0)
    return demo_mm_inputs(
        batch_size=2,
        image_shapes=(3, 64, 64),
        num_items=[3, 2],
        num_classes=80)


def _seg_batch(num_classes: int):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    gen = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(
            torch.randint(
                0, 256, (3, 64, 64), generator=gen, dtype=torch.uint8))
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64)))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, 64, 64), generator=gen))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _cls_batch():
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(0)
    return dict(
        inputs=[
            torch.randint(
                0, 256, (3, 64, 64), generator=gen, dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[DataSample().set_gt_label(i) for i in (3, 7)])


def _train_step(cfg: Config, data: dict) -> dict:
    from mmengine.registry import MODELS
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    assert type(model.backbone).__name__ == 'MetaSpikeFormer'
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = [p.detach().clone() for p in model.backbone.parameters()]
    losses = model.train_step(data, optim_wrapper)
    assert losses and all(torch.isfinite(v).all() for v in losses.values())
    moved = [
        not torch.equal(b, p.detach())
        for b, p in zip(before, model.backbone.parameters())
    ]
    assert any(moved), 'the optimizer step left the backbone unchanged'
    return losses


@pytest.mark.parametrize('name', ['faster-rcnn', 'retinanet', 'fcos', 'detr'])
def test_mmdet_swap_in_trains(tmp_path, name):
    cfg = _user_config(tmp_path, name, '')
    _train_step(cfg, _det_batch())


@pytest.mark.parametrize('name', ['upernet', 'deeplabv3plus', 'pspnet'])
def test_mmseg_swap_in_trains(tmp_path, name):
    # test size: pad to 64x64 instead of the 512x1024 crops
    cfg = _user_config(tmp_path, name,
                       ', data_preprocessor=dict(size=(64, 64))')
    _train_step(cfg, _seg_batch(cfg.model.decode_head.num_classes))


def test_mmpretrain_swap_in_trains(tmp_path):
    cfg = _user_config(tmp_path, 'resnet-classifier', '')
    _train_step(cfg, _cls_batch())


@pytest.mark.parametrize('name', ['upernet', 'pspnet'])
def test_mmseg_base_pretrained_is_a_clear_error(tmp_path, name):
    """Without the recipe's ``pretrained=None``, mmseg hands its
    ``open-mmlab://resnet50_v1c`` to the backbone: a clear error, not
    ``TypeError: unexpected keyword argument 'pretrained'``."""
    base, model = RECIPES[name]
    cfg = _user_config(tmp_path, name, '')
    assert cfg.model.pretrained is None
    path = tmp_path / 'no_fix.py'
    path.write_text(f"_base_ = ['{base}']\nmodel = dict("
                    f"{model.replace('pretrained=None, ', '')})\n")
    cfg = Config.fromfile(str(path))
    assert cfg.model.pretrained.startswith('open-mmlab://')
    from mmengine.registry import MODELS
    init_default_scope('mmseg')
    with pytest.raises(ValueError) as err:
        MODELS.build(cfg.model)
    msg = str(err.value)
    assert 'open-mmlab://resnet50_v1c' in msg
    assert 'pretrained=None' in msg and 'init_cfg' in msg


def test_pretrained_argument_like_mmseg(tmp_path):
    assert pretrained_to_init_cfg('B', None, None) is None
    init = dict(type='Pretrained', checkpoint='x.pth')
    assert pretrained_to_init_cfg('B', None, init) is init
    with pytest.warns(UserWarning, match='deprecated'):
        assert pretrained_to_init_cfg('B', 'ckpt/m.pth', None) == dict(
            type='Pretrained', checkpoint='ckpt/m.pth')
    with pytest.raises(ValueError, match='both'):
        pretrained_to_init_cfg('B', 'ckpt/m.pth', init)
    with pytest.raises(ValueError, match='cannot load into a spiking'):
        pretrained_to_init_cfg('B', 'torchvision://resnet50', None)
    with pytest.raises(TypeError, match='str or None'):
        pretrained_to_init_cfg('B', 3, None)
    # A spikedet checkpoint given the mmseg way loads as init_cfg does.
    from spikedet.registry import MODELS
    src = MODELS.build(dict(type='spikedet.MetaSpikeFormer', arch=TINY))
    torch.save({'state_dict': src.state_dict()}, str(tmp_path / 'w.pth'))
    with pytest.warns(UserWarning):
        dst = MODELS.build(
            dict(
                type='spikedet.MetaSpikeFormer',
                arch=TINY,
                pretrained=str(tmp_path / 'w.pth')))
    dst.init_weights()
    for key, value in src.state_dict().items():
        assert torch.equal(value, dst.state_dict()[key]), key
