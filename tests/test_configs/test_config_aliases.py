"""The deprecated config names (before T was always written after the
backbone token) still load, to exactly the config they were renamed to."""
import os.path as osp
import re

import pytest
from mmengine.config import Config

from spikedet.testing import find_configs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ALIASES = find_configs(ROOT, 'configs/*/*.py', aliases='only')
CONFIGS = find_configs(ROOT, 'configs/*/*.py')


def _target(alias: str) -> str:
    with open(alias) as f:
        base = re.search(r"_base_ = \[\s*'\./([^']+)'", f.read()).group(1)
    return osp.join(osp.dirname(alias), base)


def test_aliases_found():
    assert len(ALIASES) >= 20
    assert not set(ALIASES) & set(CONFIGS)


@pytest.mark.parametrize('alias', ALIASES, ids=osp.basename)
def test_alias_loads_its_target(alias):
    target = _target(alias)
    assert target in CONFIGS
    assert Config.fromfile(alias).to_dict() == \
        Config.fromfile(target).to_dict()


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_names_write_t_after_the_backbone(path):
    name = osp.basename(path)
    if osp.basename(osp.dirname(path)) == '_base_':
        return
    # The backbone token is the first one naming a spiking backbone.
    tokens = name[:-3].split('_')
    backbone = next(t for t in tokens
                    if 'spik' in t and 'fpn' not in t and 'head' not in t)
    assert re.search(r'-t\d+$', backbone), (name, backbone)
