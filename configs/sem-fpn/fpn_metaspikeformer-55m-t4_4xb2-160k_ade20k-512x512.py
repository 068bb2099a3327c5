# Semantic FPN with Meta-SpikeFormer-55M at T=4 time steps on ADE20K.
# See the 15M T=4 config for starting from a T=1 model.
_base_ = ['./fpn_metaspikeformer-55m-t1_4xb2-160k_ade20k-512x512.py']

pretrained = 'checkpoints/metaspikeformer-55m_t4_in1k.pth'
T = 4
model = dict(
    backbone=dict(
        T=T,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(T=T))
