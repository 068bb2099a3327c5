# Paper reproduction: Semantic FPN with Meta-SpikeFormer-55M at T=1 on
# ADE20K, 512x512 crops.
#
# Reproduces BICLab/Spike-Driven-Transformer-V2 (commit 953aacc)
# segmentation/configs/sem_sdt/fpn_SDT_512x512_512_ade20k.py: as the 15M
# T=1 reproduction (same recipe: AdamW lr 1e-3, head x2, weight decay
# 0.005, no AMP, warmup 1500 then linear decay to 0 at 160k, validation
# every 8k) with the 55M pyramid (stem / stage 0 / stage 1 / stage 3: 64,
# 128, 256, 640 channels), a 256-channel neck and head, and 5 images per GPU
# (8 GPUs per the file's comment).
#
# Remaining differences from the official file: true strides 2-16 instead
# of the labels 4-32, strict loading, neurons reset inside every forward.
_base_ = ['./fpn_metaspikeformer-15m-t1_paper_8xb1-160k_ade20k-512x512.py']

model = dict(
    backbone=dict(
        arch='55m',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/metaspikeformer-55m_t1_in1k.pth',
            prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 256, 640], out_channels=256),
    decode_head=dict(in_channels=[256, 256, 256, 256], channels=256))
train_dataloader = dict(batch_size=5)
auto_scale_lr = dict(base_batch_size=40)
