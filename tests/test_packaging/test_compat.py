"""The version check at ``import spikedet`` (spikedet.compat)."""
import os.path as osp

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from spikedet import compat

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _fake(versions):
    return versions.get


def test_fitting_versions_pass():
    reqs = ['mmcv>=2.0.0,<2.2.0', 'torch>=2.1.0', 'numpy']
    assert compat.find_problems(
        reqs,
        _fake({
            'mmcv': '2.1.0',
            'torch': '2.14.1+cu130',
            'numpy': '2.4.6'
        })) == []


def test_prerelease_inside_range_passes():
    assert compat.find_problems(['mmcv>=2.0.0rc4,<2.2.0'],
                                _fake({'mmcv': '2.0.0rc4'})) == []


def test_too_new_mmcv_says_what_to_install():
    problems = compat.find_problems(['mmcv>=2.0.0,<2.2.0'],
                                    _fake({'mmcv': '2.2.0'}))
    assert len(problems) == 1
    msg = problems[0]
    assert 'mmcv 2.2.0 is installed' in msg
    assert "pip install 'mmcv<2.2.0,>=2.0.0'" in msg
    assert 'ops' in msg  # how to get mmcv with its compiled ops


def test_missing_and_wrong_spikingjelly():
    problems = compat.find_problems(
        ['spikingjelly==0.0.0.0.14', 'mmdet>=3.0.0,<3.4.0'],
        _fake({'spikingjelly': '2.0.0'}))
    assert len(problems) == 2
    assert 'spikingjelly 2.0.0 is installed' in problems[0]
    assert 'mmdet is not installed' in problems[1]


def test_extras_are_not_checked():
    assert compat.find_problems(['timm>=0.9.0; extra == "distill"'],
                                _fake({})) == []


def test_check_dependencies_raises_and_can_be_skipped(monkeypatch):
    monkeypatch.setattr(compat, 'spikedet_requirements',
                        lambda: ['mmcv>=2.0.0,<2.2.0'])
    monkeypatch.setattr(compat, '_installed_version', lambda name: '2.2.0')
    monkeypatch.delenv(compat.SKIP_ENV, raising=False)
    with pytest.raises(
            compat.IncompatibleDependencyError,
            match='mmcv 2.2.0 is installed'):
        compat.check_dependencies()
    monkeypatch.setenv(compat.SKIP_ENV, '1')
    compat.check_dependencies()


def test_installed_stack_fits_spikedet_ranges():
    """The exact pins of make setup (requirements/stack.txt) lie inside the
    ranges pip install asks for (requirements/runtime.txt)."""

    def read(name):
        with open(osp.join(ROOT, 'requirements', name)) as f:
            lines = [ln.split('#', 1)[0].strip() for ln in f]
        return [Requirement(ln) for ln in lines if ln]

    pins = {r.name: r for r in read('stack.txt')}
    for req in read('runtime.txt'):
        assert req.name in pins, f'{req.name} is not pinned in stack.txt'
        pinned = [
            s.version for s in pins[req.name].specifier if s.operator == '=='
        ]
        for version in pinned:
            assert req.specifier.contains(Version(version),
                                          True), (req, version)
