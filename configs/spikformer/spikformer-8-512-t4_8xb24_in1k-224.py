# Spikformer-8-512, T=4, ImageNet-1k: the recipe of
# spikformer-8-384-t4_8xb24_in1k-224.py (imagenet.yml of the Spikformer code,
# whose train.py builds this size).
_base_ = ['./spikformer-8-384-t4_8xb24_in1k-224.py']

model = dict(backbone=dict(arch='8-512'), head=dict(in_channels=512))
