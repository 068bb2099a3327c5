"""The fused neuron backend against spikingjelly's torch backend."""
import itertools

import pytest
import torch
from spikingjelly.activation_based import neuron as sj_neuron
from spikingjelly.activation_based import surrogate as sj_surrogate

from spikedet.models.spiking import build_neuron
from spikedet.models.spiking.fused import (fused_impl, fused_neuron_forward,
                                           neuron_spec)

TYPES = ('LIF', 'PLIF', 'IF')
SURROGATES = (dict(type='Sigmoid', alpha=4.0), dict(type='ATan', alpha=2.0),
              dict(type='PiecewiseQuadratic', alpha=1.0))
RESETS = (0.0, None)


def make_pair(dtype=torch.float64, **cfg):
    """The same neuron built with the torch and the fused backend."""
    ref = build_neuron(dict(cfg, backend='torch'))
    fused = build_neuron(dict(cfg, backend='fused'))
    if cfg.get('type') == 'PLIF':
        # Away from the initial tau, so the tau gradient path is exercised.
        with torch.no_grad():
            ref.node.w.fill_(0.3)
    fused.load_state_dict(ref.state_dict())
    return ref.to(dtype), fused.to(dtype)


def run(neuron, x, grad):
    x = x.clone().requires_grad_(True)
    spikes = neuron(x)
    spikes.backward(grad)
    w = getattr(neuron.node, 'w', None)
    return spikes.detach(), x.grad, None if w is None else w.grad


def inputs(T, dtype=torch.float64, shape=(2, 3, 5), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(T, *shape, generator=g, dtype=dtype) * 1.5 + 0.6
    grad = torch.randn(T, *shape, generator=g, dtype=dtype)
    return x, grad


def assert_same(ref, fused, x, grad, tol=1e-10):
    s_ref, gx_ref, gw_ref = run(ref, x, grad)
    s_fus, gx_fus, gw_fus = run(fused, x, grad)
    assert torch.equal(s_ref, s_fus)
    assert (gx_ref - gx_fus).abs().max().item() <= tol
    if gw_ref is not None:
        assert gw_fus is not None
        assert abs(gw_ref.item() - gw_fus.item()) <= tol
    return s_ref


@pytest.mark.parametrize(
    'ntype,surrogate,detach_reset,v_reset',
    list(itertools.product(TYPES, SURROGATES, (True, False), RESETS)))
def test_fused_equals_spikingjelly_float64(ntype, surrogate, detach_reset,
                                           v_reset):
    fired = 0
    for v_threshold, T in itertools.product((1.0, 0.5), range(1, 9)):
        ref, fused = make_pair(
            type=ntype,
            surrogate=surrogate,
            detach_reset=detach_reset,
            v_reset=v_reset,
            v_threshold=v_threshold)
        x, grad = inputs(T, seed=T)
        fired += assert_same(ref, fused, x, grad).sum().item()
    assert fired > 0  # the spiking and reset paths were exercised


@pytest.mark.parametrize('ntype', TYPES)
def test_fused_nonzero_hard_reset(ntype):
    for detach_reset in (True, False):
        ref, fused = make_pair(
            type=ntype, v_reset=-0.25, detach_reset=detach_reset)
        x, grad = inputs(6)
        assert_same(ref, fused, x, grad)


@pytest.mark.parametrize('ntype', TYPES)
def test_fused_float32_spikes_bit_identical(ntype):
    for T, v_reset in itertools.product((1, 4), (0.0, None)):
        ref, fused = make_pair(
            torch.float32, type=ntype, v_reset=v_reset, tau=3.0)
        x, grad = inputs(T, torch.float32, shape=(2, 8, 16, 16), seed=T)
        s_ref, _, _ = run(ref, x, grad)
        s_fus, _, _ = run(fused, x, grad)
        assert 0 < s_ref.sum() < s_ref.numel()
        assert torch.equal(s_ref, s_fus)
        # Inference (no graph) gives the same spikes.
        with torch.no_grad():
            assert torch.equal(fused(x), s_fus)


def test_fused_keeps_state_dict_and_interface():
    for ntype in TYPES:
        ref, fused = make_pair(type=ntype)
        assert list(ref.state_dict()) == list(fused.state_dict())
        assert fused.v_threshold == ref.v_threshold
        assert fused.cfg['backend'] == 'fused'
        assert 'backend=fused' in repr(fused)
    # The default is the fused backend.
    assert build_neuron().cfg['backend'] == 'fused'


def test_fused_low_precision_keeps_float32_membrane():
    neuron = build_neuron(dict(backend='fused', type='PLIF'))
    x, grad = inputs(4, torch.float32, shape=(4, 32))
    x = x.bfloat16()
    s_bf, gx_bf, _ = run(neuron, x, grad.bfloat16())
    s_32, gx_32, _ = run(neuron, x.float(), grad.bfloat16().float())
    assert s_bf.dtype == gx_bf.dtype == torch.bfloat16
    assert torch.equal(s_bf.float(), s_32)
    assert torch.equal(gx_bf, gx_32.bfloat16())


def test_fused_errors_name_the_supported_options():
    with pytest.raises(ValueError, match="Unknown neuron backend 'cuda'"):
        build_neuron(dict(backend='cuda'))
    with pytest.raises(ValueError, match='decay_input=False.*supports'):
        neuron_spec(sj_neuron.LIFNode(decay_input=False))
    with pytest.raises(ValueError, match='surrogate Erf.*PiecewiseQuadratic'):
        neuron_spec(sj_neuron.IFNode(surrogate_function=sj_surrogate.Erf()))
    with pytest.raises(ValueError, match='neuron QIFNode.*LIF'):
        neuron_spec(sj_neuron.QIFNode())
    with pytest.raises(ValueError, match='spiking=False'):
        neuron_spec(
            sj_neuron.IFNode(
                surrogate_function=sj_surrogate.ATan(spiking=False)))
    with pytest.raises(TypeError, match='floating-point'):
        fused_neuron_forward(sj_neuron.IFNode(), torch.ones(2, 3).long())
    with pytest.raises(ValueError, match="choose one of \\('auto'"):
        with fused_impl('cuda'):
            pass
