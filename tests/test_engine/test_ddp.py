"""Distributed training through mmengine: ``torchrun --nproc_per_node=2
tools/train.py CONFIG --launcher pytorch`` on CPU (gloo) trains a tiny
spiking classifier and ends with the same weights on both ranks."""
import os
import os.path as osp
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import spikedet  # noqa: F401  (weights_only loading of Runner checkpoints)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = dict(embed_dims=[8, 16, 32, 40], depths=[1, 1, 1, 1], num_heads=2)
MAX_ITERS = 3

# A hook (imported through the config's custom_imports) that saves every
# rank's weights before and after training.
_DUMP_HOOK = '''
import os.path as osp

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class DumpRankWeightsHook(Hook):

    def before_train(self, runner):
        self._dump(runner, 'init')

    def after_train(self, runner):
        self._dump(runner, 'final')

    def _dump(self, runner, tag):
        model = runner.model
        module = model.module if is_model_wrapper(model) else model
        torch.save(
            dict(params={k: v.detach().clone()
                         for k, v in module.named_parameters()},
                 wrapper=type(model).__name__,
                 world_size=runner.world_size,
                 iter=runner.iter),
            osp.join(runner.work_dir, f'{tag}_rank{runner.rank}.pth'))
'''


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _write_images(root: str, num_per_class: int = 4) -> None:
    """Class folders of random 32x32 PNGs for mmpretrain's CustomDataset."""
    import cv2
    rng = np.random.default_rng(0)
    for cls in ('a', 'b'):
        os.makedirs(osp.join(root, cls))
        for i in range(num_per_class):
            img = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            cv2.imwrite(osp.join(root, cls, f'{i}.png'), img)


def _write_config(path: str, data_root: str) -> None:
    with open(path, 'w') as f:
        f.write(
            textwrap.dedent(f"""
            default_scope = 'mmpretrain'
            custom_imports = dict(
                imports=['spikedet', 'dump_rank_weights'],
                allow_failed_imports=False)
            model = dict(
                type='ImageClassifier',
                data_preprocessor=dict(
                    type='ClsDataPreprocessor', num_classes=2,
                    mean=[127.5] * 3, std=[127.5] * 3),
                backbone=dict(
                    type='spikedet.MetaSpikeFormer', arch={TINY}, T=2,
                    keep_time=True, out_indices=(3, )),
                head=dict(
                    type='spikedet.SpikingClsHead', num_classes=2,
                    in_channels={TINY['embed_dims'][-1]},
                    loss=dict(type='CrossEntropyLoss')))
            train_dataloader = dict(
                batch_size=2,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=True),
                collate_fn=dict(type='default_collate'),
                dataset=dict(
                    type='CustomDataset',
                    data_root={data_root!r},
                    pipeline=[dict(type='LoadImageFromFile'),
                              dict(type='PackInputs')]))
            train_cfg = dict(by_epoch=False, max_iters={MAX_ITERS})
            optim_wrapper = dict(
                optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.05))
            default_hooks = dict(
                timer=dict(type='IterTimerHook'),
                logger=dict(type='LoggerHook', interval=1),
                param_scheduler=dict(type='ParamSchedulerHook'),
                checkpoint=dict(type='CheckpointHook', interval={MAX_ITERS},
                                by_epoch=False),
                sampler_seed=dict(type='DistSamplerSeedHook'))
            custom_hooks = [dict(type='DumpRankWeightsHook')]
            # a different initialisation per rank: DDP must broadcast rank 0's
            randomness = dict(seed=0, diff_rank_seed=True)
            # as in the libraries' default_runtime; without CUDA
            # tools/train.py switches to gloo
            env_cfg = dict(dist_cfg=dict(backend='nccl'))
            log_level = 'WARNING'
            """))


@pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks the CPU (gloo) path')
def test_two_process_training_keeps_ranks_in_sync(tmp_path):
    data_root = str(tmp_path / 'images')
    _write_images(data_root)
    (tmp_path / 'dump_rank_weights.py').write_text(_DUMP_HOOK)
    config = str(tmp_path / 'ddp_cfg.py')
    _write_config(config, data_root)
    work_dir = str(tmp_path / 'work_dir')

    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(tmp_path), REPO, env.get('PYTHONPATH', '')])
    env['OMP_NUM_THREADS'] = '1'
    cmd = [
        sys.executable, '-m', 'torch.distributed.run', '--nnodes=1',
        '--nproc_per_node=2', '--master_addr=127.0.0.1',
        f'--master_port={_free_port()}',
        osp.join(REPO, 'tools', 'train.py'), config, '--launcher', 'pytorch',
        '--work-dir', work_dir
    ]
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]

    dumps = {
        (tag, rank):
        torch.load(
            osp.join(work_dir, f'{tag}_rank{rank}.pth'), weights_only=True)
        for tag in ('init', 'final')
        for rank in (0, 1)
    }
    for dump in dumps.values():
        assert dump['wrapper'] == 'MMDistributedDataParallel'
        assert dump['world_size'] == 2
    assert dumps['final', 0]['iter'] == dumps['final', 1]['iter'] == MAX_ITERS

    final0, final1 = dumps['final', 0]['params'], dumps['final', 1]['params']
    init0, init1 = dumps['init', 0]['params'], dumps['init', 1]['params']
    # ranks were seeded differently; the Runner/DDP synced rank 0's init
    for name in init0:
        assert torch.equal(init0[name], init1[name]), name
    assert list(final0) == list(final1)
    for name in final0:
        assert torch.equal(final0[name], final1[name]), \
            f'{name} differs between ranks'
    assert not all(torch.equal(final0[k], init0[k]) for k in final0), \
        'training did not change the weights'
    # rank 0 saved the usual checkpoint, which loads with weights_only=True
    ckpt = torch.load(
        osp.join(work_dir, f'iter_{MAX_ITERS}.pth'), weights_only=True)
    for name, value in final0.items():
        assert torch.equal(ckpt['state_dict'][name], value), name
