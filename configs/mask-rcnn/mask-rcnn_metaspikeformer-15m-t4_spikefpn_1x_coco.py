# Mask R-CNN, Meta-SpikeFormer-15M with T=4 time steps, spiking FPN, 1x COCO.
# Same recipe as the T=1 config; backbone and neck both run 4 steps. About
# 4x the compute and activation memory of T=1: if a GPU runs out of memory,
# add --cfg-options model.backbone.with_cp=True (exact recomputation).
_base_ = ['./mask-rcnn_metaspikeformer-15m-t1_spikefpn_1x_coco.py']

# ImageNet-1k weights of the paper's T=4 model, converted with
# tools/model_converters/sdtv2_to_spikedet.py (see the T=1 config).
pretrained = 'checkpoints/metaspikeformer-15m_t4_in1k.pth'
T = 4

model = dict(
    backbone=dict(
        T=T,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(T=T))
