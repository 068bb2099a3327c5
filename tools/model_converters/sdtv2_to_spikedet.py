"""Convert an official Spike-driven Transformer V2 (Meta-SpikeFormer)
checkpoint to spikedet's layout.

The result holds ``backbone.*`` (:class:`spikedet.MetaSpikeFormer`) and
``head.*`` (:class:`spikedet.SpikingClsHead`) weights: load it whole in
mmpretrain, or the backbone in mmdet/mmseg with
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``.

Example::

    python tools/model_converters/sdtv2_to_spikedet.py \\
        55M_kd_T4.pth checkpoints/metaspikeformer-55m_in1k.pth --arch 55m
"""

import argparse
import sys
from typing import List, Optional

from spikedet.converters import ConversionError, convert_file
from spikedet.utils.state_dict import CheckpointMismatchError


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='the official checkpoint')
    parser.add_argument('dst', help='where to write the spikedet checkpoint')
    parser.add_argument(
        '--arch',
        help='expected arch, checked against the weights: a preset name or '
        'a JSON dict (default: inferred from the weights)')
    parser.add_argument(
        '--trusted',
        action='store_true',
        help='allow a checkpoint with arbitrary pickled objects (runs '
        'torch.load with weights_only=False; only for files you trust)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Convert; 0 on success, 1 (nothing written) on a checkpoint error."""
    args = parse_args(argv)
    try:
        # The official training scripts store their parsed arguments.
        converted = convert_file(
            'sdtv2',
            args.src,
            args.dst,
            args.arch,
            args.trusted,
            safe_types=[argparse.Namespace])
    except (ConversionError, CheckpointMismatchError, FileNotFoundError,
            ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        print('Nothing was written.', file=sys.stderr)
        return 1
    for note in converted.notes:
        print(f'note: {note}')
    print(converted.summary())
    print(f'saved: {args.dst}')
    print('\n' + converted.init_cfg_snippet(args.dst))
    return 0


if __name__ == '__main__':
    sys.exit(main())
