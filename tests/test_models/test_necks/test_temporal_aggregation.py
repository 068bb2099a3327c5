import pytest
import torch

from spikedet.models.necks import TemporalAggregation

IN_CHANNELS = [4, 6]


def _feats(T=3, B=2, channels=IN_CHANNELS, size=8):
    return [
        torch.randn(T, B, c, size // 2**i, size // 2**i)
        for i, c in enumerate(channels)
    ]


@pytest.mark.parametrize(
    'mode,reduce',
    [
        ('mean', lambda x: x.mean(0)),
        ('sum', lambda x: x.sum(0)),
        ('last', lambda x: x[-1]),
        ('learnable', lambda x: x.mean(0)),  # logits start at 0: the mean
    ])
def test_modes(mode, reduce):
    neck = TemporalAggregation(3, IN_CHANNELS, mode=mode)
    feats = _feats()
    outs = neck(feats)
    assert isinstance(outs, tuple) and len(outs) == len(feats)
    for out, x in zip(outs, feats):
        assert out.shape == x.shape[1:]
        torch.testing.assert_close(out, reduce(x))


def test_learnable_weights_train_per_level():
    neck = TemporalAggregation(3, IN_CHANNELS, mode='learnable')
    assert neck.time_logits.shape == (2, 3)
    feats = _feats()
    # Push level 1 towards its last step only.
    loss = -(neck(feats)[1] * feats[1][-1]).sum()
    loss.backward()
    grad = neck.time_logits.grad
    assert torch.all(grad[0] == 0)
    assert grad[1].abs().sum() > 0
    with torch.no_grad():
        neck.time_logits[1] = torch.tensor([0., 0., 10.])
    torch.testing.assert_close(neck.step_weights(1).sum(), torch.tensor(1.))
    out = neck(feats)[1]
    assert (out - feats[1][-1]).abs().max() < (out -
                                               feats[1].mean(0)).abs().max()


def test_learnable_shared_without_in_channels():
    neck = TemporalAggregation(2, mode='learnable')
    assert neck.time_logits.shape == (1, 2)
    outs = neck(_feats(T=2, channels=[3, 5, 7]))
    assert [o.shape[1] for o in outs] == [3, 5, 7]


def test_bad_config():
    with pytest.raises(ValueError, match='Unknown time aggregation'):
        TemporalAggregation(2, mode='max')
    with pytest.raises(ValueError, match='positive int'):
        TemporalAggregation(0)
    with pytest.raises(TypeError, match='in_channels'):
        TemporalAggregation(2, in_channels=64)


def test_bad_inputs():
    neck = TemporalAggregation(3, IN_CHANNELS)
    with pytest.raises(ValueError, match='T=3 but level 0 carries 2'):
        neck(_feats(T=2))
    with pytest.raises(ValueError, match='level 1 has 5 channels'):
        neck(_feats(channels=[4, 5]))
    with pytest.raises(ValueError, match='keep_time=True'):
        neck([f.mean(0) for f in _feats()])
    with pytest.raises(ValueError, match='2 input levels'):
        neck(_feats()[:1])
    with pytest.raises(TypeError, match='list/tuple'):
        neck(_feats()[0])
