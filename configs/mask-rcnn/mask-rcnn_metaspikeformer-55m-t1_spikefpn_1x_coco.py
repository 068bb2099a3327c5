# Mask R-CNN, Meta-SpikeFormer-55M (T=1), spiking FPN, 1x COCO; same recipe
# as the 15M config (AdamW lr 2e-4, wd 0.05, total batch 16).
_base_ = ['./mask-rcnn_metaspikeformer-15m-t1_spikefpn_1x_coco.py']

# ImageNet-1k weights of the paper's 55M T=1 model, converted with
# tools/model_converters/sdtv2_to_spikedet.py ... --arch 55m.
pretrained = 'checkpoints/metaspikeformer-55m_t1_in1k.pth'

model = dict(
    backbone=dict(
        arch='55m',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[128, 256, 512, 640]))
