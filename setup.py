"""spikedet: spiking-neural-network backbones for dense prediction on
OpenMMLab.

``pip install .`` asks for the compatible ranges of
``requirements/runtime.txt`` (it keeps an existing torch/OpenMMLab
environment); ``make setup`` installs the exact, verified versions of
``requirements/stack.txt``. Extras: ``spikedet[tests]``, ``spikedet[distill]``
(timm, for the distillation teacher), ``spikedet[lint]``.

The configs (and tools, model index) ship inside the package as
``spikedet/.mim/``, so that configs anywhere can inherit
``spikedet::<folder>/<config>.py``: a symlink to the checkout for editable
installs, a copy for wheels and sdists (as mmdet/mmyolo do).
"""
import os
import os.path as osp
import platform
import re
import shutil
import sys
import warnings
from setuptools import find_packages, setup
from typing import List

HERE = osp.dirname(osp.abspath(__file__))

#: What ``spikedet/.mim`` holds (paths relative to the checkout).
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_requirements(path: str) -> List[str]:
    """Read a requirements file: one requirement a line, ``#`` comments."""
    reqs = []
    with open(osp.join(HERE, path)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                reqs.append(line)
    return reqs


def read_version() -> str:
    with open(osp.join(HERE, 'spikedet', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def add_mim_extension() -> List[str]:
    """Put ``configs``, ``tools`` and ``model-index.yml`` into
    ``spikedet/.mim``: symlinks for an editable install (``develop`` or
    ``editable_wheel``), copies when building a wheel or an sdist; nothing
    for other commands.

    Returns:
        list[str]: The entries that were symlinks (an editable install of
        this checkout) and are copies now; :func:`relink` puts the links
        back once the wheel or sdist is built, so the checkout's editable
        install keeps seeing its live configs.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'copy' if platform.system() == 'Windows' else 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return []

    mim_path = osp.join(HERE, 'spikedet', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    linked = []
    for name in MIM_FILES:
        src = osp.join(HERE, name)
        dst = osp.join(mim_path, name)
        if not osp.exists(src):
            continue
        if mode == 'copy' and osp.islink(dst):
            linked.append(name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isfile(src):
            shutil.copyfile(src, dst)
        elif osp.isdir(src):
            shutil.copytree(
                src,
                dst,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        else:
            warnings.warn(f'Cannot copy {src} into spikedet/.mim.')
    return linked


def relink(names: List[str]) -> None:
    """Replace the copies made by :func:`add_mim_extension` with symlinks
    again."""
    mim_path = osp.join(HERE, 'spikedet', '.mim')
    for name in names:
        dst = osp.join(mim_path, name)
        if osp.isdir(dst) and not osp.islink(dst):
            shutil.rmtree(dst)
        elif osp.lexists(dst):
            os.remove(dst)
        os.symlink(osp.relpath(osp.join(HERE, name), mim_path), dst)


def _setup() -> None:
    setup(
        name='spikedet',
        version=read_version(),
        description='Spiking-neural-network backbones (Meta-SpikeFormer, '
        'Spikformer) for OpenMMLab classification, detection and '
        'segmentation',
        long_description=open(osp.join(HERE, 'README.md')).read()
        if osp.exists(osp.join(HERE, 'README.md')) else '',
        long_description_content_type='text/markdown',
        keywords='spiking neural networks, object detection, semantic '
        'segmentation, OpenMMLab',
        packages=find_packages(
            exclude=('tests', 'tests.*', 'configs', 'tools', 'demo')),
        include_package_data=True,
        package_data={
            'spikedet': [
                '.mim/model-index.yml',
                '.mim/configs/**/*.py',
                '.mim/configs/**/*.yml',
                '.mim/configs/**/*.md',
                '.mim/tools/**/*.py',
                '.mim/tools/**/*.sh',
            ]
        },
        python_requires='>=3.9',
        install_requires=read_requirements('requirements/runtime.txt'),
        extras_require={
            'tests': read_requirements('requirements/tests.txt'),
            'distill': read_requirements('requirements/distill.txt'),
            'lint': read_requirements('requirements/lint.txt'),
        },
        classifiers=[
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
        ],
        license='Apache-2.0',
        zip_safe=False)


if __name__ == '__main__':
    relinks = add_mim_extension()
    try:
        _setup()
    finally:
        relink(relinks)
