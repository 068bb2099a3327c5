"""spikedet modules build from configs of mmdet, mmseg and mmpretrain, both
as ``type='spikedet.X'`` (no import needed) and as plain ``type='X'`` after
``custom_imports``.

Each case runs in a fresh interpreter, so that "spikedet was not imported
before" is real and the import side effects are the ones a user gets.
(One interpreter per case, not per case and scope: importing spikedet costs
seconds, and after the first scope imported it the others take the same
registry path.)
"""
import os.path as osp
import subprocess
import sys
import textwrap

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


def test_plain_type_after_custom_imports(tmp_path):
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
            build(cfg)
        """)
    _assert_built_in_every_scope(_run(script))


def test_import_registers_modules():
    script = textwrap.dedent("""
        import spikedet
        from mmengine.registry import MODELS as ROOT
        from spikedet.registry import MODELS
        for name in ('MetaSpikeFormer', 'Spikformer', 'SpikingClsHead'):
            assert MODELS.get(name) is not None, name
            assert ROOT.get(name) is MODELS.get(name), name
        print('registered')
        """)
    assert 'registered' in _run(script)


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
