import pytest
import torch

from spikedet.analysis import (EnergyAnalyzer, default_map_layers,
                               plot_firing_rates, plot_spike_maps)
from .toy_models import ToySNN

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def test_plots_written(tmp_path):
    model = ToySNN(T=2).eval()
    analyzer = EnergyAnalyzer(model, keep_maps=['lif*'])
    img = torch.rand(1, 3, 6, 6)
    with analyzer, torch.no_grad():
        analyzer.begin_batch(1)
        model(img)
    report = analyzer.report()
    bars = plot_firing_rates(report['neurons'], str(tmp_path / 'fr.png'))
    maps = plot_spike_maps(
        analyzer.recorder.maps, str(tmp_path / 'maps.png'), image=img[0])
    chans = plot_spike_maps(
        analyzer.recorder.maps, str(tmp_path / 'ch.png'), channels=[0, 3])
    for path in (bars, maps, chans):
        with open(path, 'rb') as f:
            assert f.read(8) == PNG_MAGIC


def test_plot_errors(tmp_path):
    with pytest.raises(ValueError, match='nothing to plot'):
        plot_firing_rates([], str(tmp_path / 'a.png'))
    with pytest.raises(ValueError, match='expected'):
        plot_spike_maps({'head.lif': torch.zeros(2, 4)},
                        str(tmp_path / 'b.png'))
    with pytest.raises(IndexError, match='channels'):
        plot_spike_maps({'x': torch.zeros(2, 4, 3, 3)},
                        str(tmp_path / 'c.png'),
                        channels=[4])


def test_default_map_layers():
    names = [
        'stem.1.lif1', 'stem.1.lif2', 'stages.0.0.lif1', 'stages.1.0.lif1',
        'stages.1.0.lif2'
    ]
    picked = default_map_layers(
        names, lambda n: n.split('.')[0] + '.' + n.split('.')[1])
    assert picked == ['stem.1.lif1', 'stages.0.0.lif1', 'stages.1.0.lif1']
    assert len(default_map_layers(names, lambda n: n, max_layers=2)) == 2
