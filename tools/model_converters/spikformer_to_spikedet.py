"""Convert an official Spikformer checkpoint (ImageNet or CIFAR-10 code) to
spikedet's layout.

The result holds ``backbone.*`` (:class:`spikedet.Spikformer`) and ``head.*``
(:class:`spikedet.SpikingClsHead` with ``spike_before_fc=False``) weights.
The official blocks' LayerNorms ``norm1``/``norm2``, which the official
forward never uses, are dropped with a note; any other unknown key is an
error.

Example::

    python tools/model_converters/spikformer_to_spikedet.py \\
        spikformer-8-512.pth.tar checkpoints/spikformer-8-512_in1k.pth
"""

import os.path as osp
import sys
from typing import List, Optional

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:  # the shared CLI beside this tool
    sys.path.insert(0, HERE)
from official_cli import convert_main  # noqa: E402  isort:skip


def main(argv: Optional[List[str]] = None) -> int:
    """Convert; 0 on success, 1 (nothing written) on a checkpoint error."""
    return convert_main('spikformer', __doc__, argv)


if __name__ == '__main__':
    sys.exit(main())
