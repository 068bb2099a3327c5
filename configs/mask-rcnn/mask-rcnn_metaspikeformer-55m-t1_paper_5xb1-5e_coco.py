# Paper reproduction: Mask R-CNN, Meta-SpikeFormer-55M, T=1, spike-driven
# from backbone to heads, COCO 2017 instances.
#
# Reproduces the official config mask-rcnn_sdt-t_fpn_1x_coco.py
# (BICLab/Spike-Driven-Transformer-V2, commit cad35f9, detection/configs/
# sdt_mask_rcnn/) with its 55M backbone (embed 128/256/512/640, the
# commented alternative there): the 15M paper config
# mask-rcnn_metaspikeformer-15m-t1_paper_5xb1-5e_coco.py with the 55M backbone;
# recipe and corrected stride labels as there.
# Remaining differences: those listed there.
# The backbone starts from the converted ImageNet 55M T=1 weights.
_base_ = ['./mask-rcnn_metaspikeformer-15m-t1_paper_5xb1-5e_coco.py']

pretrained = 'checkpoints/metaspikeformer-55m_t1_in1k.pth'

model = dict(
    backbone=dict(
        arch='55m',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(in_channels=[128, 256, 512, 640]))
