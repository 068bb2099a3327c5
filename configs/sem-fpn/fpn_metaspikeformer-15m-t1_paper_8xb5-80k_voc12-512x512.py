# Paper reproduction: Semantic FPN with Meta-SpikeFormer-15M at T=1 on
# PASCAL VOC 2012 (train 1464 / val 1449 images), 512x512 crops.
#
# Reproduces BICLab/Spike-Driven-Transformer-V2 (commit 953aacc)
# segmentation/configs/sem_sdt/fpn_SDT_512x512_384_voc2012.py: the model of
# the ADE20K reproduction (stem / stage 0 / stage 1 / stage 3 pyramid
# averaged over time, spiking FPN neck without norm, spiking head, ImageNet
# backbone weights), AdamW lr 1e-3 (head x2, weight decay 0.005, no AMP),
# 1500 warmup iterations then linear decay to 0 at 80k, 80k iterations,
# validation and checkpoints every 8k, mmseg's VOC 2012 pipeline (random
# resize 2048x512 x0.5-2, crop 512, flip, photometric distortion), 5 images
# per GPU (8 GPUs per the file's comment).
#
# Remaining differences from the official file:
# * 21 classes (the official head keeps ADE20K's num_classes=150 on VOC's
#   21 classes);
# * true strides 2-16 instead of the labels 4-32, strict loading, neurons
#   reset inside every forward.
_base_ = [
    '../_base_/fpn_metaspikeformer-15m-t1_paper.py',
    'mmseg::_base_/datasets/pascal_voc12.py',
]

model = dict(decode_head=dict(num_classes=21))
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
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
train_dataloader = dict(batch_size=5)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
auto_scale_lr = dict(enable=False, base_batch_size=40)
