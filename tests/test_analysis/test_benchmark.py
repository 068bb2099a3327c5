"""tools/analysis/benchmark.py: every variant of every task type is measured
and reported with sane fields; timings themselves are not checked."""
import importlib.util
import json
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from spikedet.testing import default_scope_name

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis', 'benchmark.py')
QUICKSTART = osp.join(ROOT, 'configs', 'quickstart')
CLS = osp.join(QUICKSTART, 'metaspikeformer-tiny-t1_fashion-mnist.py')
SEG = osp.join(QUICKSTART, 'fpn_metaspikeformer-tiny-t1_fashion-scenes.py')
DET = osp.join(QUICKSTART,
               'mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py')
VARIANTS = ('torch', 'fused', 'compile', 'deploy')
FAST = [
    '--steps', '1', '--warmup', '0', '--batch-size', '2', '--device', 'cpu',
    '--threads', '1'
]


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('benchmark_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_report(tool, report, variants, steps, batch_size=2):
    results = report['results']
    assert [(r['variant'], r['T']) for r in results] == [(v, T) for T in steps
                                                         for v in variants]
    for r in results:
        assert set(r) == set(tool.RESULT_KEYS)
        assert r['error'] is None, r['error']
        assert r['backend'] == ('torch'
                                if r['variant'] == 'torch' else 'fused')
        assert r['params_m'] > 0
        assert r['infer_latency_ms'] > 0 and r['infer_peak_mib'] > 0
        assert r['infer_cpu_ms'] > 0
        assert r['infer_images_per_s'] == pytest.approx(1000 * batch_size /
                                                        r['infer_latency_ms'])
        assert r['infer_mem_increase_mib'] >= 0
        if r['variant'] == 'deploy':
            assert r['train_step_s'] is None and r['train_peak_mib'] is None
        else:
            assert r['train_step_s'] > 0 and r['train_peak_mib'] > 0
            assert r['train_cpu_s'] > 0
            assert len(r['train_step_s_all']) == report['repeats']
    rel = {(q['variant'], q['T']): q for q in report['ratios']}
    for r in results:
        base = next(b for b in results
                    if b['variant'] == 'torch' and b['T'] == r['T'])
        q = rel[(r['variant'], r['T'])]
        assert set(q) == set(tool.RATIO_KEYS)
        assert q['infer_speedup'] == pytest.approx(base['infer_latency_ms'] /
                                                   r['infer_latency_ms'])
        assert q['infer_cpu_speedup'] == pytest.approx(base['infer_cpu_ms'] /
                                                       r['infer_cpu_ms'])
        if r['variant'] != 'deploy':
            assert q['train_peak_ratio'] == pytest.approx(
                r['train_peak_mib'] / base['train_peak_mib'])
        else:
            assert q['train_speedup'] is None


@pytest.mark.parametrize(
    'config,shape,variants,steps',
    [
        # Every variant on the classifier. torch.compile's tracing alone takes
        # minutes for the detector and segmentor on 2 CPU cores, so the compile
        # variant runs on the classifier only (it is task-agnostic code).
        (CLS, '32', VARIANTS, ['1']),
        (SEG, '64', ('torch', 'fused', 'deploy'), ['1', '2']),
        (DET, '64', ('torch', 'fused', 'deploy'), ['1', '2']),
    ])
def test_variants_each_task(tool, tmp_path, capsys, config, shape, variants,
                            steps):
    scope = default_scope_name()
    out = tmp_path / 'bench.json'
    report = tool.main([
        config, '--T', *steps, '--no-isolate', '--shape', shape, '--variants',
        *variants, '--compile-cfg', 'backend=eager', '--out',
        str(out)
    ] + FAST)
    check_report(tool, report, list(variants), [int(T) for T in steps])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    text = capsys.readouterr().out
    for variant in variants:
        for T in steps:
            assert f'\n{variant:<8} {T:>2} ' in text
    assert 'relative to torch' in text and 'failed' not in text
    assert default_scope_name() == scope


def test_isolated_processes_and_repeats(tool):
    # One fresh process per variant and phase; inference only, to be quick.
    report = tool.main([
        CLS, '--T', '1', '--isolate', '--shape', '32', '--repeats', '2',
        '--variants', 'torch', 'deploy', '--phases', 'infer'
    ] + FAST)
    torch_row, deploy_row = report['results']
    for r in report['results']:
        assert r['error'] is None, r['error']
        assert r['mem_kind'].startswith('cpu peak RSS')
        assert r['train_step_s'] is None and r['infer_peak_mib'] > 0
        assert len(r['infer_latency_ms_all']) == 2
        assert r['infer_latency_ms'] == pytest.approx(
            sorted(r['infer_latency_ms_all'])[0] / 2 +
            sorted(r['infer_latency_ms_all'])[1] / 2)
    assert report['ratios'][1]['infer_speedup'] == pytest.approx(
        torch_row['infer_latency_ms'] / deploy_row['infer_latency_ms'])


def test_failures_become_rows(tool, tmp_path, capsys):
    # A model without time steps: T=2 cannot be measured; the run goes on.
    cfg = tmp_path / 'resnet.py'
    cfg.write_text("_base_ = ['mmpretrain::resnet/resnet18_8xb32_in1k.py']\n"
                   "model = dict(backbone=dict(depth=18))\n")
    report = tool.main([
        str(cfg), '--T', '2', '--no-isolate', '--shape', '32', '--variants',
        'torch'
    ] + FAST)
    assert 'only T=1' in report['results'][0]['error']
    assert 'failed: torch T=2' in capsys.readouterr().out


def test_config_edits(tool):
    cfg = Config.fromfile(SEG)
    changed = tool.set_time_steps(cfg.model, 3)
    assert 'model.backbone.T' in changed and 'model.neck.T' in changed
    assert cfg.model.backbone.T == cfg.model.neck.T == 3
    nested = Config(
        dict(model=dict(backbone=dict(T=1), neck=[dict(T=1), dict()])))
    assert tool.set_time_steps(nested.model,
                               2) == ['model.backbone.T', 'model.neck[0].T']
    from spikedet.utils.setup_env import load_config
    cfg, scope = load_config(SEG)
    with DefaultScope.overwrite_default_scope(scope):
        # backbone, neck and decode head take a neuron_cfg.
        assert tool.set_neuron_backend(cfg.model, 'torch') == 3
    assert cfg.model.backbone.neuron_cfg.backend == 'torch'
    assert cfg.model.decode_head.neuron_cfg.backend == 'torch'


def test_bad_arguments(tool, tmp_path):
    assert tool.VARIANTS == VARIANTS
    with pytest.raises(FileNotFoundError, match='not found'):
        tool.main([str(tmp_path / 'missing.py')] + FAST)
    with pytest.raises(SystemExit):
        tool.parse_args([CLS, '--shape', '1', '2', '3'])
    with pytest.raises(SystemExit):
        tool.parse_args([CLS, '--variants', 'cupy'])
