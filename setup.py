"""spikedet: spiking-neural-network backbones for dense prediction on OpenMMLab."""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(path: str) -> list:
    """Read the pinned stack (``requirements/stack.txt``), the one place versions live."""
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


setup(
    name='spikedet',
    version=read_version(),
    description='Spiking-neural-network backbones (Meta-SpikeFormer, Spikformer) '
    'for OpenMMLab classification, detection and segmentation',
    long_description=open(osp.join(HERE, 'README.md')).read() if osp.exists(
        osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.9',
    install_requires=read_requirements('requirements/stack.txt'),
    extras_require={'tests': read_requirements('requirements/tests.txt')},
    license='Apache-2.0',
    zip_safe=False,
)
