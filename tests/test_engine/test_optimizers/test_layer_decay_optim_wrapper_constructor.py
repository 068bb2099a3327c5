"""Layer ids and learning-rate scales of
SpikingLayerDecayOptimWrapperConstructor."""
import pytest
import torch.nn as nn
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.models import ImageClassifier

from spikedet.engine.optimizers import (
    SpikingLayerDecayOptimWrapperConstructor, get_layer_depth_metaspikeformer,
    get_layer_depth_spikformer)
from spikedet.models.backbones import MetaSpikeFormer, Spikformer

DEPTHS = (1, 2, 1, 2)
META_ARCH = dict(embed_dims=[8, 16, 32, 40], depths=list(DEPTHS), num_heads=2)
SPIK_ARCH = dict(embed_dims=32, depth=3, num_heads=2, patch_size=16)


def _classifier(backbone: dict, in_channels: int) -> ImageClassifier:
    init_default_scope('mmpretrain')
    return ImageClassifier(
        backbone=backbone,
        head=dict(
            type='spikedet.SpikingClsHead',
            num_classes=5,
            in_channels=in_channels,
            with_distill=True))


def _optim_wrapper(model: nn.Module, rate: float, **paramwise):
    cfg = dict(
        optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
        constructor='spikedet.SpikingLayerDecayOptimWrapperConstructor',
        paramwise_cfg=dict(layer_decay_rate=rate, **paramwise))
    return build_optim_wrapper(model, cfg)


def _groups_by_param(optim_wrapper) -> dict:
    return {
        id(p): group
        for group in optim_wrapper.optimizer.param_groups
        for p in group['params']
    }


# depths (1, 2, 1, 2): stem 0, blocks 1..6 in forward order, head 7.
@pytest.mark.parametrize('name, layer_id', [
    ('backbone.stem.0.conv.weight', 0),
    ('backbone.stem.1.mlp.conv1.weight', 0),
    ('backbone.downsample_layers.0.conv.weight', 1),
    ('backbone.stages.0.0.token_mixer.pwconv1.weight', 1),
    ('backbone.downsample_layers.1.bn.weight', 2),
    ('backbone.stages.1.0.mlp.bn1.bias', 2),
    ('backbone.stages.1.1.mlp.conv2.weight', 3),
    ('backbone.downsample_layers.2.conv.bias', 4),
    ('backbone.stages.2.0.attn.q.conv1.weight', 4),
    ('backbone.downsample_layers.3.conv.weight', 5),
    ('backbone.stages.3.1.attn.proj.bn2.weight', 6),
    ('head.fc.weight', 7),
    ('head.fc_dist.bias', 7),
])
def test_metaspikeformer_layer_ids(name, layer_id):
    assert get_layer_depth_metaspikeformer(name, DEPTHS) == (layer_id, 8)


@pytest.mark.parametrize('name, layer_id', [
    ('backbone.patch_embed.proj.0.conv.weight', 0),
    ('backbone.patch_embed.rpe.bn.bias', 0),
    ('backbone.blocks.0.attn.q.conv.weight', 1),
    ('backbone.blocks.2.mlp.1.conv.weight', 3),
    ('backbone.pyramid.up4_1.weight', 4),
    ('head.fc.weight', 4),
])
def test_spikformer_layer_ids(name, layer_id):
    assert get_layer_depth_spikformer(name, 3) == (layer_id, 5)


def test_bare_backbone_prefix():
    assert get_layer_depth_metaspikeformer(
        'stem.0.conv.weight', DEPTHS, prefix='') == (0, 8)
    assert get_layer_depth_spikformer(
        'blocks.1.attn.q.conv.weight', 3, prefix='') == (2, 5)


