"""``import spikedet`` imports no model code (and not torch); spikedet's
classes are registered when a config first names them."""
import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_import_spikedet_is_light():
    out = _run("""\
        import sys
        import spikedet
        heavy = [m for m in ('torch', 'spikedet.models', 'spikedet.engine',
                             'mmdet', 'mmseg', 'mmpretrain', 'spikingjelly')
                 if m in sys.modules]
        assert not heavy, heavy
        print(spikedet.__version__)
        """)
    assert out.strip()


def test_scoped_names_register_on_first_lookup():
    """No explicit import of spikedet's models: the scope prefix finds
    spikedet's registry, whose locations import the classes."""
    _run("""\
        from mmdet.registry import MODELS
        from mmengine.registry import init_default_scope
        init_default_scope('mmdet')
        backbone = MODELS.build(dict(
            type='spikedet.MetaSpikeFormer',
            arch=dict(embed_dims=[8, 16, 32, 64], depths=[1, 1, 1, 1])))
        assert type(backbone).__name__ == 'MetaSpikeFormer'
        """)


def test_lazy_attributes():
    _run("""\
        import spikedet
        assert spikedet.MODELS.get('MetaSpikeFormer') is not None
        assert spikedet.models.MetaSpikeFormer.__name__ == 'MetaSpikeFormer'
        try:
            spikedet.no_such_thing
        except AttributeError as e:
            assert 'no_such_thing' in str(e)
        else:
            raise AssertionError('no AttributeError')
        """)
