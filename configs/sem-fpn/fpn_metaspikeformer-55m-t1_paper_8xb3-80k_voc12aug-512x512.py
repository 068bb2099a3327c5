# Paper reproduction: Semantic FPN with Meta-SpikeFormer-55M at T=1 on
# PASCAL VOC 2012 with the SBD augmented annotations, 512x512 crops.
#
# Reproduces BICLab/Spike-Driven-Transformer-V2 (commit 953aacc)
# segmentation/configs/sem_sdt/fpn_SDT_512x512_512_voc12aug.py: the 15M
# VOC-aug reproduction with the 55M pyramid (64, 128, 256, 640 channels), a
# 256-channel neck and head, AdamW lr 1e-3 with the head at x10 (weight
# decay 0.005, no AMP), 1500 warmup iterations then linear decay to 0 at
# 80k, 80k iterations, validation every 5k, checkpoints every 8k, 3 images
# per GPU (8 GPUs per the file's comment).
#
# Remaining differences from the official file: 21 classes instead of 150;
# true strides 2-16 instead of the labels 4-32; strict loading; neurons
# reset inside every forward.
_base_ = ['./fpn_metaspikeformer-15m-t1_paper_8xb10-80k_voc12aug-512x512.py']

model = dict(
    backbone=dict(
        arch='55m',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/metaspikeformer-55m_t1_in1k.pth',
            prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 256, 640], out_channels=256),
    decode_head=dict(in_channels=[256, 256, 256, 256], channels=256))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        eta_min=0.,
        power=1.,
        by_epoch=False,
        begin=1500,
        end=80000),
]
train_cfg = dict(val_interval=5000)
train_dataloader = dict(batch_size=3)
auto_scale_lr = dict(base_batch_size=24)
