# Spikformer-8-768 (12 heads), T=4, ImageNet-1k: the recipe of
# spikformer-8-384-t4_8xb24_in1k-224.py.
_base_ = ['./spikformer-8-384-t4_8xb24_in1k-224.py']

model = dict(backbone=dict(arch='8-768'), head=dict(in_channels=768))
