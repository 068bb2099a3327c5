import pytest
import torch

from spikedet.models.spiking import (TimeDropPath, aggregate_time,
                                     encode_input, seq_apply)


def test_encode_static_and_event():
    x = torch.randn(2, 3, 8, 8)
    seq = encode_input(x, 3)
    assert seq.shape == (3, 2, 3, 8, 8)
    assert all(torch.equal(seq[t], x) for t in range(3))
    ev = torch.randn(2, 3, 2, 8, 8)  # [B, T, C, H, W]
    seq = encode_input(ev, 3, in_channels=2)
    assert torch.equal(seq[1], ev[:, 1])
    with pytest.raises(ValueError, match='T=4'):
        encode_input(ev, 4)
    with pytest.raises(ValueError, match='in_channels=3'):
        encode_input(ev, 3, in_channels=3)
    with pytest.raises(ValueError, match='got shape'):
        encode_input(torch.randn(8, 8), 1)
    with pytest.raises(TypeError):
        encode_input([x], 1)


def test_seq_apply_and_aggregate():
    x = torch.randn(3, 2, 4, 5, 5)
    conv = torch.nn.Conv2d(4, 6, 1)
    y = seq_apply(conv, x)
    assert y.shape == (3, 2, 6, 5, 5)
    torch.testing.assert_close(y[2], conv(x[2]))
    torch.testing.assert_close(aggregate_time(x, 'mean'), x.mean(0))
    torch.testing.assert_close(aggregate_time(x, 'sum'), x.sum(0))
    assert torch.equal(aggregate_time(x, 'last'), x[2])
    w = torch.tensor([0.5, 0.25, 0.25])
    torch.testing.assert_close(
        aggregate_time(x, 'weighted', w), 0.5 * x[0] + 0.25 * (x[1] + x[2]))
    with pytest.raises(ValueError, match='Unknown time aggregation'):
        aggregate_time(x, 'max')
    with pytest.raises(ValueError, match='per-step weights'):
        aggregate_time(x, 'weighted', torch.ones(2))


def test_time_drop_path_shares_mask_over_time():
    torch.manual_seed(0)
    dp = TimeDropPath(0.5).train()
    y = dp(torch.ones(4, 64, 3))
    per_sample = y[:, :, 0]
    assert torch.equal(per_sample, per_sample[:1].expand_as(per_sample))
    assert set(y.unique().tolist()) <= {0.0, 2.0}
    assert torch.equal(dp.eval()(torch.ones(2, 2)), torch.ones(2, 2))
