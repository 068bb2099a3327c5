# Spikformer-8-384 (8 blocks, 384 channels), T=4, ImageNet-1k at 224x224,
# trained from scratch.
#
# The recipe of the Spikformer code (imagenet/imagenet.yml and the defaults
# of imagenet/train.py, timm 0.5.4):
# - 300 epochs + 10 cool-down epochs at the minimum lr, total batch 192
#   (8 GPUs x 24), AdamW lr 5e-4 (not scaled by batch), weight decay 0.05
#   (none on biases and BN);
# - per epoch: 20 epochs of linear warmup from 1e-6, then cosine to 1e-5
#   (timm evaluates its cosine from epoch 0, here it runs from epoch 20: the
#   lr differs by at most 1.1%);
# - no drop path (train.py asks for 0.2, but the blocks never apply it);
# - RandomResizedCrop 224 of the full area (scale (1, 1), aspect 3/4-4/3,
#   bicubic), flip, RandAugment rand-m9-mstd0.5-inc1, random erasing p=0.25
#   with the mean colour, mixup 0.8 / cutmix 1.0 (one of the two per batch),
#   label smoothing 0.1;
# - evaluation: resize the short side to 224 (crop_pct 1.0), center crop;
# - fp16 AMP (AmpOptimWrapper; on CPU add
#   --cfg-options optim_wrapper.type=OptimWrapper).
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmpretrain'

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='spikedet.Spikformer',
        arch='8-384',
        T=4,
        out_indices=(-1, ),
        keep_time=True,
        drop_path_rate=0.),
    head=dict(
        type='spikedet.SpikingClsHead',
        num_classes=1000,
        in_channels=384,
        spike_before_fc=False,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]))

bgr_mean = [103.53, 116.28, 123.675]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(1.0, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(
            pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='const',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=bgr_mean),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=224,
        edge='short',
        backend='pillow',
        interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=24, num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=24, num_workers=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-4, weight_decay=0.05, betas=(0.9, 0.999),
        eps=1e-8),
    paramwise_cfg=dict(flat_decay_mult=0., bias_decay_mult=0.))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 5e-4,
        by_epoch=True,
        begin=0,
        end=20),
    dict(
        type='CosineAnnealingLR',
        T_max=280,
        eta_min=1e-5,
        by_epoch=True,
        begin=20,
        end=300),
]

# Epochs 300-309 keep the last lr (1e-5): timm's cool-down.
train_cfg = dict(by_epoch=True, max_epochs=310, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=8 * 24)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(
        type='CheckpointHook', interval=10, max_keep_ckpts=3,
        save_best='auto'))