def test_metaspikeformer_lr_scales_and_weight_decay():
    model = _classifier(
        dict(
            type='spikedet.MetaSpikeFormer',
            arch=META_ARCH,
            out_indices=(3, ),
            keep_time=True), 40)
    rate = 0.5
    ow = _optim_wrapper(model, rate, flat_decay_mult=0.)
    groups = _groups_by_param(ow)
    params = dict(model.named_parameters())
    assert set(groups) == {id(p) for p in params.values()}
    # 6 blocks: ids stem 0, blocks 1..6, head 7; scale rate ** (7 - id).
    cases = {
        'backbone.stem.0.conv.weight': 7,
        'backbone.downsample_layers.1.conv.weight': 5,
        'backbone.stages.1.1.mlp.conv2.weight': 4,
        'backbone.stages.3.1.mlp.fc1.weight': 1,
        'head.fc.weight': 0,
        'head.fc_dist.weight': 0,
    }
    for name, power in cases.items():
        group = groups[id(params[name])]
        assert group['lr'] == pytest.approx(rate**power), name
        assert group['weight_decay'] == pytest.approx(0.05), name
    # One-dimensional parameters (biases, BN) get no weight decay.
    for name in [
            'backbone.stem.0.bn.weight', 'backbone.stem.0.conv.bias',
            'head.fc.bias', 'backbone.stages.2.0.attn.q.bn2.bias'
    ]:
        assert groups[id(params[name])]['weight_decay'] == 0., name


def test_spikformer_lr_scales():
    model = _classifier(
        dict(type='spikedet.Spikformer', arch=SPIK_ARCH, T=1, keep_time=True),
        32)
    ow = _optim_wrapper(model, 0.75)
    groups = _groups_by_param(ow)
    params = dict(model.named_parameters())
    for name, power in {
            'backbone.patch_embed.proj.0.conv.weight': 4,
            'backbone.blocks.0.attn.q.conv.weight': 3,
            'backbone.blocks.2.attn.q.conv.weight': 1,
            'head.fc.weight': 0
    }.items():
        assert groups[id(params[name])]['lr'] == pytest.approx(
            0.75**power), name


def test_rate_one_and_frozen_params():
    model = _classifier(
        dict(
            type='spikedet.MetaSpikeFormer',
            arch=META_ARCH,
            out_indices=(3, ),
            keep_time=True,
            frozen_stages=1), 40)
    ow = _optim_wrapper(model, 1.0)
    groups = _groups_by_param(ow)
    trainable = [p for p in model.parameters() if p.requires_grad]
    frozen = [p for p in model.parameters() if not p.requires_grad]
    assert frozen, 'frozen_stages=1 should freeze the stem and stage 0'
    assert set(groups) == {id(p) for p in trainable}
    assert all(g['lr'] == 1.0 for g in ow.optimizer.param_groups)


def test_bare_backbone_model():
    backbone = Spikformer(arch=SPIK_ARCH, T=1)
    ow = _optim_wrapper(backbone, 0.5)
    groups = _groups_by_param(ow)
    assert groups[id(backbone.patch_embed.rpe.conv.weight)]['lr'] == \
        pytest.approx(0.5**4)
    assert groups[id(backbone.blocks[2].attn.q.conv.weight)]['lr'] == \
        pytest.approx(0.5)


def test_errors():
    init_default_scope('mmpretrain')
    other = ImageClassifier(
        backbone=dict(
            type='ResNet', depth=18, base_channels=8, stem_channels=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=5, in_channels=64))
    with pytest.raises(TypeError, match='MetaSpikeFormer and Spikformer'):
        _optim_wrapper(other, 0.5)
    model = MetaSpikeFormer(arch=META_ARCH)
    with pytest.raises(ValueError, match='layer_decay_rate'):
        _optim_wrapper(model, 1.5)


def test_registered_names():
    from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as ROOT

    from spikedet.registry import OPTIM_WRAPPER_CONSTRUCTORS
    cls = SpikingLayerDecayOptimWrapperConstructor
    assert OPTIM_WRAPPER_CONSTRUCTORS.get(cls.__name__) is cls
    assert ROOT.get(f'spikedet.{cls.__name__}') is cls
