"""spikedet's classes live only in spikedet's own registries (children of
mmengine's roots, scope ``spikedet``): ``type='spikedet.X'`` builds from
configs of mmdet, mmseg and mmpretrain (no import needed), nothing of ours
is in mmengine's root registries, and a plain ``type='X'`` resolves only in
the ``spikedet`` scope.

Each case runs in a fresh interpreter, so that "spikedet was not imported
before" is real and the import side effects are the ones a user gets.
(One interpreter per case, not per case and scope: importing spikedet costs
seconds, and after the first scope imported it the others take the same
registry path.)
"""
import importlib
import os.path as osp
import subprocess
import sys
import textwrap
from typing import List, Tuple

import mmengine.registry as mmengine_registry
import pytest
from mmengine.registry import Registry

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SCOPES = ['mmdet', 'mmseg', 'mmpretrain']
TINY = dict(embed_dims=[8, 16, 32, 40], depths=[1, 1, 1, 1], num_heads=2)

# Shared head of the scripts: build ``cfg.model`` with the MODELS registry
# of ``cfg.default_scope``'s library.
_BUILD = f"""
import importlib, sys
from mmengine.config import Config
from mmengine.registry import init_default_scope

SCOPES = {SCOPES}
TINY = {TINY}

def build(cfg):
    init_default_scope(cfg.default_scope)
    registry = importlib.import_module(cfg.default_scope + '.registry')
    model = registry.MODELS.build(cfg.model)
    print('built', cfg.default_scope, type(model).__module__,
          type(model).__name__, list(model.out_channels))
"""


def _run(script: str) -> str:
    proc = subprocess.run([sys.executable, '-c', script],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def _assert_built_in_every_scope(stdout: str) -> None:
    for scope in SCOPES:
        assert (f'built {scope} spikedet.models.backbones.meta_spikeformer '
                f"MetaSpikeFormer {TINY['embed_dims']}") in stdout, stdout


def test_scoped_type_without_import():
    """``type='spikedet.MetaSpikeFormer'`` imports spikedet by itself; the
    plain name is unknown in every scope until then."""
    script = _BUILD + textwrap.dedent("""
        for scope in SCOPES:
            plain = Config(dict(default_scope=scope,
                                model=dict(type='MetaSpikeFormer', arch=TINY)))
            try:
                build(plain)
            except KeyError as e:
                assert 'MetaSpikeFormer' in str(e), e
            else:
                sys.exit(f'{scope}: plain name built before importing '
                         'spikedet')
        assert 'spikedet' not in sys.modules
        for scope in SCOPES:
            build(Config(dict(default_scope=scope,
                              model=dict(type='spikedet.MetaSpikeFormer',
                                         arch=TINY))))
            assert 'spikedet' in sys.modules
        """)
    _assert_built_in_every_scope(_run(script))


def test_plain_type_only_in_spikedet_scope(tmp_path):
    """After ``custom_imports`` the plain name is still unknown to mmdet,
    mmseg and mmpretrain (nothing of ours is in the root registry), the
    scoped one builds; the plain name builds in spikedet's own scope."""
    files = {}
    for scope in SCOPES:
        files[scope] = str(tmp_path / f'{scope}_cfg.py')
        with open(files[scope], 'w') as f:
            f.write(
                textwrap.dedent(f"""
                    default_scope = {scope!r}
                    custom_imports = dict(
                        imports=['spikedet'], allow_failed_imports=False)
                    model = dict(type='MetaSpikeFormer', arch={TINY})
                    """))
    script = _BUILD + textwrap.dedent(f"""
        files = {files!r}
        assert 'spikedet' not in sys.modules
        for scope in SCOPES:
            cfg = Config.fromfile(files[scope])
            assert 'spikedet' in sys.modules  # imported by custom_imports
            try:
                build(cfg)
            except KeyError as e:
                assert 'MetaSpikeFormer' in str(e), e
            else:
                sys.exit(f'{{scope}}: plain name built from the root')
            cfg.model.type = 'spikedet.MetaSpikeFormer'
            build(cfg)
        from spikedet.registry import MODELS
        init_default_scope('spikedet')
        model = MODELS.build(dict(type='MetaSpikeFormer', arch=TINY))
        print('built spikedet', type(model).__name__)
        """)
    out = _run(script)
    _assert_built_in_every_scope(out)
    assert 'built spikedet MetaSpikeFormer' in out


def _our_registries() -> List[Tuple[str, Registry]]:
    """(name, registry) of every registry spikedet defines, with spikedet's
    modules imported so that they are filled."""
    import spikedet.datasets  # noqa: F401
    import spikedet.engine  # noqa: F401
    import spikedet.models  # noqa: F401
    import spikedet.registry as ours
    return [(name, reg) for name, reg in vars(ours).items()
            if isinstance(reg, Registry) and not name.startswith('MMENGINE')]


def test_registries_are_children_of_mmengine_roots():
    names = {name for name, _ in _our_registries()}
    assert {
        'MODELS', 'HOOKS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'DATASETS',
        'TRANSFORMS'
    } <= names
    for name, reg in _our_registries():
        assert reg.scope == 'spikedet', name
        assert reg.parent is getattr(mmengine_registry, name), name


def test_nothing_of_ours_outside_our_registries():
    """No registry of the tree (mmengine's root and the libraries' children)
    other than spikedet's holds one of spikedet's classes, so a plain name
    never resolves to ours from another scope, and another package that
    registers the same name does not clash with ours."""
    for name, reg in _our_registries():
        ours = set(map(id, reg.module_dict.values()))
        assert ours, f'{name}: nothing registered'
        root = reg.parent
        others = [root] + [
            child
            for scope, child in root._children.items() if scope != 'spikedet'
        ]
        for other in others:
            leaked = [
                key for key, cls in other.module_dict.items()
                if id(cls) in ours
            ]
            assert not leaked, (name, other.scope, leaked)


@pytest.mark.parametrize('scope', SCOPES)
def test_scoped_names_resolve_from_every_library(scope):
    """``spikedet.X`` resolves to our class from mmdet's, mmseg's and
    mmpretrain's registry of the same kind, for every registered X; the
    plain ``X`` does not."""
    for name, reg in _our_registries():
        lib = getattr(importlib.import_module(f'{scope}.registry'), name)
        for key, cls in reg.module_dict.items():
            assert lib.get(f'spikedet.{key}') is cls, (name, key)
            try:
                plain = lib.get(key)
            except (KeyError, RuntimeError):
                plain = None
            assert plain is not cls, (name, key)


def test_heads_build_their_losses_in_their_own_library():
    """Whatever default scope a caller left behind, spikedet's heads build
    their losses from their own library's registry."""
    import mmpretrain.models.losses as pretrain_losses
    import mmseg.models.losses as seg_losses
    from mmengine.registry import DefaultScope

    from spikedet.models.decode_heads import SpikingFPNHead
    from spikedet.models.heads import SpikingClsHead
    for scope in ('mmdet', 'mmseg', 'mmpretrain', 'mmengine'):
        with DefaultScope.overwrite_default_scope(scope):
            head = SpikingClsHead(num_classes=3, in_channels=8)
            assert type(head.loss_module) is pretrain_losses.CrossEntropyLoss
            seg = SpikingFPNHead(
                in_channels=[8, 8],
                in_index=[0, 1],
                feature_strides=[4, 8],
                channels=8,
                num_classes=3)
            assert type(seg.loss_decode) is seg_losses.CrossEntropyLoss
