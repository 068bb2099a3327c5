# Paper reproduction: Semantic FPN with Meta-SpikeFormer-55M at T=1 on
# PASCAL VOC 2012, 512x512 crops.
#
# Reproduces BICLab/Spike-Driven-Transformer-V2 (commit 953aacc)
# segmentation/configs/sem_sdt/fpn_SDT_512x512_512_voc2012.py: the 15M T=1
# VOC reproduction with the 55M pyramid (64, 128, 256, 640 channels), a
# 256-channel neck and head, and the file's lr 5e-4 (0.001 x its
# gpu_multiples 0.5; head x2, weight decay 0.005, no AMP); 1500 warmup
# iterations then linear decay to 0 at 80k, 80k iterations, validation and
# checkpoints every 8k, 5 images per GPU (8 GPUs per the file's comment).
#
# Remaining differences from the official file:
# * backbone weights: the file first names the 55M ImageNet checkpoint
#   (checkpoint-199.pth) and then overrides it with an earlier VOC run's
#   checkpoint (fpn_SDT_512x512_voc2012/iter-80000.pth) whose recipe is not
#   published; this config starts from the ImageNet weights;
# * 21 classes instead of 150; true strides 2-16 instead of the labels
#   4-32; strict loading; neurons reset inside every forward.
_base_ = ['./fpn_metaspikeformer-15m-t1_paper_8xb5-80k_voc12-512x512.py']

model = dict(
    backbone=dict(
        arch='55m',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/metaspikeformer-55m_t1_in1k.pth',
            prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 256, 640], out_channels=256),
    decode_head=dict(in_channels=[256, 256, 256, 256], channels=256))
optim_wrapper = dict(optimizer=dict(lr=5e-4))
