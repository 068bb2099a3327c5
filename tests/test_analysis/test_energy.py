import json

import pytest
import torch

from spikedet.analysis import E_AC_PJ, E_MAC_PJ, EnergyAnalyzer, format_report
from spikedet.models import MetaSpikeFormer, Spikformer
from .toy_models import ToySNN, toy_counts


def _analyse(model, batches, **kwargs):
    analyzer = EnergyAnalyzer(model, **kwargs)
    with analyzer, torch.no_grad():
        for x in batches:
            analyzer.begin_batch(x.shape[0])
            model(x)
    return analyzer


@pytest.mark.parametrize('fire', [True, False])
def test_totals_equal_hand_computed(fire):
    T, H, W = 2, 4, 3
    model = ToySNN(T, fire).eval()
    # Two forwards of different batch sizes: results are per image.
    analyzer = _analyse(model,
                        [torch.rand(2, 3, H, W),
                         torch.rand(1, 3, H, W)])
    assert analyzer.num_steps == T  # from the model's T attribute
    report = analyzer.report(e_mac=4.6, e_ac=0.9)
    want = toy_counts(1, T, H, W, 1. if fire else 0.)
    tot = report['totals']
    assert report['meta']['num_images'] == 3
    assert tot['sops'] == pytest.approx(want['sops'])
    assert tot['flops'] == pytest.approx(want['flops'])
    assert tot['macs'] == pytest.approx(want['macs'])
    energy_pj = 4.6 * want['flops'] + 0.9 * want['sops']
    assert tot['energy_mj'] == pytest.approx(energy_pj * 1e-9)
    assert tot['energy_mac_mj'] + tot['energy_ac_mj'] == \
        pytest.approx(tot['energy_mj'])
    assert tot['firing_rate'] == (1. if fire else 0.)
    assert tot['firing_rate_per_step'] == [1. if fire else 0.] * T
    # Constants are options: doubling E_AC doubles the AC part only.
    report2 = analyzer.report(e_mac=4.6, e_ac=1.8)
    assert report2['totals']['energy_ac_mj'] == \
        pytest.approx(2 * tot['energy_ac_mj'])
    assert report2['totals']['energy_mac_mj'] == \
        pytest.approx(tot['energy_mac_mj'])


def test_stages_sum_to_totals_and_json():
    torch.manual_seed(0)
    model = Spikformer(
        arch=dict(embed_dims=32, depth=1, num_heads=2), T=2).train()
    report = _analyse(model, [torch.rand(2, 3, 32, 32)]).report()
    for key in ('macs', 'flops', 'sops', 'energy_mj'):
        assert sum(s[key] for s in report['stages']) == \
            pytest.approx(report['totals'][key])
        assert sum(ly[key] for ly in report['layers']) == \
            pytest.approx(report['totals'][key])
    assert [s['stage'] for s in report['stages']] == \
        ['patch_embed', 'blocks.0']
    assert sum(s['num_neurons'] for s in report['stages']) == \
        len(report['neurons'])
    # Spikformer adds spike maps: integer inputs are flagged.
    assert any('integer-valued' in f for f in report['flags'])
    assert any('integer' in ly['input_kind'] for ly in report['layers'])
    json.loads(json.dumps(report))
    text = format_report(report, neurons=True)
    for part in ('Per layer', 'Per stage', 'Totals', 'Not counted', 'Flags',
                 'blocks.0.attn.matmul1', 'MaxPool2d'):
        assert part in text


def test_meta_spikeformer_matmuls_and_chains():
    torch.manual_seed(0)
    model = MetaSpikeFormer(
        arch=dict(
            embed_dims=[8, 16, 16, 16], depths=[1, 1, 1, 1], num_heads=2),
        T=1).train()
    for m in model.modules():  # BN output ~ N(0, 9): about 1/4 fire
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.constant_(m.weight, 3.)
    x = torch.rand(1, 3, 32, 32)
    report = _analyse(model, [x]).report()
    layers = {ly['name']: ly for ly in report['layers']}
    for i in (2, 3):
        for k in (0, 1):  # k^T v and q (k^T v) of every SDSA
            assert layers[f'stages.{i}.0.attn.matmul{k}']['op'] == 'matmul'
        q_pw = layers[f'stages.{i}.0.attn.q.pwconv']
        assert q_pw['input_kind'] == 'spike-chain'
        assert q_pw['input_rate'] == pytest.approx(
            layers[f'stages.{i}.0.attn.q.conv1']['input_rate'])
        assert 0 < q_pw['input_rate'] < 1
    # Only the encoding conv sees real values: everything else is SOPs.
    real = [ly['name'] for ly in report['layers'] if ly['flops']]
    assert real == ['stem.0.conv']
    assert not [u for u in report['uncounted'] if u['warn']]
    plain = _analyse(model, [x], chain=False).report()
    assert plain['totals']['flops'] > report['totals']['flops']
    assert plain['totals']['macs'] == report['totals']['macs']


def test_defaults_and_errors():
    assert (E_MAC_PJ, E_AC_PJ) == (4.6, 0.9)
    model = ToySNN()
    with pytest.raises(RuntimeError, match='begin_batch'):
        EnergyAnalyzer(model).report()
    with pytest.raises(KeyError, match='not a submodule'):
        EnergyAnalyzer(model, scope='backbone')
    with pytest.raises(ValueError):
        EnergyAnalyzer(model).begin_batch(0)
