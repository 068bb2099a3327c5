# Semantic FPN with Meta-SpikeFormer-55M (T=1) on ADE20K, 512x512 crops.
# As the 15M config (our recipe), with a 256-channel neck and head as in the
# paper's 55M configs, and weight decay 0.05 as in the paper's 55M T=4 run
# (its 55M T=1 run uses 0.005; for the paper's runs see
# fpn_metaspikeformer-55m-t*_paper_*.py).
_base_ = ['./fpn_metaspikeformer-15m-t1_4xb2-160k_ade20k-512x512.py']

pretrained = 'checkpoints/metaspikeformer-55m_t1_in1k.pth'
model = dict(
    backbone=dict(
        arch='55m',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[128, 256, 512, 640], out_channels=256),
    decode_head=dict(in_channels=[256, 256, 256, 256], channels=256))
optim_wrapper = dict(optimizer=dict(weight_decay=0.05))
