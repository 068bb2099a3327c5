"""Meta-SpikeFormer outputs for the paper's segmentation pyramid: the stem
level (``out_stem``) and averaging over time before the neck
(``average_time``)."""
import pytest
import torch

from spikedet.models.backbones import MetaSpikeFormer

TINY = dict(embed_dims=[8, 16, 32, 40], depths=[1, 1, 1, 1], num_heads=2)


@pytest.mark.parametrize('last_stride', [1, 2])
@pytest.mark.parametrize('out_indices', [(0, 1, 3), (0, 1, 2, 3), (2, )])
def test_stem_output_shapes_strides_channels(last_stride, out_indices):
    model = MetaSpikeFormer(
        TINY,
        T=2,
        out_indices=out_indices,
        out_stem=True,
        last_stride=last_stride,
        keep_time=True)
    stage_strides = (4, 8, 16, 16 * last_stride)
    assert model.out_strides == (2, ) + tuple(stage_strides[i]
                                              for i in out_indices)
    assert model.out_channels == (4, ) + tuple(TINY['embed_dims'][i]
                                               for i in out_indices)
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    outs = model(x)
    assert len(outs) == len(out_indices) + 1
    for out, stride, c in zip(outs, model.out_strides, model.out_channels):
        assert out.shape == (2, 2, c, 64 // stride, 64 // stride)
    outs[0].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_paper_pyramid_15m_geometry():
    """The official 15M segmentation pyramid: stem (stride 2, 32 channels),
    stride 4 (64), stride 8 (128) and the last stage at stride 16 (360)."""
    with torch.device('meta'):
        model = MetaSpikeFormer(
            '15m', out_indices=(0, 1, 3), out_stem=True, last_stride=1)
    assert model.out_strides == (2, 4, 8, 16)
    assert model.out_channels == (32, 64, 128, 360)


def test_stem_output_is_the_stem():
    """The stem level is the stem's own output, and the stage levels do not
    change when the stem is also returned."""
    torch.manual_seed(0)
    model = MetaSpikeFormer(
        TINY, T=2, keep_time=True, out_indices=(0, 1, 3)).eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        plain = model(x)
        model.out_stem = True
        with_stem = model(x)
        stem = model.stem(x.unsqueeze(0).expand(2, *x.shape))
    assert len(with_stem) == len(plain) + 1
    torch.testing.assert_close(with_stem[0], stem, rtol=0, atol=0)
    for a, b in zip(with_stem[1:], plain):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize('T', [1, 3])
def test_average_time_is_mean_of_keep_time(T):
    torch.manual_seed(0)
    model = MetaSpikeFormer(
        TINY, T=T, keep_time=True, out_stem=True,
        out_indices=(0, 1, 3)).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        seq = model(x)
        model.average_time = True
        avg = model(x)
    assert len(avg) == len(seq) == 4
    for s, a in zip(seq, avg):
        assert s.shape[0] == T
        assert a.shape == (1, ) + s.shape[1:]
        torch.testing.assert_close(a, s.mean(0, keepdim=True))
    if T > 1:
        # The steps differ (LIF state), so averaging is not a no-op.
        assert any(not torch.equal(s[0], s[-1]) for s in seq)


def test_average_time_feeds_a_t1_spiking_neck():
    from spikedet.models.necks import SpikingFPN
    model = MetaSpikeFormer(
        TINY,
        T=4,
        keep_time=True,
        average_time=True,
        out_stem=True,
        out_indices=(0, 1, 3))
    x = torch.randn(1, 3, 32, 32)
    feats = model(x)
    neck = SpikingFPN(
        list(model.out_channels), 8, num_outs=4, T=1, norm_cfg=None)
    outs = neck(feats)
    assert [o.shape[-1] for o in outs] == [16, 8, 4, 2]
    # A neck built for the backbone's T=4 names both sides.
    with pytest.raises(ValueError, match='T=4 but level 0 carries 1'):
        SpikingFPN(list(model.out_channels), 8, num_outs=4, T=4)(feats)


def test_bad_options():
    with pytest.raises(
            ValueError, match='average_time=True needs '
            'keep_time=True'):
        MetaSpikeFormer(TINY, keep_time=False, average_time=True)
    with pytest.raises(TypeError, match='out_stem must be a bool'):
        MetaSpikeFormer(TINY, out_stem='yes')
