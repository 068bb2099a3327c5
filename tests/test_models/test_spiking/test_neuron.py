import pytest
import torch

from spikedet.models.spiking import (DEFAULT_NEURON_CFG, build_neuron,
                                     cupy_available)
from spikedet.models.spiking import neuron as neuron_mod


def lif_reference(x, tau=2.0, v_th=1.0):
    """Plain LIF (decay input, hard reset to 0), written independently."""
    v = torch.zeros_like(x[0])
    out = []
    for xt in x:
        v = v + (xt - v) / tau
        s = (v >= v_th).to(x.dtype)
        v = v * (1 - s)
        out.append(s)
    return torch.stack(out)


def test_default_lif_matches_reference():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 5) * 2
    lif = build_neuron()
    assert torch.equal(lif(x), lif_reference(x))
    half = build_neuron(v_threshold=0.5)
    assert torch.equal(half(x), lif_reference(x, v_th=0.5))
    assert DEFAULT_NEURON_CFG['tau'] == 2.0
    assert lif.node.detach_reset


def test_stateless_between_calls():
    lif = build_neuron()
    x = torch.full((2, 1, 3), 1.5)
    first = lif(x)
    # without the reset the second call would start from the carried state
    assert torch.equal(lif(x), first)
    # batch size may change between calls
    assert lif(torch.full((2, 4, 3), 1.5)).shape == (2, 4, 3)


def test_surrogate_gradient_flows():
    x = torch.randn(3, 2, 4, requires_grad=True)
    build_neuron(surrogate=dict(type='ATan', alpha=2.0))(x).sum().backward()
    assert x.grad.abs().sum() > 0


def test_neuron_types_and_errors():
    assert build_neuron(type='IF')(torch.ones(2, 1)).tolist() == [[1.0], [1.0]]
    plif = build_neuron(type='PLIF')
    assert any(True for _ in plif.parameters())
    with pytest.raises(KeyError, match='Unknown neuron type'):
        build_neuron(type='Izhikevich')
    with pytest.raises(KeyError, match='Unknown neuron_cfg keys'):
        build_neuron(dict(tau_m=2.0))
    with pytest.raises(KeyError, match='Unknown surrogate'):
        build_neuron(surrogate=dict(type='Foo'))
    with pytest.raises(ValueError, match="backend 'jax'"):
        build_neuron(backend='jax')
    with pytest.raises(ValueError, match=r'\[T, \.\.\.\]'):
        build_neuron()(torch.ones(3))


@pytest.mark.skipif(cupy_available(), reason='cupy + GPU present')
def test_cupy_without_gpu_is_clear(monkeypatch):
    with pytest.raises(RuntimeError, match="backend='torch'"):
        build_neuron(backend='cupy')
    monkeypatch.setattr(neuron_mod, '_warned_fallback', False)
    lif = build_neuron(backend='cupy', fallback_to_torch=True)
    assert lif.cfg['backend'] == 'torch'
    x = torch.randn(2, 3)
    assert torch.equal(lif(x), lif_reference(x))
