"""Session fixtures shared by spikedet's tests.

Both datasets are built once per test session from the installed
Fashion-MNIST (Debian package ``dataset-fashion-mnist``, or the directory in
``$SPIKEDET_FASHION_MNIST``); they take well under a second.
"""
import pytest
import torch

from spikedet.datasets import (convert_fashion_mnist_cls,
                               generate_fashion_scenes)

# The tests run tiny models, for which one thread per process is fastest;
# `make test` runs two pytest workers (pytest-xdist) on a 2-core machine.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """Give every test the default scope it started with.

    mmengine keeps the default scope (``DefaultScope``) in process-global
    state; a Runner or ``init_default_scope`` in one test would otherwise
    decide which registry a later test's ``MODELS.build`` searches, and with
    pytest-xdist that order changes from run to run.
    """
    from mmengine.registry import DefaultScope
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict = saved


@pytest.fixture(scope='session')
def fashion_scenes_root(tmp_path_factory):
    """A tiny fashion-scenes dataset: 8 train + 4 val scenes of 64x64.

    Layout (see :mod:`spikedet.datasets.fashion_scenes`):
    ``img_dir/{train,val}/*.png``, ``ann_dir/{train,val}/*.png`` (labels
    0 = background, k + 1 = class k) and
    ``annotations/instances_{train,val}.json``.
    """
    root = tmp_path_factory.mktemp('fashion_scenes')
    generate_fashion_scenes(
        str(root), num_train=8, num_val=4, img_size=64, seed=0)
    return str(root)


@pytest.fixture(scope='session')
def fashion_mnist_cls_root(tmp_path_factory):
    """Fashion-MNIST for mmpretrain: 64 train + 32 test PNGs.

    Layout: ``{train,test}/*.png``, ``meta/{train,test}.txt`` (lines
    ``train/00000.png 9``) and ``meta/classes.txt``.
    """
    root = tmp_path_factory.mktemp('fashion_mnist_cls')
    convert_fashion_mnist_cls(str(root), num_train=64, num_test=32)
    return str(root)
