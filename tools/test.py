"""Evaluate a checkpoint with an mmpretrain, mmdet or mmseg config.

Example:
    python tools/test.py CONFIG CHECKPOINT --show-dir vis/
"""
import argparse
import os

from mmengine.config import Config, DictAction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a spikedet model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument(
        '--show-dir',
        help='write images with predictions drawn into this dir (relative '
        'paths are under the work dir\'s timestamped run dir)')
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds per --show')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
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


def enable_visualization(cfg: Config, scope: str,
                         args: argparse.Namespace) -> None:
    """Turn on the library's visualization hook for ``--show/--show-dir``."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise RuntimeError(
            '--show/--show-dir need a `visualization` hook in '
            'default_hooks (inherit the library\'s default_runtime).')
    if scope == 'mmpretrain':
        hook.enable = True
        hook.show = args.show
        hook.wait_time = args.wait_time
        if args.show_dir:
            hook.out_dir = args.show_dir
        return
    hook.draw = True
    hook.interval = 1
    if args.show:
        hook.show = True
        hook.wait_time = args.wait_time
    if args.show_dir:
        if scope == 'mmdet':
            hook.test_out_dir = args.show_dir
        else:  # mmseg writes through the visualizer's save_dir
            cfg.visualizer.save_dir = args.show_dir


def main() -> None:
    args = parse_args()
    # Imported after parsing, so that --help answers at once.
    from spikedet.utils.checkpoint import check_checkpoint_file
    from spikedet.utils.dist import setup_cpu_distributed
    from spikedet.utils.setup_env import (build_runner, check_data_paths,
                                          load_config)

    # Missing, empty, truncated or not a checkpoint: say so before building
    # the model and the data.
    check_checkpoint_file(args.checkpoint)
    cfg, scope = load_config(args.config, args.launcher, args.cfg_options,
                             args.work_dir)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, scope, args)
    check_data_paths(cfg, ('test_dataloader', ))
    setup_cpu_distributed(cfg)  # --launcher pytorch without CUDA: gloo

    build_runner(cfg).test()


if __name__ == '__main__':
    main()
