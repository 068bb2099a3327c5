"""Runner checkpoints load under torch's weights-only unpickler once spikedet
is imported; files with anything else in them are still rejected."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
from mmengine.utils import digit_version
from torch.utils.data import Dataset

import spikedet  # noqa: F401  (registers the safe globals)
from spikedet.utils.checkpoint import (mmengine_safe_globals,
                                       register_mmengine_safe_globals)

pytestmark = pytest.mark.skipif(
    digit_version(torch.__version__) < digit_version('2.6.0'),
    reason='torch < 2.6 does not load with weights_only=True by default')

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class _ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.bn(self.fc(torch.stack(inputs)))
        if mode == 'loss':
            return dict(
                loss=nn.functional.cross_entropy(out, torch.as_tensor(labels)))
        return out


class _ToyDataset(Dataset):
    metainfo = dict(classes=('a', 'b', 'c'), palette=[(0, 0, 0), (1, 1, 1)])

    def __len__(self):
        return 8

    def __getitem__(self, i):
        gen = torch.Generator().manual_seed(i)
        return dict(inputs=torch.randn(4, generator=gen), labels=i % 3)


class _NumpyMetric(BaseMetric):
    """Returns numpy values, as mmseg's IoUMetric does."""

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        return dict(
            mIoU=np.float64(0.5),
            aAcc=np.float32(0.25),
            n=np.int64(3),
            per_class=np.array([0.5, 0.25]))


