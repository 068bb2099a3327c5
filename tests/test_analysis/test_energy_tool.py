"""tools/analysis/energy.py on a tiny Meta-SpikeFormer classifier config."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from torch.utils.flop_counter import FlopCounterMode

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'

CONFIG = """
custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmpretrain'
# At the top level, as mmpretrain's dataset bases put it.
data_preprocessor = dict(
    type='ClsDataPreprocessor', num_classes=10, mean=[72.94], std=[90.02],
    to_rgb=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='spikedet.MetaSpikeFormer',
        arch=dict(embed_dims=[8, 16, 16, 24], depths=[1, 1, 1, 1],
                  num_heads=2),
        T=2, in_channels=1, out_indices=(3, ), keep_time=True),
    head=dict(
        type='spikedet.SpikingClsHead', num_classes=10, in_channels=24,
        loss=dict(type='CrossEntropyLoss')))
test_dataloader = dict(
    batch_size=2,
    num_workers=0,
    dataset=dict(
        type='CustomDataset',
        data_root='{data_root}',
        ann_file='meta/test.txt',
        data_prefix='',
        pipeline=[
            dict(type='LoadImageFromFile', color_type='grayscale'),
            dict(type='Resize', scale=(32, 32)),
            dict(type='PackInputs')
        ]),
    sampler=dict(type='DefaultSampler', shuffle=False))
"""


@pytest.fixture(scope='module')
def tool():
    path = osp.join(ROOT, 'tools', 'analysis', 'energy.py')
    spec = importlib.util.spec_from_file_location('energy_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(tmp_path, data_root='data/missing'):
    path = tmp_path / 'tiny_cls.py'
    path.write_text(CONFIG.replace('{data_root}', str(data_root)))
    return str(path)


def _checkpoint(tool, cfg_path, tmp_path):
    """Random weights with BN scaled up so that neurons do fire."""
    torch.manual_seed(0)
    model = tool.build_model(Config.fromfile(cfg_path), None, 'cpu')
    assert model.data_preprocessor.mean.flatten().tolist() == \
        pytest.approx([72.94])
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.constant_(m.weight, 3.)
            torch.nn.init.normal_(m.running_mean, 0, 0.1)
    path = str(tmp_path / 'tiny.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return model, path


def test_tool_on_test_dataloader(tool, tmp_path, fashion_mnist_cls_root,
                                 capsys):
    cfg = _config(tmp_path, fashion_mnist_cls_root)
    _, ckpt = _checkpoint(tool, cfg, tmp_path)
    out = tmp_path / 'out'
    report = tool.main([
        cfg, ckpt, '--num-images', '3', '--out-dir',
        str(out), '--device', 'cpu'
    ])
    printed = capsys.readouterr().out
    assert 'Per layer' in printed and 'backbone.stem.0.conv' in printed
    assert 'Per stage' in printed and 'energy:' in printed
    assert report['meta']['num_images'] == 3  # 2 + 1 of the second batch
    assert report['meta']['input'] == 'test dataloader'
    with open(out / 'energy.json') as f:
        saved = json.load(f)
    assert saved['totals'] == json.loads(json.dumps(report['totals']))
    for png in ('firing_rates.png', 'spike_maps.png'):
        with open(out / png, 'rb') as f:
            assert f.read(8) == PNG_MAGIC
    layers = {ly['name']: ly for ly in report['layers']}
    # The classifier's fc sees the head LIF's spikes; only the encoding
    # conv is a MAC layer.
    assert layers['head.fc']['input_kind'] == 'spike'
    assert [n for n, ly in layers.items() if ly['flops']] == \
        ['backbone.stem.0.conv']
    tot = report['totals']
    assert 0 < tot['firing_rate'] < 1 and tot['sops'] > 0
    assert tot['energy_mj'] == pytest.approx(
        (4.6 * tot['flops'] + 0.9 * tot['sops']) * 1e-9)
    assert report['stages'][0]['stage'] == 'backbone.stem.0'
    assert report['stages'][-1]['stage'] == 'head'


def test_tool_random_input_backbone_scope(tool, tmp_path):
    cfg = _config(tmp_path)
    model, ckpt = _checkpoint(tool, cfg, tmp_path)
    report = tool.main([
        cfg, ckpt, '--random-input', '--input-shape', '1', '32', '40',
        '--num-images', '2', '--batch-size', '2', '--scope', 'backbone',
        '--e-mac', '1', '--e-ac', '0.5', '--no-plots', '--summary-only',
        '--json',
        str(tmp_path / 'r.json'), '--device', 'cpu'
    ])
    assert osp.isfile(tmp_path / 'r.json')
    assert report['meta']['scope'] == 'backbone'
    assert all(ly['name'].startswith('backbone.') for ly in report['layers'])
    # Dense MACs agree with torch's FLOP counter (2 FLOPs per MAC).
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model.eval().backbone(torch.rand(2, 1, 32, 40))
    assert report['totals']['macs'] * 2 * 2 == fc.get_total_flops()
    tot = report['totals']
    assert tot['energy_mj'] == pytest.approx(
        (1 * tot['flops'] + 0.5 * tot['sops']) * 1e-9)


def test_tool_errors(tool, tmp_path):
    cfg = _config(tmp_path)
    with pytest.raises(FileNotFoundError, match='--random-input'):
        tool.main([
            cfg, '--num-images', '1', '--no-plots', '--out-dir',
            str(tmp_path)
        ])
    with pytest.raises(FileNotFoundError, match='not found'):
        tool.main([cfg, str(tmp_path / 'nope.pth'), '--random-input'])
    with pytest.raises(SystemExit):
        tool.parse_args([cfg, '--num-images', '0'])
