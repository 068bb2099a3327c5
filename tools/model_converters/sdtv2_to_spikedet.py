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

import os.path as osp
import sys
from typing import List, Optional

HERE = osp.dirname(osp.abspath(__file__))
if HERE not in sys.path:  # the shared CLI beside this tool
    sys.path.insert(0, HERE)
from official_cli import convert_main  # noqa: E402  isort:skip


def main(argv: Optional[List[str]] = None) -> int:
    """Convert; 0 on success, 1 (nothing written) on a checkpoint error."""
    return convert_main('sdtv2', __doc__, argv)


if __name__ == '__main__':
    sys.exit(main())
