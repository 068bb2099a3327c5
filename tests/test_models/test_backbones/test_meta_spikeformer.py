import pytest
import torch
import torch.nn as nn

from spikedet.models.backbones import MetaSpikeFormer
from spikedet.models.spiking import SpikingNeuron

TINY = dict(embed_dims=[8, 16, 32, 40], depths=[1, 1, 1, 1], num_heads=2)

# (arch, embed dims, parameter count of the 1000-class classifier in the
# paper, in millions)
PAPER_PARAMS = [('15m', [64, 128, 256, 360], 15.1),
                ('31m', [96, 192, 384, 480], 31.3),
                ('55m', [128, 256, 512, 640], 55.4)]


@pytest.mark.parametrize('arch,dims,params', PAPER_PARAMS)
def test_param_count_matches_paper(arch, dims, params):
    model = MetaSpikeFormer(arch)
    assert model.arch_settings['embed_dims'] == dims
    n = sum(p.numel() for p in model.parameters())
    n += dims[-1] * 1000 + 1000  # the 1000-class linear head
    assert abs(n / 1e6 - params) / params < 0.005


def test_arch_errors():
    with pytest.raises(KeyError, match='Unknown arch'):
        MetaSpikeFormer('8_384')
    with pytest.raises(KeyError, match='embed_dims and depths'):
        MetaSpikeFormer(dict(embed_dims=[8, 16, 32, 40]))
    with pytest.raises(ValueError, match='4 entries'):
        MetaSpikeFormer(dict(embed_dims=[8, 16, 32], depths=[1, 1, 1]))
    with pytest.raises(ValueError, match='last_stride'):
        MetaSpikeFormer(TINY, last_stride=4)
    with pytest.raises(IndexError, match='out of range'):
        MetaSpikeFormer(TINY, out_indices=(4, ))


