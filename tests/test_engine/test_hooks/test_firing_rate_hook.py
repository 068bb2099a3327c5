"""FiringRateHook logs stage firing rates during training and validation."""
import json
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import HOOKS
from mmengine.runner import Runner
from torch.utils.data import Dataset

from spikedet.engine import FiringRateHook
from spikedet.models.spiking import build_neuron, encode_input, seq_apply

T = 2


class _ToySNN(BaseModel):
    """conv (bias 2 -> every IF neuron fires) -> IF -> conv (bias -1 -> no
    neuron fires) -> IF; with lr 0 the rates stay 1 and 0."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 1)
        self.lif1 = build_neuron(dict(type='IF'))
        self.conv2 = nn.Conv2d(4, 4, 1)
        self.lif2 = build_neuron(dict(type='IF'))
        for conv, bias in ((self.conv1, 2.), (self.conv2, -1.)):
            nn.init.zeros_(conv.weight)
            nn.init.constant_(conv.bias, bias)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = encode_input(torch.stack(inputs), T)
        s1 = self.lif1(seq_apply(self.conv1, x))
        s2 = self.lif2(seq_apply(self.conv2, s1))
        out = s2.mean() + self.conv2.bias.sum() * 0
        if mode == 'loss':
            return dict(loss=out)
        return [out]


class _Images(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.rand(3, 4, 4))


class _Metric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.append(0.)

    def compute_metrics(self, results):
        return dict(dummy=0.)


def _loader():
    return dict(
        dataset=_Images(),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=2,
        collate_fn=dict(type='pseudo_collate'),
        num_workers=0)


def test_hook_logs_train_and_val(tmp_path):
    runner = Runner(
        model=_ToySNN(),
        work_dir=str(tmp_path),
        train_dataloader=_loader(),
        val_dataloader=_loader(),
        val_evaluator=dict(type=_Metric),
        train_cfg=dict(by_epoch=False, max_iters=4, val_interval=4),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.)),
        custom_hooks=[
            dict(type='spikedet.FiringRateHook', interval=2, stages=1)
        ],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        visualizer=dict(
            type='Visualizer', vis_backends=[dict(type='LocalVisBackend')]),
        default_scope='mmengine')
    runner.train()
    hub = runner.message_hub
    # lif1 (16 x 2 x 4 x 4 x... elements) all fire, lif2 none: mean 0.5.
    assert hub.get_scalar('train/firing_rate').current() == pytest.approx(0.5)
    # Recorded on iterations 2 and 4 only.
    assert len(hub.get_scalar('train/firing_rate').data[0]) == 2
    assert hub.get_scalar('val/firing_rate').current() == pytest.approx(0.5)
    scalars = osp.join(runner.log_dir, 'vis_data', 'scalars.json')
    with open(scalars) as f:
        lines = [json.loads(line) for line in f]
    stage_lines = [ln for ln in lines if 'train/firing_rate/lif1' in ln]
    assert [ln['step'] for ln in stage_lines] == [2, 4]
    assert stage_lines[0]['train/firing_rate/lif1'] == 1.0
    assert stage_lines[0]['train/firing_rate/lif2'] == 0.0
    assert any(ln.get('val/firing_rate/lif1') == 1.0 for ln in lines)
    # The mean appears in the normal log lines too.
    assert any('firing_rate' in ln and 'loss' in ln for ln in lines)


def test_hook_is_registered_and_checks_args():
    assert HOOKS.get('spikedet.FiringRateHook') is FiringRateHook
    with pytest.raises(ValueError, match='interval'):
        FiringRateHook(interval=0)
