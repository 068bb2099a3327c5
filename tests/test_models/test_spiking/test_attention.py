"""Softmax-free spike attention equals its per-head definition."""
import pytest
import torch

from spikedet.models.spiking import spiking_linear_attention, split_heads


def test_split_heads_layout():
    x = torch.arange(2 * 3 * 4 * 2 * 5).reshape(2, 3, 4, 2, 5)
    heads = split_heads(x, 2)
    assert heads.shape == (2, 3, 2, 10, 2)
    # head h, token n (row-major over H, W), channel c of the head.
    t, b, h, n, c = 1, 2, 1, 7, 1
    assert heads[t, b, h, n, c] == x[t, b, h * 2 + c, n // 5, n % 5]
    with pytest.raises(ValueError, match='num_heads'):
        split_heads(x, 3)


def test_attention_matches_per_head_loop():
    gen = torch.Generator().manual_seed(0)
    T, B, C, H, W, heads, scale = 2, 3, 8, 3, 4, 4, 0.125
    q, k, v = ((torch.rand(T, B, C, H, W, generator=gen) > 0.5).double()
               for _ in range(3))
    out = spiking_linear_attention(q, k, v, heads, scale)
    d = C // heads
    expected = torch.empty_like(q)
    for t in range(T):
        for b in range(B):
            for h in range(heads):
                chans = slice(h * d, (h + 1) * d)
                qh = q[t, b, chans].flatten(1).T  # [N, d]
                kh = k[t, b, chans].flatten(1).T
                vh = v[t, b, chans].flatten(1).T
                y = (qh @ kh.T) @ vh * scale  # (Q K^T) V, no softmax
                expected[t, b, chans] = y.T.reshape(d, H, W)
    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
