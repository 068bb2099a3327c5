# Semantic FPN with Meta-SpikeFormer-15M at T=4 time steps on ADE20K.
# Same model and schedule as the T=1 config (our recipe, not the paper's:
# see fpn_metaspikeformer-15m-t4_paper_8xb8-160k_ade20k-512x512.py); the
# backbone and the spiking neck run 4 steps. The paper's code starts its
# T=4 model from its T=1 segmentor: point init_cfg at a T=1 checkpoint to do
# the same, e.g. --cfg-options model.backbone.init_cfg.checkpoint=... (its
# keys must start with 'backbone.', as a segmentor checkpoint's do).
_base_ = ['./fpn_metaspikeformer-15m-t1_4xb2-160k_ade20k-512x512.py']

pretrained = 'checkpoints/metaspikeformer-15m_t4_in1k.pth'
T = 4
model = dict(
    backbone=dict(
        T=T,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(T=T))
