# UperNet with Meta-SpikeFormer-55M at T=4 time steps on ADE20K
# (weight decay 0.05, as the paper's 55M T=4 Semantic FPN config).
_base_ = ['./upernet_metaspikeformer-15m-t1_4xb2-160k_ade20k-512x512.py']

pretrained = 'checkpoints/metaspikeformer-55m_t4_in1k.pth'
T = 4
in_channels = [128, 256, 512, 640]
model = dict(
    backbone=dict(
        arch='55m',
        T=T,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(T=T, in_channels=in_channels),
    decode_head=dict(in_channels=in_channels),
    auxiliary_head=dict(in_channels=in_channels[2]))
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