@pytest.mark.parametrize('T', [1, 2])
@pytest.mark.parametrize('keep_time', [False, True])
@pytest.mark.parametrize('out_indices', [(0, 1, 2, 3), (3, ), (1, 2)])
@pytest.mark.parametrize('last_stride', [1, 2])
def test_forward_backward_shapes(T, keep_time, out_indices, last_stride):
    model = MetaSpikeFormer(
        TINY,
        T=T,
        keep_time=keep_time,
        out_indices=out_indices,
        last_stride=last_stride)
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    outs = model(x)
    all_strides = (4, 8, 16, 16 * last_stride)
    assert model.out_strides == tuple(all_strides[i] for i in out_indices)
    assert model.out_channels == tuple(TINY['embed_dims'][i]
                                       for i in out_indices)
    assert len(outs) == len(out_indices)
    for out, stride, c in zip(outs, model.out_strides, model.out_channels):
        spatial = (64 // stride, 64 // stride)
        expected = (T, 2, c) + spatial if keep_time else (2, c) + spatial
        assert out.shape == expected
    sum(o.sum() for o in outs).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # every parameter on the path to the last output receives a gradient
    # (the last stage is only reached when it is an output)
    if 3 in out_indices:
        for name, p in model.named_parameters():
            assert p.grad is not None, name


def test_keep_time_mean_relation():
    torch.manual_seed(0)
    model = MetaSpikeFormer(TINY, T=2, keep_time=True).eval()
    x = torch.randn(1, 3, 32, 32)
    seq = model(x)
    model.keep_time = False
    avg = model(x)
    for s, a in zip(seq, avg):
        torch.testing.assert_close(s.mean(0), a)


def test_event_input_layout_and_errors():
    model = MetaSpikeFormer(TINY, T=2, in_channels=2, keep_time=True).eval()
    frames = torch.rand(2, 2, 2, 32, 32)  # [B, T, C, H, W]
    out = model(frames)[-1]
    assert out.shape[:2] == (2, 2)
    # each time step sees its own frame: step 0 alone equals a T=1 run on
    # frame 0 (neurons start from rest)
    model1 = MetaSpikeFormer(TINY, T=1, in_channels=2, keep_time=True).eval()
    model1.load_state_dict(model.state_dict())
    torch.testing.assert_close(model1(frames[:, :1])[-1][0], out[0])
    with pytest.raises(ValueError, match='T=2'):
        model(torch.rand(2, 3, 2, 32, 32))
    with pytest.raises(ValueError, match='in_channels=2'):
        model(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r'\[B, C, H, W\]'):
        model(torch.rand(3, 32, 32))


def test_state_reset_determinism_and_batch_change():
    torch.manual_seed(0)
    model = MetaSpikeFormer(TINY, T=2)
    model.train()
    x = torch.randn(3, 3, 32, 32)
    model.eval()
    a = model(x)
    b = model(x)
    for u, v in zip(a, b):
        assert torch.equal(u, v)
    # a different batch size in between, then per-sample results agree
    single = model(x[:1])
    again = model(x)
    for u, v, w in zip(a, again, single):
        assert torch.equal(u, v)
        torch.testing.assert_close(w[0], u[0], rtol=1e-4, atol=1e-5)


def test_spikes_are_binary_and_attention_threshold():
    model = MetaSpikeFormer(TINY, T=2).eval()
    seen = []
    for name, m in model.named_modules():
        if isinstance(m, SpikingNeuron):
            m.register_forward_hook(lambda mod, i, o, n=name: seen.append(
                (n, o)))
    model(torch.randn(1, 3, 32, 32))
    assert seen
    for name, out in seen:
        assert set(out.unique().tolist()) <= {0.0, 1.0}, name
    thresholds = {
        n: m.v_threshold
        for n, m in model.named_modules() if isinstance(m, SpikingNeuron)
    }
    assert thresholds['stages.2.0.attn.attn_lif'] == 0.5
    assert thresholds['stages.2.0.attn.q_lif'] == 1.0


def test_frozen_stages():
    model = MetaSpikeFormer(TINY, frozen_stages=2)
    model.train()
    frozen = [
        model.stem, model.downsample_layers[0], model.stages[0],
        model.downsample_layers[1], model.stages[1]
    ]
    for m in frozen:
        for p in m.parameters():
            assert not p.requires_grad
        for bn in m.modules():
            if isinstance(bn, nn.BatchNorm2d):
                assert not bn.training
    for p in model.stages[2].parameters():
        assert p.requires_grad
    # BN statistics of frozen stages do not move in a training forward
    before = model.stem[0].bn.running_mean.clone()
    after_free = model.stages[2][0].mlp.bn1.running_mean.clone()
    out = model(torch.randn(2, 3, 32, 32))
    sum(o.sum() for o in out).backward()
    assert torch.equal(before, model.stem[0].bn.running_mean)
    assert not torch.equal(after_free, model.stages[2][0].mlp.bn1.running_mean)
    assert model.stem[0].conv.weight.grad is None
    assert model.stages[2][0].mlp.fc1.weight.grad is not None
    with pytest.raises(ValueError, match='frozen_stages'):
        MetaSpikeFormer(TINY, frozen_stages=5)


def test_norm_eval():
    model = MetaSpikeFormer(TINY, norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(not m.training for m in bns)
    assert model.training
    model = MetaSpikeFormer(TINY, norm_eval=False).train()
    assert all(m.training for m in model.modules()
               if isinstance(m, nn.BatchNorm2d))


def test_with_cp_matches_plain():
    torch.manual_seed(0)
    plain = MetaSpikeFormer(TINY, T=2, keep_time=True)
    ckpt = MetaSpikeFormer(TINY, T=2, keep_time=True, with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    a, b = plain(x), ckpt(x2)
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v)
    sum(o.sum() for o in a).backward()
    sum(o.sum() for o in b).backward()
    torch.testing.assert_close(x.grad, x2.grad)
    for (n, p), (_, q) in zip(plain.named_parameters(),
                              ckpt.named_parameters()):
        torch.testing.assert_close(p.grad, q.grad, msg=n)


def test_drop_path_only_in_training():
    torch.manual_seed(0)
    model = MetaSpikeFormer(TINY, drop_path_rate=0.5)
    rates = [b.drop_path.drop_prob for s in model.stages for b in s]
    assert rates == sorted(rates) and rates[-1] == pytest.approx(0.5)
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    assert all(torch.equal(u, v) for u, v in zip(model(x), model(x)))


def test_with_cp_updates_bn_statistics_once():
    torch.manual_seed(0)
    plain = MetaSpikeFormer(TINY, T=2).train()
    ckpt = MetaSpikeFormer(TINY, T=2, with_cp=True).train()
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    sum(o.sum() for o in plain(x)).backward()
    sum(o.sum() for o in ckpt(x)).backward()
    for (n, a), (_, b) in zip(plain.named_buffers(), ckpt.named_buffers()):
        torch.testing.assert_close(a, b, msg=n)
