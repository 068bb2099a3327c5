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
import sys

from spikedet.utils.converters import run_cli

if __name__ == '__main__':
    sys.exit(run_cli('spikformer', description=__doc__.split('\n\n')[0]))
