"""Resuming a Runner checkpoint continues training exactly: N iterations,
stop, resume, M more == N + M iterations in one go (weights, AdamW state,
learning rate, iteration count)."""
import os.path as osp

import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from mmpretrain.utils import register_all_modules
from torch.utils.data import Dataset

import spikedet  # noqa: F401

N, M = 3, 3  # 4 iterations per epoch: resume mid-epoch, cross an epoch
NUM_CLASSES = 3
TINY = dict(embed_dims=[8, 16, 32, 40], depths=[1, 1, 1, 1], num_heads=2)


class _RandomImages(Dataset):
    """8 fixed random 32x32 uint8 images with labels 0..2."""

    def __init__(self, num: int = 8, size: int = 32) -> None:
        gen = torch.Generator().manual_seed(0)
        self.images = torch.randint(
            0, 256, (num, 3, size, size), generator=gen, dtype=torch.uint8)
        self.labels = [i % NUM_CLASSES for i in range(num)]
        self.metainfo = dict(classes=tuple('abc'))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        return dict(
            inputs=self.images[i].clone(),
            data_samples=DataSample().set_gt_label(self.labels[i]))


class _IterRecorder(Hook):
    """Records the iteration index of every training step it sees."""

    def __init__(self) -> None:
        self.iters = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self.iters.append(runner.iter)


def _runner(work_dir: str, max_iters: int, resume_from: str = None) -> Runner:
    model = dict(
        type='ImageClassifier',
        data_preprocessor=dict(
            type='ClsDataPreprocessor',
            mean=[127.5] * 3,
            std=[127.5] * 3,
            num_classes=NUM_CLASSES),
        backbone=dict(
            type='spikedet.MetaSpikeFormer',
            arch=TINY,
            T=2,
            keep_time=True,
            out_indices=(3, )),
        head=dict(
            type='spikedet.SpikingClsHead',
            num_classes=NUM_CLASSES,
            in_channels=TINY['embed_dims'][-1],
            loss=dict(type='CrossEntropyLoss')))
    return Runner(
        model=model,
        work_dir=work_dir,
        experiment_name=osp.basename(work_dir),
        default_scope='mmpretrain',
        train_dataloader=dict(
            dataset=_RandomImages(),
            sampler=dict(type='DefaultSampler', shuffle=True, seed=0),
            collate_fn=pseudo_collate,
            batch_size=2,
            num_workers=0),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(
            optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)),
        # Explicit ends: a scheduler's default end is the max_iters of the
        # run that built it, and resuming restores that end, so the first
        # (shorter) run must already know the full schedule.
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, end=2),
            dict(
                type='MultiStepLR',
                milestones=[4],
                gamma=0.5,
                by_epoch=False,
                end=N + M),
        ],
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=N, by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[_IterRecorder()],
        randomness=dict(seed=0),
        resume=resume_from is not None,
        load_from=resume_from,
        log_level='WARNING',
        cfg=dict(note=osp.basename(work_dir)))


def _assert_states_equal(a: dict, b: dict, what: str) -> None:
    assert list(a) == list(b), what
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), f'{what}: {key} differs'
        elif isinstance(a[key], dict):
            _assert_states_equal(a[key], b[key], f'{what}.{key}')
        else:
            assert a[key] == b[key], f'{what}: {key} {a[key]} != {b[key]}'


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    register_all_modules(init_default_scope=False)
    # One thread: the same reduction order in every run, and no OpenMP
    # oversubscription on a busy machine (seconds instead of ms per step).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        root = tmp_path_factory.mktemp('resume')
        straight = _runner(str(root / 'straight'), N + M)
        straight.train()
        first = _runner(str(root / 'first'), N)
        first.train()
        ckpt = str(root / 'first' / f'iter_{N}.pth')
        resumed = _runner(str(root / 'resumed'), N + M, resume_from=ckpt)
        resumed.train()
    finally:
        torch.set_num_threads(threads)
    return straight, resumed, ckpt


def _recorded_iters(runner: Runner) -> list:
    return next(h for h in runner.hooks if isinstance(h, _IterRecorder)).iters


def test_resume_counts_iterations(runs):
    straight, resumed, ckpt = runs
    assert torch.load(ckpt)['meta']['iter'] == N
    assert straight.iter == resumed.iter == N + M
    assert _recorded_iters(straight) == list(range(N + M))
    # the resumed run started at iteration N and ran only the M left
    assert _recorded_iters(resumed) == list(range(N, N + M))


def test_resume_continues_weights_exactly(runs):
    straight, resumed, ckpt = runs
    final = resumed.model.state_dict()
    _assert_states_equal(final, straight.model.state_dict(), 'weights')
    # the resumed run did train: its weights moved on from the checkpoint
    saved = torch.load(ckpt)['state_dict']
    assert not all(torch.equal(final[k], saved[k]) for k in saved)


def test_resume_continues_optimizer_exactly(runs):
    straight, resumed, _ = runs
    a = resumed.optim_wrapper.optimizer.state_dict()
    b = straight.optim_wrapper.optimizer.state_dict()
    assert a['state'], 'AdamW has no state: nothing was trained'
    assert {int(s['step']) for s in a['state'].values()} == {N + M}
    _assert_states_equal(a['state'], b['state'], 'AdamW state')
    assert [g['lr'] for g in a['param_groups']] == \
        [g['lr'] for g in b['param_groups']]
