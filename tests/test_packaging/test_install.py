"""spikedet as an installed package: a non-editable wheel installs into an
environment that already has the stack, imports, and ships its configs for
``_base_ = ['spikedet::...']``; the editable install of the checkout serves
the same configs from any directory."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The headline config, as the README's example inherits it: a top-level
#: file, which mmengine's own ``pkg::folder/file`` lookup could not reach.
SHIPPED_CONFIG = 'mask_rcnn_spikeformer_coco.py'
#: A config in a folder with a hyphen (the same).
HYPHEN_FOLDER = 'mask-rcnn'

#: What a wheel needs from the checkout.
SOURCES = ('setup.py', 'setup.cfg', 'MANIFEST.in', 'README.md',
           'model-index.yml', 'requirements', 'spikedet', 'configs', 'tools')


def _copy_sources(dst: str) -> None:
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '.mim',
                                    '*.egg-info')
    for name in SOURCES:
        src = osp.join(ROOT, name)
        if osp.isdir(src):
            shutil.copytree(src, osp.join(dst, name), ignore=ignore)
        elif osp.isfile(src):
            shutil.copy(src, osp.join(dst, name))


def _user_config(tmp_path, base: str) -> str:
    cfg = tmp_path / 'my_config.py'
    cfg.write_text(
        textwrap.dedent(f"""\
            _base_ = ['spikedet::{base}']
            train_cfg = dict(max_iters=7)
            """))
    return str(cfg)


def _clean_env() -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP')
    }
    env['PYTHONNOUSERSITE'] = '1'
    return env


def _site_packages(prefix: str) -> str:
    ver = f'python{sys.version_info.major}.{sys.version_info.minor}'
    return osp.join(prefix, 'lib', ver, 'site-packages')


@pytest.fixture(scope='module')
def wheel_env(tmp_path_factory):
    """A throwaway venv holding only the spikedet wheel (installed with
    ``--no-deps``) and reusing the stack of the running interpreter through
    a ``.pth`` line (the stack's own ``.pth`` files, among them the editable
    install of this checkout, are not processed that way)."""
    work = tmp_path_factory.mktemp('wheel')
    src = work / 'src'
    src.mkdir()
    _copy_sources(str(src))
    # As in a checkout with an editable install: .mim holds symlinks.
    mim = src / 'spikedet' / '.mim'
    mim.mkdir()
    for name in ('configs', 'tools', 'model-index.yml'):
        os.symlink(osp.join('..', '..', name), str(mim / name))
    dist = work / 'dist'
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--no-index', '-q', '-w',
        str(dist),
        str(src)
    ],
                   check=True,
                   env=_clean_env(),
                   cwd=str(work))
    wheels = list(dist.glob('spikedet-*.whl'))
    assert len(wheels) == 1, wheels
    venv = work / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                    str(venv)],
                   check=True)
    site = _site_packages(str(venv))
    stack = [p for p in sys.path if p.endswith('site-packages')]
    with open(osp.join(site, '_spikedet_stack.pth'), 'w') as f:
        f.write('\n'.join(stack) + '\n')
    # --target implies --ignore-installed: pip leaves the running
    # environment's own (editable) spikedet alone. (--prefix would uninstall
    # it first.)
    subprocess.run([
        sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-index',
        '-q', '--target', site,
        str(wheels[0])
    ],
                   check=True,
                   env=_clean_env())
    return dict(
        wheel=str(wheels[0]),
        python=str(venv / 'bin' / 'python'),
        site=site,
        src=str(src))


def test_wheel_ships_configs_and_ranges(wheel_env):
    # The build copied the configs into the wheel and put the checkout's
    # editable links back afterwards.
    for name in ('configs', 'tools', 'model-index.yml'):
        assert osp.islink(
            osp.join(wheel_env['src'], 'spikedet', '.mim', name)), name
    with zipfile.ZipFile(wheel_env['wheel']) as zf:
        names = zf.namelist()
        meta = zf.read([n for n in names
                        if n.endswith('.dist-info/METADATA')][0]).decode()
    assert f'spikedet/.mim/configs/{SHIPPED_CONFIG}' in names
    assert 'spikedet/.mim/model-index.yml' in names
    assert 'spikedet/.mim/configs/quickstart/metafile.yml' in names
    assert not any(n.startswith(('tests/', 'configs/')) for n in names)
    requires = [
        line.split(':', 1)[1].strip() for line in meta.splitlines()
        if line.startswith('Requires-Dist:')
    ]
    # Ranges that keep an existing environment, not the exact stack pins.
    assert any(r.startswith('mmdet') and '<3.4.0' in r for r in requires)
    assert any(r.startswith('mmcv') and '<2.2.0' in r for r in requires)
    torch_req = [r for r in requires if r.startswith('torch>')]
    assert torch_req and '==' not in torch_req[0]
    assert 'Provides-Extra: distill' in meta
    assert 'Provides-Extra: tests' in meta


def test_wheel_imports_and_resolves_spikedet_configs(wheel_env, tmp_path):
    user_cfg = _user_config(tmp_path, SHIPPED_CONFIG)
    code = textwrap.dedent(f"""\
        import os.path as osp, time
        t = time.perf_counter()
        import spikedet
        took = time.perf_counter() - t
        assert spikedet.__file__.startswith({wheel_env['site']!r}), \\
            spikedet.__file__
        mim = osp.join(osp.dirname(spikedet.__file__), '.mim', 'configs')
        assert osp.isdir(mim) and not osp.islink(mim), mim
        from mmengine.config import Config
        cfg = Config.fromfile({user_cfg!r})
        assert cfg.train_cfg.max_iters == 7
        assert cfg.model.backbone.type == 'spikedet.MetaSpikeFormer'
        print('OK', took)
        """)
    out = subprocess.run([wheel_env['python'], '-c', code],
                         cwd=str(tmp_path),
                         env=_clean_env(),
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith('OK')


def test_editable_install_resolves_spikedet_configs(tmp_path):
    """The checkout's editable install (make setup) from another
    directory: ``spikedet/.mim/configs`` links to ``configs/``, and the
    inherited model builds in the config's own library scope (mmengine
    would otherwise give it the scope ``spikedet``)."""
    user_cfg = _user_config(tmp_path, SHIPPED_CONFIG)
    code = textwrap.dedent(f"""\
        import spikedet
        from mmengine.config import Config
        cfg = Config.fromfile({user_cfg!r})
        assert cfg.train_cfg.max_iters == 7
        assert cfg.default_scope == 'mmdet'
        assert cfg.model.get('_scope_') != 'spikedet'
        from mmengine.registry import init_default_scope
        init_default_scope(cfg.default_scope)
        from mmdet.registry import MODELS
        model = MODELS.build(cfg.model)
        assert type(model).__name__ == 'MaskRCNN'
        assert type(model.backbone).__name__ == 'MetaSpikeFormer'
        """)
    out = subprocess.run([sys.executable, '-c', code],
                         cwd=str(tmp_path),
                         env=_clean_env(),
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    mim = osp.join(ROOT, 'spikedet', '.mim', 'configs')
    assert osp.islink(mim) and osp.samefile(mim, osp.join(ROOT, 'configs'))


def test_hyphen_folders_and_missing_configs(tmp_path):
    """``spikedet::mask-rcnn/...`` resolves too (mmengine's own pattern
    would reject the hyphen); an unknown name says where it looked."""
    from mmengine.config import Config
    folder = osp.join(ROOT, 'configs', HYPHEN_FOLDER)
    name = sorted(n for n in os.listdir(folder) if n.endswith('.py'))[0]
    cfg = Config.fromfile(_user_config(tmp_path, f'{HYPHEN_FOLDER}/{name}'))
    assert cfg.train_cfg.max_iters == 7
    assert cfg.default_scope == 'mmdet'
    with pytest.raises(FileNotFoundError, match='is not a spikedet config'):
        Config.fromfile(_user_config(tmp_path, 'no_such/config.py'))
