# Meta-SpikeFormer-31M (the paper's code calls it metaspikformer_8_384), T=1,
# ImageNet-1k, the recipe of metaspikeformer-15m-t1_8xb128_in1k-224.py.
_base_ = ['./metaspikeformer-15m-t1_8xb128_in1k-224.py']

model = dict(backbone=dict(arch='31m'), head=dict(in_channels=480))
