"""The state-dict keys and shapes of every backbone arch and of the heads
are those of release 0.1.0, so converted official checkpoints, the
converters and trained checkpoints keep loading (the key lists were written
by this file's ``--write`` from that release's code). The layer units of
the spiking FPN neck and head moved from a nested mmcv ``ConvModule``
(``conv.conv.*``, ``conv.bn.*``) to the flat layout of the backbones'
units (``conv.*``, ``bn.*``); a checkpoint of the old layout still loads,
strictly.

Regenerate (only for an intended change; converters and checkpoints depend
on these keys): ``python tests/test_models/test_state_dict_keys.py --write``.
"""
import hashlib
import json
import os.path as osp
import sys
from typing import Dict, Tuple

import pytest
import torch

DATA = osp.join(osp.dirname(osp.abspath(__file__)), 'state_dict_keys.json')

#: name -> (class, kwargs) of every architecture whose keys are pinned.
MODELS = {
    **{
        f'MetaSpikeFormer-{arch}-last_stride{s}': ('MetaSpikeFormer',
                                                   dict(
                                                       arch=arch,
                                                       last_stride=s))
        for arch in ('15m', '31m', '55m')
        for s in (1, 2)
    },
    'MetaSpikeFormer-15m-events':
    ('MetaSpikeFormer', dict(arch='15m', in_channels=2)),
    **{
        f'Spikformer-{arch}': ('Spikformer', dict(arch=arch))
        for arch in ('8-384', '8-512', '10-512', '8-768', '4-384')
    },
    'Spikformer-8-384-pyramid': ('Spikformer',
                                 dict(arch='8-384', simple_pyramid=True)),
    'SpikingClsHead-distill':
    ('SpikingClsHead',
     dict(num_classes=1000, in_channels=640, with_distill=True)),
    'SpikingClsHead-no-spike':
    ('SpikingClsHead',
     dict(num_classes=10, in_channels=384, spike_before_fc=False)),
}
#: The spiking FPN neck and head, whose layer units changed layout (see the
#: module docstring).
FPN = {
    'SpikingFPN':
    ('SpikingFPN',
     dict(in_channels=[64, 128, 256, 360], out_channels=32, num_outs=5, T=1)),
    'SpikingFPN-extra-convs': ('SpikingFPN',
                               dict(
                                   in_channels=[64, 128, 256, 360],
                                   out_channels=32,
                                   num_outs=5,
                                   T=1,
                                   add_extra_convs='on_input',
                                   norm_cfg=None)),
    'SpikingFPNHead': ('SpikingFPNHead',
                       dict(
                           in_channels=[64, 64, 64, 64],
                           in_index=[0, 1, 2, 3],
                           feature_strides=[4, 8, 16, 32],
                           channels=32,
                           num_classes=5)),
}


def build(name: str, specs: dict) -> torch.nn.Module:
    import spikedet.models  # noqa: F401  (registers the classes)
    from spikedet.registry import MODELS as REGISTRY
    cls_name, kwargs = specs[name]
    with torch.device('meta'):
        return REGISTRY.get(cls_name)(**kwargs)


def key_shapes(model: torch.nn.Module) -> Dict[str, Tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def digest(shapes: Dict[str, Tuple[int, ...]]) -> str:
    text = '\n'.join(f'{k} {list(v)}' for k, v in sorted(shapes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def load_pinned() -> dict:
    with open(DATA) as f:
        return json.load(f)


@pytest.mark.parametrize('name', sorted(MODELS))
def test_keys_and_shapes_unchanged(name):
    pinned = load_pinned()['digests'][name]
    shapes = key_shapes(build(name, MODELS))
    assert (len(shapes), digest(shapes)) == (
        pinned['num_keys'], pinned['sha256']
    ), (f'{name}: the state-dict keys or shapes changed ({len(shapes)} keys '
        f"now, {pinned['num_keys']} pinned). Converted checkpoints and the "
        'converters depend on them: keep the module names.')


@pytest.mark.parametrize('name', sorted(FPN))
def test_fpn_loads_the_old_nested_layout(name):
    """Every key of the old layout maps onto one of the new layout, and a
    state dict in the old layout loads strictly, value for value."""
    old = load_pinned()['fpn_keys'][name]
    model = build(name, FPN).to_empty(device='cpu')
    new = key_shapes(model)
    assert len(old) == len(new)
    gen = torch.Generator().manual_seed(0)
    state = {}
    for k, shape in old:
        flat = k.replace('.conv.conv.', '.conv.').replace('.conv.bn.', '.bn.')
        assert flat in new and new[flat] == tuple(shape), k
        state[k] = torch.randint(
            1, 100, shape, generator=gen).to(model.state_dict()[flat].dtype)
    model.load_state_dict(dict(state), strict=True)
    loaded = model.state_dict()
    for k, v in state.items():
        flat = k.replace('.conv.conv.', '.conv.').replace('.conv.bn.', '.bn.')
        assert torch.equal(loaded[flat], v), k


def write() -> None:
    """Pin the keys of the current code (run from the repository root)."""
    pinned = dict(
        digests={
            name: dict(num_keys=len(s), sha256=digest(s))
            for name, s in ((n, key_shapes(build(n, MODELS)))
                            for n in sorted(MODELS))
        },
        fpn_keys={
            name: [[k, list(v)]
                   for k, v in key_shapes(build(name, FPN)).items()]
            for name in sorted(FPN)
        })
    with open(DATA, 'w') as f:
        json.dump(pinned, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    if sys.argv[1:] != ['--write']:
        sys.exit(__doc__)
    write()
