"""Record spikedet's event datasets from Fashion-MNIST with a DVS model.

Subcommands::

    # event classification, spikingjelly layout events_np/{train,test}/<k>/
    python tools/dataset_converters/fashion_events.py cls \
        [--out-dir data/fashion_events] [--num-train 1000] [--num-test 400]

    # event scenes (COCO json + label PNGs of data/fashion_scenes)
    python tools/dataset_converters/fashion_events.py scenes \
        [--out-dir data/fashion_event_scenes] \
        [--scenes-dir data/fashion_scenes] [--num-train 400] [--num-val 100]

    # both, with the defaults above, under --data-root (default data/)
    python tools/dataset_converters/fashion_events.py all

``--source DIR`` points at the Fashion-MNIST files (default
``$SPIKEDET_FASHION_MNIST`` or ``/usr/share/datasets/fashion-mnist``);
``--seed`` changes the recordings. Outputs that already exist with the same
parameters are reused. See :mod:`spikedet.datasets.events.fashion_events`.
"""
import argparse
import os.path as osp
import sys
import time

from spikedet.datasets.events import (generate_fashion_event_cls,
                                      generate_fashion_event_scenes)

DEFAULT_CLS_DIR = 'fashion_events'
DEFAULT_SCENES_DIR = 'fashion_event_scenes'
RGB_SCENES_DIR = 'fashion_scenes'
#: Scenes recorded by default (of the 1000 + 200 RGB scenes).
SCENE_COUNTS = dict(num_train=400, num_val=100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Record event-camera datasets from Fashion-MNIST.')
    sub = parser.add_subparsers(dest='command', required=True)

    def common(p):
        p.add_argument(
            '--source',
            default=None,
            metavar='DIR',
            help='directory with the four Fashion-MNIST '
            '*-ubyte.gz files')
        p.add_argument('--seed', type=int, default=0)

    cls = sub.add_parser('cls', help='event classification streams')
    cls.add_argument('--out-dir', default=osp.join('data', DEFAULT_CLS_DIR))
    cls.add_argument(
        '--num-train',
        type=int,
        default=1000,
        help='first N training items (60000 for all)')
    cls.add_argument(
        '--num-test',
        type=int,
        default=400,
        help='first N test items (10000 for all)')
    common(cls)

    scenes = sub.add_parser('scenes', help='event scenes (mmdet + mmseg)')
    scenes.add_argument(
        '--out-dir', default=osp.join('data', DEFAULT_SCENES_DIR))
    scenes.add_argument(
        '--scenes-dir',
        default=osp.join('data', RGB_SCENES_DIR),
        help='RGB fashion scenes (generated if missing)')
    scenes.add_argument(
        '--num-train',
        type=int,
        default=SCENE_COUNTS['num_train'],
        help='record the first N train scenes (of 1000)')
    scenes.add_argument(
        '--num-val',
        type=int,
        default=SCENE_COUNTS['num_val'],
        help='record the first N val scenes (of 200)')
    common(scenes)

    both = sub.add_parser('all', help='both datasets with default sizes')
    both.add_argument('--data-root', default='data')
    common(both)
    return parser.parse_args(argv)


def _print(name, summary):
    state = 'reused' if summary['cached'] else 'wrote'
    print(f"[{name}] {state} {summary['out_dir']} in "
          f"{summary['seconds']:.1f}s (sensor {summary['sensor_hw']}):")
    for split, s in summary['splits'].items():
        print(f"  {split}: {s['num_streams']} streams, {s['num_events']} "
              'events')


def main(argv=None):
    args = parse_args(argv)
    t0 = time.perf_counter()
    try:
        if args.command in ('cls', 'all'):
            out = (
                args.out_dir if args.command == 'cls' else osp.join(
                    args.data_root, DEFAULT_CLS_DIR))
            kw = {} if args.command == 'all' else dict(
                num_train=args.num_train, num_test=args.num_test)
            _print(
                'fashion_events',
                generate_fashion_event_cls(
                    out, seed=args.seed, source=args.source, **kw))
        if args.command in ('scenes', 'all'):
            if args.command == 'scenes':
                out, rgb = args.out_dir, args.scenes_dir
                kw = dict(num_train=args.num_train, num_val=args.num_val)
            else:
                out = osp.join(args.data_root, DEFAULT_SCENES_DIR)
                rgb = osp.join(args.data_root, RGB_SCENES_DIR)
                kw = SCENE_COUNTS
            _print(
                'fashion_event_scenes',
                generate_fashion_event_scenes(
                    out, rgb, seed=args.seed, source=args.source, **kw))
    except (FileNotFoundError, FileExistsError, ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(f'done in {time.perf_counter() - t0:.1f}s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
