# UperNet with Meta-SpikeFormer-15M at T=4 time steps on ADE20K.
_base_ = ['./upernet_metaspikeformer-15m-t1_4xb2-160k_ade20k-512x512.py']

pretrained = 'checkpoints/metaspikeformer-15m_t4_in1k.pth'
T = 4
model = dict(
    backbone=dict(
        T=T,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(T=T))
