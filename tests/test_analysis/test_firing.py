import pytest
import torch
import torch.nn as nn

from spikedet.analysis import FiringRateRecorder, find_time_steps, stage_name
from spikedet.models import MetaSpikeFormer
from spikedet.models.spiking import build_neuron
from .toy_models import ToySNN


def test_stage_name_default():
    assert stage_name('backbone.stages.2.0.attn.q_lif') == 'backbone.stages.2'
    assert stage_name('backbone.downsample_layers.1.lif') == \
        'backbone.downsample_layers.1'
    assert stage_name('backbone.patch_embed.proj.0.lif') == \
        'backbone.patch_embed'
    assert stage_name('neck.lateral_convs.0.lif') == 'neck'
    assert stage_name('head.lif') == 'head'
    assert stage_name('stages.3.0.mlp.lif1') == 'stages.3'  # bare backbone
    assert stage_name('lif1') == 'lif1'


def test_stage_name_depth_and_prefixes():
    assert stage_name('backbone.stages.2.0.lif', 2) == 'backbone.stages'
    prefixes = ['backbone', 'backbone.stages.2', 'neck']
    assert stage_name('backbone.stages.2.0.lif', prefixes) == \
        'backbone.stages.2'
    assert stage_name('backbone.stem.0.lif', prefixes) == 'backbone'
    assert stage_name('backbone.stages.20.lif', ['backbone.stages.2']) == \
        'other'
    with pytest.raises(ValueError):
        stage_name('a.b', 0)


@pytest.mark.parametrize('fire', [True, False])
def test_recorder_all_or_no_spikes(fire):
    model = ToySNN(T=3, fire=fire).eval()
    with FiringRateRecorder(model) as rec, torch.no_grad():
        model(torch.rand(2, 3, 4, 4))
    rates = rec.rates()
    assert list(rates) == ['lif1', 'lif2']
    expected = [1.0 if fire else 0.0] * 3
    assert rates['lif1'] == expected and rates['lif2'] == expected
    assert rec.mean_rate() == (1.0 if fire else 0.0)
    assert rec.mean_rate_per_step() == expected
    # Hooks are gone after the context: a new forward changes nothing.
    model(torch.rand(2, 3, 4, 4))
    assert rec.rates()['lif1'] == expected


def test_recorder_partial_and_per_step():
    neuron = build_neuron(dict(type='IF'))
    model = nn.Sequential(neuron)
    x = torch.zeros(2, 1, 4)  # [T, B, C]
    x[0, :, :1] = 2.  # step 0: 1 of 4 channels fires
    x[1] = 2.  # step 1: all fire
    rec = FiringRateRecorder(model).attach()
    model(x)
    model(x)  # accumulates: same rates
    rec.detach()
    assert rec.rates()['0'] == [0.25, 1.0]
    (stats, ) = rec.layer_stats()
    assert stats['rate'] == pytest.approx(0.625)
    assert stats['elements'] == 2 * 2 * 4 and stats['spikes'] == 10
    assert rec.stage_rates() == {'0': pytest.approx(0.625)}
    rec.reset()
    assert rec.rates() == {}


def test_recorder_keeps_maps_and_scope():
    model = ToySNN(T=2).eval()
    rec = FiringRateRecorder(model, keep_maps=['lif2'])
    with rec:
        model(torch.rand(3, 3, 5, 6))
    assert list(rec.maps) == ['lif2']
    assert rec.maps['lif2'].shape == (2, 8, 5, 6)  # [T, C, H, W], image 0
    assert rec.maps['lif2'].eq(1).all()
    only = FiringRateRecorder(model, scope='lif1')
    assert list(only.neurons) == ['lif1']


def test_recorder_errors():
    with pytest.raises(ValueError, match='no SpikingNeuron'):
        FiringRateRecorder(nn.Conv2d(1, 1, 1))
    with pytest.raises(ValueError, match='no SpikingNeuron inside'):
        FiringRateRecorder(ToySNN(), scope='fc')


def test_find_time_steps():
    m = MetaSpikeFormer(
        arch=dict(embed_dims=[8, 8, 16, 16], depths=[1, 1, 1, 1], num_heads=2),
        T=3)
    assert find_time_steps(nn.Sequential(m)) == 3
    assert find_time_steps(nn.Conv2d(1, 1, 1)) is None
