# Meta-SpikeFormer-55M (the paper's code calls it metaspikformer_8_512), T=1,
# ImageNet-1k, the recipe of metaspikeformer-15m-t1_8xb128_in1k-224.py (its
# train.sh trains exactly this model).
_base_ = ['./metaspikeformer-15m-t1_8xb128_in1k-224.py']

model = dict(backbone=dict(arch='55m'), head=dict(in_channels=640))
