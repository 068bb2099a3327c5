import pytest
import torch
import torch.nn as nn

from spikedet.models.backbones import Spikformer

TINY = dict(embed_dims=32, depth=2, num_heads=2)

# (arch, classes, params of the paper's classifier in millions)
PAPER_PARAMS = [('8-384', 1000, 16.81), ('8-512', 1000, 29.68),
                ('10-512', 1000, 36.01), ('8-768', 1000, 66.34),
                ('4-384', 10, 9.32)]


@pytest.mark.parametrize('arch,classes,params', PAPER_PARAMS)
def test_param_count_matches_paper(arch, classes, params):
    model = Spikformer(arch)
    n = sum(p.numel() for p in model.parameters())
    n += model.num_features * classes + classes
    assert abs(n / 1e6 - params) / params < 0.005


@pytest.mark.parametrize('T', [1, 2])
@pytest.mark.parametrize('keep_time', [False, True])
def test_columnar_outputs(T, keep_time):
    model = Spikformer(TINY, T=T, keep_time=keep_time, out_indices=(0, -1))
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    outs = model(x)
    assert model.out_strides == (16, 16)
    assert len(outs) == 2
    for o in outs:
        assert o.shape == ((T, 2, 32, 4, 4) if keep_time else (2, 32, 4, 4))
    sum(o.sum() for o in outs).backward()
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize('T', [1, 2])
@pytest.mark.parametrize('keep_time', [False, True])
@pytest.mark.parametrize('out_indices', [(0, 1, 2, 3), (2, 3)])
def test_simple_pyramid(T, keep_time, out_indices):
    model = Spikformer(
        TINY,
        T=T,
        simple_pyramid=True,
        keep_time=keep_time,
        out_indices=out_indices)
    outs = model(torch.randn(2, 3, 64, 64))
    channels = (8, 16, 32, 32)
    assert model.out_strides == tuple((4, 8, 16, 32)[i] for i in out_indices)
    assert model.out_channels == tuple(channels[i] for i in out_indices)
    for o, s, c in zip(outs, model.out_strides, model.out_channels):
        shape = (2, c, 64 // s, 64 // s)
        assert o.shape == ((T, ) + shape if keep_time else shape)
    sum(o.sum() for o in outs).backward()
    for name, p in model.named_parameters():
        if 0 in out_indices or 'pyramid' not in name:
            assert p.grad is not None, name


def test_cifar_patch_size():
    model = Spikformer('4-384', T=1)
    assert model(torch.randn(1, 3, 32, 32))[0].shape == (1, 384, 8, 8)
    with pytest.raises(ValueError, match='patch_size 16'):
        Spikformer('4-384', simple_pyramid=True)


def test_determinism_and_bad_input():
    model = Spikformer(TINY, T=2).eval()
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(model(x)[0], model(x)[0])
    model(x[:1])
    assert torch.equal(model(x)[0], model(x)[0])
    with pytest.raises(ValueError, match='T=2'):
        model(torch.randn(2, 4, 3, 32, 32))
    with pytest.raises(ValueError, match='in_channels=3'):
        model(torch.randn(2, 1, 32, 32))


def test_frozen_stages_and_norm_eval():
    model = Spikformer(TINY, frozen_stages=1, norm_eval=False).train()
    for m in (model.patch_embed, model.blocks[0]):
        assert all(not p.requires_grad for p in m.parameters())
        assert all(not b.training for b in m.modules()
                   if isinstance(b, nn.BatchNorm2d))
    assert all(p.requires_grad for p in model.blocks[1].parameters())
    model = Spikformer(TINY, norm_eval=True).train()
    assert all(not b.training for b in model.modules()
               if isinstance(b, nn.BatchNorm2d))
    with pytest.raises(ValueError, match='frozen_stages'):
        Spikformer(TINY, frozen_stages=3)


def test_pretrained_into_simple_pyramid(tmp_path):
    """A classification checkpoint has no pyramid: the pyramid keeps its
    initialisation, every other tensor must load; a checkpoint with only part
    of the pyramid, or missing a block tensor, is an error."""
    from spikedet.utils import CheckpointMismatchError
    cls_backbone = Spikformer(TINY)
    sd = {f'backbone.{k}': v for k, v in cls_backbone.state_dict().items()}
    path = tmp_path / 'cls.pth'
    torch.save({'state_dict': sd}, path)
    init = dict(type='Pretrained', checkpoint=str(path), prefix='backbone.')
    det = Spikformer(TINY, simple_pyramid=True, init_cfg=init)
    before = det.pyramid.up8.weight.clone()
    det.init_weights()
    assert torch.equal(det.patch_embed.rpe.conv.weight,
                       cls_backbone.patch_embed.rpe.conv.weight)
    assert torch.equal(det.pyramid.up8.weight, before)

    broken = dict(sd)
    broken.pop('backbone.blocks.1.mlp.0.conv.weight')
    torch.save({'state_dict': broken}, path)
    with pytest.raises(CheckpointMismatchError, match='blocks.1.mlp.0'):
        Spikformer(TINY, simple_pyramid=True, init_cfg=init).init_weights()

    part = dict(sd)
    part['backbone.pyramid.up8.weight'] = det.pyramid.up8.weight
    torch.save({'state_dict': part}, path)
    with pytest.raises(CheckpointMismatchError, match='only part'):
        Spikformer(TINY, simple_pyramid=True, init_cfg=init).init_weights()
