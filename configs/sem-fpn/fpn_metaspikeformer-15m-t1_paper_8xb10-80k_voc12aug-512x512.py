# Paper reproduction: Semantic FPN with Meta-SpikeFormer-15M at T=1 on
# PASCAL VOC 2012 with the SBD augmented annotations (10582 train images),
# 512x512 crops.
#
# Reproduces BICLab/Spike-Driven-Transformer-V2 (commit 953aacc)
# segmentation/configs/sem_sdt/fpn_SDT_512x512_384_voc12aug.py: the model
# of the VOC 2012 reproduction, AdamW lr 1e-3 with the head at x10 (weight
# decay 0.005, no AMP), 1500 warmup iterations then a linear decay planned
# for 160k iterations, stopped at 80k; validation and checkpoints every 8k;
# 10 images per GPU (8 GPUs per the file's comment); mmseg's VOC-aug data
# (train + aug lists, SegmentationClassAug; convert SBD with mmseg's
# tools/dataset_converters/voc_aug.py).
#
# Remaining differences from the official file: 21 classes instead of 150;
# true strides 2-16 instead of the labels 4-32; strict loading; neurons
# reset inside every forward.
_base_ = [
    '../_base_/fpn_metaspikeformer-15m-t1_paper.py',
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
]

model = dict(decode_head=dict(num_classes=21))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.))))
# The base's warmup and linear decay to 0 at 160k, stopped at 80k.
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=8000))
train_dataloader = dict(batch_size=10)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
auto_scale_lr = dict(enable=False, base_batch_size=80)
