"""tools/analysis/benchmark_seg.py: runs, reports every field, measures
each requested T; timings themselves are not checked."""
import importlib.util
import json
import os.path as osp
import sys

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL_DIR = osp.join(ROOT, 'tools', 'analysis')
QUICKSTART = osp.join(ROOT, 'configs', 'quickstart',
                      'fpn_metaspikeformer-tiny_fashion-scenes.py')
UPERNET = osp.join(
    ROOT, 'configs', 'upernet',
    'upernet_metaspikeformer-15m_t1_4xb2-160k_ade20k-512x512.py')
FAST = ['--shape', '64', '--num-iters', '1', '--num-warmup', '0',
        '--batch-size', '1', '--device', 'cpu']


@pytest.fixture(scope='module')
def tool():
    # Importable by name, so that spawned workers can unpickle its functions.
    sys.path.insert(0, TOOL_DIR)
    try:
        spec = importlib.util.spec_from_file_location(
            'benchmark_seg', osp.join(TOOL_DIR, 'benchmark_seg.py'))
        module = importlib.util.module_from_spec(spec)
        sys.modules['benchmark_seg'] = module
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop('benchmark_seg', None)
        sys.path.remove(TOOL_DIR)


def check_report(tool, report, steps):
    assert [r['T'] for r in report['results']] == steps
    for r in report['results']:
        assert set(r) == set(tool.RESULT_KEYS)
        assert r['shape'] == [64, 64] and r['batch_size'] == 1
        assert r['images_per_s'] > 0 and r['peak_mem_mib'] > 0
        assert r['latency_ms'] == pytest.approx(1000 / r['images_per_s'])
    base = report['results'][0]
    assert [q['T'] for q in report['ratios']] == steps[1:]
    for q, r in zip(report['ratios'], report['results'][1:]):
        assert q['base_T'] == base['T']
        assert q['latency_ratio'] == pytest.approx(r['latency_ms'] /
                                                   base['latency_ms'])
        assert q['peak_mem_ratio'] == pytest.approx(r['peak_mem_mib'] /
                                                    base['peak_mem_mib'])


def test_in_process_two_time_steps(tool, tmp_path, capsys):
    out = tmp_path / 'bench.json'
    report = tool.main(
        [QUICKSTART, '--T', '1', '2', '--no-isolate', '--out',
         str(out)] + FAST)
    check_report(tool, report, [1, 2])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    text = capsys.readouterr().out
    assert 'images/s' in text and 'T=2 vs T=1' in text


def test_isolated_worker(tool):
    report = tool.main([QUICKSTART, '--T', '2', '--isolate'] + FAST)
    check_report(tool, report, [2])
    assert report['results'][0]['mem_kind'].startswith('cpu peak RSS')


def test_time_steps_reach_backbone_and_necks(tool):
    for path in (QUICKSTART, UPERNET):
        cfg = Config.fromfile(path)
        changed = tool.set_time_steps(cfg.model, 3)
        assert changed == ['model.backbone.T', 'model.neck.T']
        assert cfg.model.backbone.T == cfg.model.neck.T == 3
    # A neck list (e.g. TemporalAggregation then an ANN FPN).
    cfg = Config(
        dict(model=dict(backbone=dict(T=1), neck=[dict(T=1), dict()])))
    assert tool.set_time_steps(cfg.model, 2) == [
        'model.backbone.T', 'model.neck[0].T'
    ]
    assert cfg.model.neck[0].T == 2


def test_bad_inputs(tool, tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        tool.main([str(tmp_path / 'missing.py')] + FAST)
    det = tmp_path / 'det.py'
    det.write_text("default_scope = 'mmdet'\nmodel = dict()\n")
    with pytest.raises(ValueError, match='mmseg'):
        tool.main([str(det)] + FAST)
    cfg = Config(dict(model=dict(backbone=dict(type='ResNet'))))
    with pytest.raises(ValueError, match='only T=1'):
        tool.set_time_steps(cfg.model, 4)
    with pytest.raises(SystemExit):
        tool.parse_args([QUICKSTART, '--shape', '1', '2', '3'])