class _Payload:
    """Pickles as ``func(*args)``: what a malicious file would run."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class _Custom:
    pass


@pytest.fixture(scope='module')
def runner_ckpts(tmp_path_factory):
    """Checkpoints of a 4-iteration Runner with evaluation (numpy metrics),
    best-checkpoint saving, EMA and the common parameter schedulers."""
    work_dir = str(tmp_path_factory.mktemp('runner'))
    loader = dict(
        dataset=_ToyDataset(),
        sampler=dict(type='DefaultSampler', shuffle=True),
        batch_size=2,
        num_workers=0)
    runner = Runner(
        model=_ToyModel(),
        work_dir=work_dir,
        experiment_name='test_checkpoint',
        train_dataloader=loader,
        val_dataloader=loader,
        val_evaluator=Evaluator(_NumpyMetric()),
        val_cfg=dict(),
        train_cfg=dict(by_epoch=False, max_iters=4, val_interval=2),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, end=2),
            dict(type='MultiStepLR', milestones=[3], by_epoch=False),
            dict(type='PolyLR', eta_min=0, by_epoch=False, end=4),
            dict(
                type='OneCycleLR', eta_max=1e-2, total_steps=4,
                by_epoch=False),
        ],
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook',
                interval=2,
                by_epoch=False,
                max_keep_ckpts=1,
                save_best='mIoU',
                rule='greater'),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='EMAHook')],
        randomness=dict(seed=0),
        log_level='WARNING',
        cfg=dict(note='test_checkpoint'))
    runner.train()
    return dict(
        last=osp.join(work_dir, 'iter_4.pth'),
        best=osp.join(work_dir, 'best_mIoU_iter_2.pth'))


def _assert_same(a, b, where='checkpoint'):
    assert type(a) is type(b), f'{where}: {type(a)} != {type(b)}'
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_same(a[k], b[k], f'{where}[{k!r}]')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f'{where}[{i}]')
    elif isinstance(a, HistoryBuffer):
        _assert_same(a.data, b.data, f'{where}.data')
    else:
        assert a == b, f'{where}: {a!r} != {b!r}'


def _save(obj, tmp_path, name='ckpt.pth'):
    path = str(tmp_path / name)
    torch.save(obj, path)
    return path


@pytest.mark.parametrize('which', ['last', 'best'])
def test_runner_checkpoint_loads_weights_only(runner_ckpts, which):
    path = runner_ckpts[which]
    trusted = torch.load(path, weights_only=False)
    # The file really holds what made torch >= 2.6 refuse it.
    hub = trusted['message_hub']
    assert isinstance(hub['log_scalars']['train/loss'], HistoryBuffer)
    assert isinstance(hub['runtime_info']['best_score'], np.floating)
    assert isinstance(hub['runtime_info']['val/per_class'], np.ndarray)

    safe = torch.load(path, weights_only=True)
    _assert_same(safe, trusted)
    # mmengine's own loader (resume, load_from, tools/test.py)
    _assert_same(_load_checkpoint(path, map_location='cpu'), trusted)
    if which == 'last':
        assert 'optimizer' in safe and 'param_schedulers' in safe
        # OneCycleLR's anneal function survives the round trip
        anneal = safe['param_schedulers'][-1]['anneal_func']
        assert anneal is trusted['param_schedulers'][-1]['anneal_func']
        assert safe['param_schedulers'][1]['milestones'] == {3: 1}


def test_load_checkpoint_into_model(runner_ckpts):
    model = _ToyModel()
    load_checkpoint(model, runner_ckpts['last'], map_location='cpu')
    trusted = torch.load(runner_ckpts['last'], weights_only=False)
    _assert_same(model.state_dict(), trusted['state_dict'])


def test_numpy1_names_load(tmp_path):
    """Checkpoints pickled by numpy 1.x name ``numpy.core.multiarray``."""
    obj = dict(arr=np.arange(3.0), scalar=np.float64(2.5), n=np.int64(7))
    path = str(tmp_path / 'np1.pth')
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    with open(path, 'rb') as f:
        data = f.read()
    assert b'numpy._core.multiarray\n' in data
    with open(path, 'wb') as f:
        f.write(
            data.replace(b'numpy._core.multiarray\n',
                         b'numpy.core.multiarray\n'))
    _assert_same(torch.load(path, weights_only=True), obj)


@pytest.mark.parametrize(
    'payload', [
        _Payload(os.system, 'touch {marker}'),
        _Payload(eval, "open('{marker}', 'w')"),
        _Payload(getattr, HistoryBuffer, '__init__'),
        _Payload(getattr, HistoryBuffer, 'update'),
        _Payload(getattr, 'abc', 'join'),
        _Custom(),
        np.array([1, 'a'], dtype=object),
    ],
    ids=[
        'os.system', 'eval', 'getattr-init', 'getattr-method', 'getattr-str',
        'custom-class', 'object-array'
    ])
def test_untrusted_globals_rejected(tmp_path, payload):
    marker = str(tmp_path / 'pwned')
    if isinstance(payload, _Payload):
        payload.args = tuple(
            a.format(marker=marker) if isinstance(a, str) else a
            for a in payload.args)
    path = _save(dict(state_dict={'w': torch.ones(1)}, meta=payload), tmp_path)
    with pytest.raises(pickle.UnpicklingError):
        _load_checkpoint(path, map_location='cpu')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    assert not osp.exists(marker)


def test_register_is_idempotent():
    before = torch.serialization.get_safe_globals()
    assert register_mmengine_safe_globals()
    assert register_mmengine_safe_globals()
    after = torch.serialization.get_safe_globals()
    assert len(after) == len(before)
    for entry in mmengine_safe_globals():
        assert entry in after


def test_import_spikedet_enables_loading(runner_ckpts):
    """In a fresh interpreter the checkpoint is refused until spikedet is
    imported (so the test above cannot pass by accident). ``import
    spikedet`` is lazy: it registers the safe globals when mmengine's Runner
    is already loaded (a config's ``custom_imports``), otherwise spikedet's
    models and tools do."""
    script = ('import pickle, sys, torch\n'
              'import mmengine.runner\n'
              'try:\n'
              '    torch.load(sys.argv[1])\n'
              "    sys.exit('loaded without spikedet')\n"
              'except pickle.UnpicklingError as e:\n'
              "    assert 'Weights only load failed' in str(e), e\n"
              'import spikedet\n'
              "ckpt = torch.load(sys.argv[1])\n"
              "print('iter', ckpt['meta']['iter'])\n")
    proc = subprocess.run([sys.executable, '-c', script, runner_ckpts['last']],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'iter 4' in proc.stdout
