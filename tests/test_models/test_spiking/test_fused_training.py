"""The fused neurons under CPU AMP (one training iteration of the quickstart
classifier, shrunk, at T=2) and under torch.compile.

mmengine 0.10.7's ``compile=True`` compiles the whole ``train_step``,
optimizer update included; on torch 2.14 dynamo stops in AdamW's
``step`` (``InternalTorchDynamoError: 'UserDefinedDictVariable' object has
no attribute 'items'``) with either neuron backend, so the compile test
compiles the model (a conv unit) itself."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from spikedet.models.spiking import SpikingConvModule, SpikingNeuron
from spikedet.testing import tiny_cls_config

QUICKSTART = 'configs/quickstart/metaspikeformer-tiny-t1_fashion-mnist.py'


def one_iter_config(root: str, work_dir: str) -> Config:
    cfg = Config.fromfile(QUICKSTART)
    tiny_cls_config(cfg, root)
    cfg.model.backbone.T = 2  # the multi-step path
    cfg.work_dir = work_dir
    cfg.train_cfg = dict(by_epoch=False, max_iters=1, val_interval=100)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 1
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=0)
    return cfg


def input_dtypes(runner):
    """Record the input dtype of every neuron call."""
    seen = []
    for m in runner.model.modules():
        if isinstance(m, SpikingNeuron):
            assert m.cfg['backend'] == 'fused'
            m.register_forward_pre_hook(
                lambda mod, args: seen.append(args[0].dtype))
    return seen


def test_fused_one_iter_with_cpu_amp(fashion_mnist_cls_root, tmp_path):
    cfg = one_iter_config(fashion_mnist_cls_root, str(tmp_path))
    # What tools/train.py --amp picks without a GPU.
    cfg.optim_wrapper.type = 'spikedet.CPUAmpOptimWrapper'
    runner = Runner.from_cfg(cfg)
    seen = input_dtypes(runner)
    runner.train()
    assert runner.iter == 1
    assert math.isfinite(runner.message_hub.get_scalar('train/loss').current())
    # Convs ran in bfloat16 under autocast, so the neurons got bfloat16.
    assert torch.bfloat16 in seen
    assert all(p.dtype == torch.float32 for p in runner.model.parameters())


def test_fused_neurons_compile_same_gradients():
    """Dynamo + AOTAutograd trace the neurons' autograd Function and give
    the eager results (one conv unit, T=3, PLIF with its tau gradient)."""
    dynamo = pytest.importorskip('torch._dynamo')
    dynamo.reset()
    torch.manual_seed(0)
    unit = SpikingConvModule(
        4, 4, 3, neuron_cfg=dict(type='PLIF', detach_reset=False))
    x = torch.randn(3, 2, 4, 6, 6) * 2
    results = []
    for fn in (unit, torch.compile(unit, backend='aot_eager')):
        unit.zero_grad()
        xg = x.clone().requires_grad_(True)
        fn(xg).square().sum().backward()
        results.append([xg.grad] + [p.grad.clone() for p in unit.parameters()])
    assert dynamo.utils.counters['stats']['unique_graphs'] > 0
    for a, b in zip(*results):
        torch.testing.assert_close(a, b)
