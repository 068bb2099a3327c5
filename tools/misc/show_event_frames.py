"""Draw a few event streams as integrated frames (ON red, OFF blue).

    python tools/misc/show_event_frames.py \
        [--cls-dir data/fashion_events] \
        [--scenes-dir data/fashion_event_scenes] \
        [--num 3] [--frames 4] [--out resources/fashion_event_frames.png]

One row per stream: the first ``--num`` test streams of the event
classification data (one per class, classes in order) and of the event
scenes' val split, each integrated into ``--frames`` frames with
spikingjelly's ``integrate_events_by_fixed_frames_number`` (split by event
count), as the training pipelines do.
"""
import argparse
import glob
import os
import os.path as osp
import sys

import numpy as np

from spikedet.datasets.fashion_mnist import FASHION_MNIST_CLASSES
from spikedet.datasets.transforms import integrate_events, load_event_file


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cls-dir', default='data/fashion_events')
    parser.add_argument('--scenes-dir', default='data/fashion_event_scenes')
    parser.add_argument(
        '--num', type=int, default=3, help='streams per dataset')
    parser.add_argument('--frames', type=int, default=4)
    parser.add_argument('--out', default='resources/fashion_event_frames.png')
    return parser.parse_args(argv)


def to_rgb(frame: np.ndarray) -> np.ndarray:
    """``[2, H, W]`` counts -> RGB: ON events red, OFF events blue."""
    scale = max(float(frame.max()), 1.)
    rgb = np.ones(frame.shape[1:] + (3, ))
    off, on = frame[0] / scale, frame[1] / scale
    rgb[..., 0] -= off
    rgb[..., 1] -= np.maximum(on, off)
    rgb[..., 2] -= on
    return np.clip(rgb, 0, 1)


def pick_streams(cls_dir: str, scenes_dir: str, num: int):
    rows = []
    for k in range(num):
        files = sorted(
            glob.glob(osp.join(cls_dir, 'events_np', 'test', str(k), '*.npz')))
        if files:
            rows.append((files[0], 34, FASHION_MNIST_CLASSES[k]))
    files = sorted(
        glob.glob(osp.join(scenes_dir, 'events_np', 'val', '*.npz')))
    rows += [(f, 128, f'scene {osp.basename(f)[:-4]}') for f in files[:num]]
    return rows


def main(argv=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    args = parse_args(argv)
    rows = pick_streams(args.cls_dir, args.scenes_dir, args.num)
    if not rows:
        print(
            f'error: no event streams under {args.cls_dir} or '
            f'{args.scenes_dir}; run tools/dataset_converters/'
            'fashion_events.py all first',
            file=sys.stderr)
        return 1
    fig, axes = plt.subplots(
        len(rows),
        args.frames,
        figsize=(1.3 * args.frames, 1.3 * len(rows)),
        squeeze=False)
    for r, (path, size, title) in enumerate(rows):
        events = load_event_file(path, size)
        frames = integrate_events(events, args.frames, size, size)
        for t in range(args.frames):
            ax = axes[r, t]
            ax.imshow(to_rgb(frames[t]), interpolation='nearest')
            ax.set_xticks([])
            ax.set_yticks([])
            if t == 0:
                ax.set_ylabel(title, fontsize=6)
            if r == 0:
                ax.set_title(f'frame {t}', fontsize=7)
    fig.tight_layout(pad=0.2)
    os.makedirs(osp.dirname(args.out) or '.', exist_ok=True)
    fig.savefig(args.out, dpi=80)
    print(f'wrote {args.out} ({osp.getsize(args.out) // 1024} KB)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
