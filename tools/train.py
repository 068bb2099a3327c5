"""Train a model from an mmpretrain, mmdet or mmseg config (OpenMMLab CLI).

Example:
    python tools/train.py configs/mask_rcnn_spikeformer_coco.py
"""
import argparse
import os

from mmengine.config import Config, DictAction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a spikedet model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, with no value, from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (fp16 with loss '
        'scaling on a GPU, bfloat16 on the CPU)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the real total batch size')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs (e.g. '
        'train_cfg.max_epochs=1 model.backbone.T=4)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args: argparse.Namespace) -> Config:
    # spikedet is imported here, not at the top, so that --help is quick.
    from spikedet.utils.checkpoint import check_checkpoint_file
    from spikedet.utils.setup_env import (check_data_paths,
                                          check_pretrained_paths, load_config)

    cfg, _ = load_config(args.config, args.launcher, args.cfg_options,
                         args.work_dir)

    if args.amp:
        import torch
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper in ('AmpOptimWrapper', 'spikedet.CPUAmpOptimWrapper'):
            print('AMP training is already enabled in the config.')
        elif torch.cuda.is_available():
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            # mmengine's AmpOptimWrapper needs a GPU: bfloat16 on the CPU.
            cfg.optim_wrapper.type = 'spikedet.CPUAmpOptimWrapper'
            cfg.optim_wrapper.setdefault('dtype', 'bfloat16')

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise RuntimeError('--auto-scale-lr needs `auto_scale_lr = '
                               'dict(base_batch_size=...)` in the config.')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        check_checkpoint_file(args.resume)  # before building anything
        cfg.resume = True
        cfg.load_from = args.resume

    loaders = ['train_dataloader']
    if cfg.get('val_cfg'):
        loaders.append('val_dataloader')
    check_data_paths(cfg, tuple(loaders))
    check_pretrained_paths(cfg)
    return cfg


def main() -> None:
    args = parse_args()
    from spikedet.utils.dist import setup_cpu_distributed
    from spikedet.utils.setup_env import build_runner
    cfg = build_cfg(args)
    setup_cpu_distributed(cfg)  # --launcher pytorch without CUDA: gloo
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
