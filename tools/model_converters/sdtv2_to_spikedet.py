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
import sys

from spikedet.utils.converters import run_cli

if __name__ == '__main__':
    sys.exit(run_cli('sdtv2', description=__doc__.split('\n\n')[0]))
