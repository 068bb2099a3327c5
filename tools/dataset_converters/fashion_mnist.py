"""Build spikedet's default datasets from Fashion-MNIST.

Subcommands::

    # mmpretrain classification layout (PNG + meta/{train,test}.txt)
    python tools/dataset_converters/fashion_mnist.py cls \
        [--out-dir data/fashion_mnist] [--num-train N] [--num-test N]

    # detection + segmentation scenes (COCO json + mmseg img_dir/ann_dir)
    python tools/dataset_converters/fashion_mnist.py scenes \
        [--out-dir data/fashion_scenes] [--num-train 1000] [--num-val 200] \
        [--img-size 128] [--max-items 4] [--seed 0]

    # both, with the defaults above, under --data-root (default data/)
    python tools/dataset_converters/fashion_mnist.py all

Every subcommand takes ``--source DIR`` (a directory with the four
Fashion-MNIST ``*-ubyte.gz`` files; defaults to ``$SPIKEDET_FASHION_MNIST`` or
``/usr/share/datasets/fashion-mnist`` from ``apt-get install
dataset-fashion-mnist``). Outputs that already exist with the same parameters
are reused.
"""
import argparse
import os.path as osp
import sys
import time

from spikedet.datasets.fashion_mnist import convert_fashion_mnist_cls
from spikedet.datasets.fashion_scenes import generate_fashion_scenes

DEFAULT_CLS_DIR = 'fashion_mnist'
DEFAULT_SCENES_DIR = 'fashion_scenes'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the Fashion-MNIST datasets spikedet trains on by '
        'default.')
    sub = parser.add_subparsers(dest='command', required=True)

    def add_source(p):
        p.add_argument(
            '--source',
            default=None,
            metavar='DIR',
            help='directory with the four Fashion-MNIST *-ubyte.gz files '
            '(default: $SPIKEDET_FASHION_MNIST or '
            '/usr/share/datasets/fashion-mnist)')

    cls = sub.add_parser('cls', help='classification layout for mmpretrain')
    cls.add_argument('--out-dir', default=osp.join('data', DEFAULT_CLS_DIR))
    cls.add_argument(
        '--num-train',
        type=int,
        default=None,
        help='first N training images (default: all 60000)')
    cls.add_argument(
        '--num-test',
        type=int,
        default=None,
        help='first N test images (default: all 10000)')
    add_source(cls)

    scenes = sub.add_parser(
        'scenes', help='detection/segmentation scenes (mmdet + mmseg)')
    scenes.add_argument(
        '--out-dir', default=osp.join('data', DEFAULT_SCENES_DIR))
    scenes.add_argument('--num-train', type=int, default=1000)
    scenes.add_argument('--num-val', type=int, default=200)
    scenes.add_argument('--img-size', type=int, default=128)
    scenes.add_argument('--max-items', type=int, default=4)
    scenes.add_argument('--seed', type=int, default=0)
    add_source(scenes)

    both = sub.add_parser('all', help='both datasets with default sizes')
    both.add_argument('--data-root', default='data')
    add_source(both)
    return parser.parse_args(argv)


def run_cls(out_dir, source, num_train=None, num_test=None):
    summary = convert_fashion_mnist_cls(
        out_dir, source=source, num_train=num_train, num_test=num_test)
    state = 'reused' if summary['cached'] else 'wrote'
    print(f"[fashion_mnist] {state} {out_dir}: {summary['num_train']} train "
          f"+ {summary['num_test']} test PNGs, ann files "
          f"{summary['ann_files']['train']}, {summary['ann_files']['test']}, "
          f"classes {summary['classes_file']}")


def run_scenes(out_dir, source, **kwargs):
    summary = generate_fashion_scenes(out_dir, source=source, **kwargs)
    state = 'reused' if summary['cached'] else 'wrote'
    p = summary['params']
    print(f"[fashion_scenes] {state} {out_dir} in {summary['seconds']:.1f}s "
          f"({p['img_size']}x{p['img_size']}, max {p['max_items']} items, "
          f"seed {p['seed']}):")
    for split, s in summary['splits'].items():
        print(f"  {split}: {s['num_images']} images "
              f"(img_dir/{split}, ann_dir/{split}), {s['num_instances']} "
              f"instances in {s['ann_file']} "
              f"(items from Fashion-MNIST {s['fmnist_split']})")
    print(f'  meta: {osp.join(out_dir, "meta.json")}')


def main(argv=None):
    args = parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.command == 'cls':
            run_cls(args.out_dir, args.source, args.num_train, args.num_test)
        elif args.command == 'scenes':
            run_scenes(
                args.out_dir,
                args.source,
                num_train=args.num_train,
                num_val=args.num_val,
                img_size=args.img_size,
                max_items=args.max_items,
                seed=args.seed)
        else:
            run_cls(osp.join(args.data_root, DEFAULT_CLS_DIR), args.source)
            run_scenes(
                osp.join(args.data_root, DEFAULT_SCENES_DIR), args.source)
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'done in {time.perf_counter() - t0:.1f}s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
