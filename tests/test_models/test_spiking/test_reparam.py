"""Deploy mode: the re-parameterised models equal the eval-mode models
(float64, same spikes), hold no BatchNorm, and refuse training."""
import copy

import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from spikedet.models.backbones import MetaSpikeFormer, Spikformer
from spikedet.models.decode_heads import SpikingFPNHead
from spikedet.models.heads import SpikingClsHead
from spikedet.models.necks import SpikingFPN
from spikedet.models.spiking import SpikingConvModule, build_neuron
from spikedet.models.spiking.neuron import SpikingNeuron
from spikedet.models.spiking.reparam import (ThresholdNeuron, reparameterize,
                                             supports_deploy,
                                             switch_model_to_deploy)


def randomize_bn(model: nn.Module, seed: int = 0) -> None:
    """Give every BN non-trivial statistics and affine parameters, so that
    folding them is not an identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.3 + 0.2)


class SpikeRecorder:
    """Records the output of every outermost neuron, in call order."""

    def __init__(self, model: nn.Module) -> None:
        self.spikes = []
        for m in model.modules():
            if isinstance(m, ThresholdNeuron) or isinstance(
                    m, SpikingNeuron) and not any(
                        isinstance(p, ThresholdNeuron) and p.neuron is m
                        for p in model.modules()):
                m.register_forward_hook(
                    lambda mod, args, out: self.spikes.append(out.detach()))


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).abs().max() / a.abs().max().clamp_min(1e-300)).item()


def check_deploy(model: nn.Module, run, min_spikes: int = 1) -> nn.Module:
    """Switch a float64 copy of ``model`` to deploy mode and compare every
    output and every neuron's spikes with the eval-mode model.

    Args:
        model (nn.Module): The model (any mode).
        run (callable): ``run(model) -> tensor or tuple of tensors``.
        min_spikes (int): Spikes the reference must fire (so the test can
            fail on wrong thresholds). Defaults to 1.

    Returns:
        nn.Module: The deploy model.
    """
    randomize_bn(model)
    ref = model.double().eval()
    deploy = copy.deepcopy(ref)
    deploy.switch_to_deploy()
    assert deploy.deploy
    assert not any(isinstance(m, _BatchNorm) for m in deploy.modules())
    assert not any(
        isinstance(m, SpikingNeuron) and not any(
            isinstance(p, ThresholdNeuron) and p.neuron is m
            for p in deploy.modules()) for m in deploy.modules())
    rec_ref, rec_dep = SpikeRecorder(ref), SpikeRecorder(deploy)
    with torch.no_grad():
        out_ref, out_dep = run(ref), run(deploy)
    if isinstance(out_ref, torch.Tensor):
        out_ref, out_dep = (out_ref, ), (out_dep, )
    assert len(out_ref) == len(out_dep)
    for a, b in zip(out_ref, out_dep):
        assert a.shape == b.shape
        assert rel_diff(a, b) <= 1e-8
    assert len(rec_ref.spikes) == len(rec_dep.spikes) > 0
    for a, b in zip(rec_ref.spikes, rec_dep.spikes):
        assert torch.equal(a, b)
    fired = sum(int(s.sum()) for s in rec_ref.spikes)
    assert fired >= min_spikes
    # Not all neurons saturate either: a firing rate strictly inside (0, 1).
    total = sum(s.numel() for s in rec_ref.spikes)
    assert fired < total
    return deploy


# -- neurons ---------------------------------------------------------------
@pytest.mark.parametrize('ntype', ['LIF', 'PLIF', 'IF'])
@pytest.mark.parametrize('v_reset', [0., None, -0.25])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_threshold_neuron_equals_first_step(ntype, v_reset, dtype):
    torch.manual_seed(0)
    for tau, v_th in [(2., 1.), (3., 0.7), (1.5, 0.5)]:
        neuron = build_neuron(
            dict(type=ntype, tau=tau, v_threshold=v_th, v_reset=v_reset))
        if ntype == 'PLIF':
            with torch.no_grad():
                neuron.node.w.fill_(0.3)
        neuron = neuron.to(dtype).eval()
        x = torch.randn(1, 4, 300, dtype=dtype) * 2
        # Exact ties with the threshold: x = tau * (v_th - v_reset).
        r = v_reset or 0.
        x[0, 0, :3] = torch.tensor([tau * (v_th - r), v_th - r, 0.],
                                   dtype=dtype)
        th = ThresholdNeuron(neuron)
        expected = neuron(x)
        assert torch.equal(th(x), expected)
        assert 0 < expected.sum() < expected.numel()
        # Longer sequences run the neuron itself.
        x4 = torch.randn(4, 2, 50, dtype=dtype)
        assert torch.equal(th(x4), neuron(x4))


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_threshold_neuron_power_of_two_tau(dtype):
    # x >= v_th * tau replaces x / tau >= v_th: same spikes next to the
    # threshold, for tiny, infinite and NaN inputs too.
    for tau, v_th in [(2., 1.), (4., 0.3), (8., 0.5), (2., 1e-3)]:
        neuron = build_neuron(dict(tau=tau, v_threshold=v_th)).to(dtype)
        th = ThresholdNeuron(neuron.eval())
        assert th.input_threshold == v_th * tau
        c = torch.tensor(v_th * tau, dtype=dtype)
        near = c * (1 + torch.linspace(-1e-6, 1e-6, 20001, dtype=dtype))
        x = torch.cat([
            torch.randn(1000, dtype=dtype) * 3, near,
            torch.nextafter(c, c + 1).view(1),
            torch.nextafter(c, c - 1).view(1),
            torch.tensor(
                [1e-40, -1e-40, float('inf'),
                 float('nan')], dtype=dtype)
        ]).view(1, -1)
        assert torch.equal(th(x), neuron(x))
    # Other taus and resting offsets keep the division.
    assert ThresholdNeuron(build_neuron(dict(tau=3.))).input_threshold is None
    assert ThresholdNeuron(build_neuron(dict(v_reset=-0.5))).input_threshold \
        is None


# -- backbones ----------------------------------------------------------------
def shrink(arch: dict, **changes) -> dict:
    return dict(copy.deepcopy(arch), **changes)


@pytest.mark.parametrize('T', [1, 4])
@pytest.mark.parametrize('name', ['15m', '31m', '55m'])
def test_meta_spikeformer_deploy(name, T):
    # Each arch's widths and stage layout; one block per stage (the blocks of
    # a stage are alike), stride 32 so every level differs.
    arch = shrink(MetaSpikeFormer.arch_zoo[name], depths=[1, 1, 1, 1])
    torch.manual_seed(0)
    model = MetaSpikeFormer(
        arch=arch, T=T, last_stride=2, keep_time=True, drop_path_rate=0.1)
    x = torch.rand(1, 3, 64, 64, dtype=torch.float64) * 4
    deploy = check_deploy(model, lambda m: m(x), min_spikes=100)
    # Every BN was folded: the RepConv 1x1 convs now pad their input.
    rep = deploy.stages[2][0].attn.q
    assert rep.conv1.padding == (1, 1) and rep.conv1.bias is not None
    assert isinstance(rep.bn_pad, nn.Identity)


@pytest.mark.parametrize('T', [1, 4])
@pytest.mark.parametrize('name',
                         ['8-384', '8-512', '10-512', '8-768', '4-384'])
def test_spikformer_deploy(name, T):
    # Each arch's heads, patch size and Q/K/V bias; narrow and one block.
    arch = shrink(Spikformer.arch_zoo[name], embed_dims=96, depth=1)
    pyramid = arch['patch_size'] == 16
    torch.manual_seed(0)
    model = Spikformer(
        arch=arch,
        T=T,
        keep_time=True,
        simple_pyramid=pyramid,
        out_indices=(0, 1, 2, 3) if pyramid else (-1, ))
    x = torch.rand(1, 3, 64, 64, dtype=torch.float64) * 4
    check_deploy(model, lambda m: m(x), min_spikes=10)


def test_deploy_output_modes():
    # keep_time=False (mean over T) and a frame input [B, T, C, H, W].
    arch = dict(embed_dims=[16, 32, 64, 128], depths=[1, 1, 1, 1])
    torch.manual_seed(0)
    model = MetaSpikeFormer(
        arch=arch, T=2, keep_time=False, neuron_cfg=dict(v_threshold=0.5))
    x = torch.rand(2, 2, 3, 32, 32, dtype=torch.float64) * 4
    check_deploy(model, lambda m: m(x))


# -- necks and heads ----------------------------------------------------------
@pytest.mark.parametrize('T', [1, 4])
def test_spiking_fpn_deploy(T):
    torch.manual_seed(0)
    neck = SpikingFPN([8, 16, 32],
                      16,
                      num_outs=5,
                      T=T,
                      add_extra_convs='on_input')
    feats = [
        torch.randn(T, 2, c, s, s, dtype=torch.float64) * 2
        for c, s in zip([8, 16, 32], [16, 8, 4])
    ]
    check_deploy(neck, lambda m: m(feats), min_spikes=100)


@pytest.mark.parametrize('T', [1, 4])
def test_spiking_fpn_head_deploy(T):
    torch.manual_seed(0)
    head = SpikingFPNHead(
        feature_strides=[4, 8, 16],
        in_channels=[8, 16, 32],
        in_index=[0, 1, 2],
        channels=16,
        num_classes=5,
        norm_cfg=dict(type='BN'),
        dropout_ratio=0.1)
    feats = [
        torch.randn(T, 2, c, s, s, dtype=torch.float64) * 2
        for c, s in zip([8, 16, 32], [16, 8, 4])
    ]
    check_deploy(head, lambda m: m.forward(feats), min_spikes=100)


@pytest.mark.parametrize('T', [1, 4])
@pytest.mark.parametrize('ntype', ['LIF', 'PLIF'])
def test_spiking_cls_head_deploy(T, ntype):
    torch.manual_seed(0)
    head = SpikingClsHead(
        num_classes=5,
        in_channels=32,
        with_distill=True,
        neuron_cfg=dict(type=ntype, v_threshold=0.3))
    feats = (torch.randn(T, 3, 32, 4, 4, dtype=torch.float64) * 4, )
    check_deploy(head, lambda m: m(feats))


def test_spiking_conv_module_deploy():
    torch.manual_seed(0)
    conv = SpikingConvModule(8, 16, 3, stride=2)
    x = torch.randn(2, 3, 8, 9, 9, dtype=torch.float64) * 2
    check_deploy(conv, lambda m: m(x), min_spikes=10)


# -- built in deploy mode, and errors ---------------------------------------
def test_deploy_built_model_loads_switched_weights():
    arch = dict(embed_dims=[16, 32, 64, 128], depths=[1, 1, 1, 1])
    torch.manual_seed(0)
    model = MetaSpikeFormer(
        arch=arch, T=1, keep_time=True, neuron_cfg=dict(v_threshold=0.5))
    randomize_bn(model)
    model.eval().switch_to_deploy()
    built = MetaSpikeFormer(
        arch=arch,
        T=1,
        keep_time=True,
        neuron_cfg=dict(v_threshold=0.5),
        deploy=True)
    assert built.deploy and not built.training
    assert list(built.state_dict()) == list(model.state_dict())
    built.load_state_dict(model.state_dict(), strict=True)
    x = torch.rand(2, 3, 32, 32) * 4
    with torch.no_grad():
        for a, b in zip(model(x), built(x)):
            assert torch.equal(a, b)


def test_state_dict_keys_of_training_model_unchanged():
    arch = dict(embed_dims=[16, 32, 64, 128], depths=[1, 1, 1, 1])
    keys = list(MetaSpikeFormer(arch=arch).state_dict())
    assert keys == list(MetaSpikeFormer(arch=arch, deploy=False).state_dict())
    assert any('bn' in k for k in keys)


def test_deploy_errors():
    arch = dict(embed_dims=[16, 32, 64, 128], depths=[1, 1, 1, 1])
    model = MetaSpikeFormer(arch=arch, T=1, keep_time=True)
    with pytest.raises(RuntimeError, match=r'training mode.*model\.eval\(\)'):
        model.switch_to_deploy()
    model.eval().switch_to_deploy()
    model.switch_to_deploy()  # a second call does nothing
    with pytest.raises(RuntimeError, match='deploy mode.*inference only'):
        model.train()
    model.eval()  # eval stays allowed
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    out = model(x)[0]
    with pytest.raises(RuntimeError, match='deploy mode.*inference only'):
        out.sum().backward()
    # Training mode set behind train()'s back is caught at the forward.
    model.training = True
    with pytest.raises(RuntimeError, match='inference only'):
        model(x)

    # A BN without a conv right before it is refused, not misfolded.
    class Odd(nn.Module):

        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm2d(4)
            self.conv = nn.Conv2d(4, 4, 1)

    with pytest.raises(RuntimeError, match='no conv is registered'):
        reparameterize(Odd().eval())


def test_supports_deploy():
    for cls in (MetaSpikeFormer, Spikformer, SpikingFPN, SpikingFPNHead,
                SpikingClsHead, SpikingConvModule):
        assert hasattr(cls, 'switch_to_deploy')
    for cls in (MetaSpikeFormer, Spikformer, SpikingFPN, SpikingFPNHead,
                SpikingClsHead):
        assert supports_deploy(cls)
    assert not supports_deploy(nn.Conv2d)

    class Wrapped(MetaSpikeFormer):  # takes deploy through **kwargs

        def __init__(self, **kwargs):
            super().__init__(**kwargs)

    assert supports_deploy(Wrapped)


def test_switch_model_to_deploy():

    class Model(nn.Module):

        def __init__(self):
            super().__init__()
            self.neck = SpikingFPN([8, 16], 8, num_outs=2, T=1)
            self.head = SpikingClsHead(num_classes=3, in_channels=8)
            self.plain = nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3))

    model = switch_model_to_deploy(Model().eval())
    assert model.neck.deploy and model.head.deploy
    # Modules without switch_to_deploy() are left alone.
    assert isinstance(model.plain[1], nn.BatchNorm2d)
    with pytest.raises(ValueError, match='nothing to re-parameterise'):
        switch_model_to_deploy(nn.Conv2d(1, 1, 1))
