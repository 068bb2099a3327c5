"""The command line shared by ``sdtv2_to_spikedet.py`` and
``spikformer_to_spikedet.py``: parse SRC DST [--arch] [--trusted], convert
with :func:`spikedet.converters.convert_file`, print the notes, summary and
the ``init_cfg`` to use, or the error (nothing is written then)."""
import argparse
import sys
from typing import List, Optional

from spikedet.converters import ConversionError, convert_file
from spikedet.utils.state_dict import CheckpointMismatchError


def parse_args(description: str,
               argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
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


def convert_main(kind: str, doc: str, argv: Optional[List[str]] = None) -> int:
    """Parse ``argv`` and convert a ``kind`` (``'sdtv2'`` or
    ``'spikformer'``) checkpoint; 0 on success, 1 (nothing written) on a
    checkpoint error. ``doc`` is the calling tool's docstring (its first
    paragraph becomes the ``--help`` description)."""
    args = parse_args(doc.split('\n\n')[0], argv)
    try:
        # The official training scripts store their parsed arguments.
        converted = convert_file(
            kind,
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
