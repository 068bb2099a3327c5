"""The Triton kernels of the fused backend against its torch code.

Without a GPU the kernels run in Triton's interpreter on CPU tensors
(``fused_impl('triton')``). Every test name contains ``triton`` so that
``pytest -k triton`` selects them.
"""
import itertools
import os
import subprocess
import sys

import pytest
import torch

from spikedet.models.spiking import build_neuron
from spikedet.models.spiking.fused import (fused_impl, neuron_spec,
                                           torch_forward)

pytest.importorskip('triton')
from spikedet.models.spiking.fused_triton import triton_forward  # noqa: E402

SURROGATES = (dict(type='Sigmoid', alpha=4.0), dict(type='ATan', alpha=2.0),
              dict(type='PiecewiseQuadratic', alpha=1.0))


@pytest.fixture(autouse=True)
def _interpret(monkeypatch):
    monkeypatch.setenv('TRITON_INTERPRET', '1')


def neuron_and_input(T, dtype=torch.float32, seed=0, **cfg):
    neuron = build_neuron(dict(cfg, backend='fused'))
    if cfg.get('type') == 'PLIF':
        with torch.no_grad():
            neuron.node.w.fill_(0.3)
    g = torch.Generator().manual_seed(seed)
    # 1500 neurons: two kernel blocks, the second one partly masked.
    x = torch.randn(T, 3, 500, generator=g) * 1.5 + 0.6
    grad = torch.randn(T, 3, 500, generator=g)
    return neuron, x.to(dtype), grad.to(dtype)


def run(neuron, x, grad, impl):
    x = x.clone().requires_grad_(True)
    w = getattr(neuron.node, 'w', None)
    if w is not None:
        w.grad = None
    with fused_impl(impl):
        spikes = neuron(x)
        spikes.backward(grad)
    return spikes.detach(), x.grad, None if w is None else w.grad.clone()


@pytest.mark.parametrize('ntype,surrogate,detach_reset,v_reset', [
    (n, s, d, r) for (n, s), (d, r) in itertools.product(
        itertools.product(('LIF', 'PLIF', 'IF'), SURROGATES), ((True, 0.0),
                                                               (False, None),
                                                               (False, -0.25)))
])
def test_triton_matches_torch_fused(ntype, surrogate, detach_reset, v_reset):
    for T in (1, 4):
        neuron, x, grad = neuron_and_input(
            T,
            seed=T,
            type=ntype,
            surrogate=surrogate,
            detach_reset=detach_reset,
            v_reset=v_reset,
            tau=3.0,
            v_threshold=0.8)
        s_ref, gx_ref, gw_ref = run(neuron, x, grad, 'torch')
        s_tri, gx_tri, gw_tri = run(neuron, x, grad, 'triton')
        assert 0 < s_ref.sum() < s_ref.numel()
        assert torch.equal(s_ref, s_tri)
        torch.testing.assert_close(gx_tri, gx_ref, rtol=1e-5, atol=1e-6)
        if gw_ref is not None:
            torch.testing.assert_close(gw_tri, gw_ref, rtol=1e-4, atol=1e-5)
        # The saved membrane is bit-identical too.
        spec = neuron_spec(neuron.node)
        k = neuron.node.w.sigmoid().detach() if ntype == 'PLIF' else None
        h_ref = torch_forward(spec, x, k, keep_h=True)[1]
        h_tri = triton_forward(spec, x, k, keep_h=True)[1]
        assert torch.equal(h_ref, h_tri)


@pytest.mark.parametrize('dtype', (torch.float16, torch.bfloat16))
def test_triton_low_precision_float32_membrane(dtype):
    neuron, x, grad = neuron_and_input(4, dtype, type='PLIF')
    s_ref, gx_ref, gw_ref = run(neuron, x, grad, 'torch')
    s_tri, gx_tri, gw_tri = run(neuron, x, grad, 'triton')
    assert s_tri.dtype == gx_tri.dtype == dtype
    assert torch.equal(s_ref, s_tri)
    torch.testing.assert_close(gx_tri, gx_ref)
    torch.testing.assert_close(gw_tri, gw_ref, rtol=1e-4, atol=1e-5)


def test_triton_rejects_float64():
    neuron, x, _ = neuron_and_input(2, torch.float64)
    with pytest.raises(TypeError, match="fused_impl\\('torch'\\)"):
        with fused_impl('triton'):
            neuron(x)


def test_triton_with_interpret_set_before_import():
    """``TRITON_INTERPRET=1`` from the start, as on a machine without GPU
    where a user sets it: a fresh process, the forced Triton path."""
    code = ('import torch\n'
            'from spikedet.models.spiking import build_neuron\n'
            'from spikedet.models.spiking.fused import fused_impl\n'
            'n = build_neuron(dict(type="LIF", detach_reset=False))\n'
            'x = (torch.randn(3, 2, 300) * 2).requires_grad_()\n'
            'with fused_impl("triton"):\n'
            '    s = n(x); s.sum().backward(); g = x.grad.clone()\n'
            'x.grad = None\n'
            'with fused_impl("torch"):\n'
            '    r = n(x); r.sum().backward()\n'
            'assert torch.equal(s, r)\n'
            'torch.testing.assert_close(g, x.grad)\n'
            'print("ok")\n')
    env = dict(os.environ, TRITON_INTERPRET='1', OMP_NUM_THREADS='1')
    out = subprocess.run([sys.executable, '-c', code],
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith('ok')
