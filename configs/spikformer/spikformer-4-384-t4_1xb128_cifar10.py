# Spikformer-4-384 (4 blocks, 384 channels, 12 heads, patch size 4), T=4,
# CIFAR-10 at 32x32, trained from scratch.
#
# The recipe of the Spikformer code (cifar10/cifar10.yml, cifar10/train.py,
# timm 0.5.4):
# - 300 epochs + 10 cool-down epochs at the minimum lr, batch 128 on one GPU,
#   AdamW lr 5e-4, weight decay 0.06 (none on biases and BN);
# - per epoch: 20 epochs of linear warmup from 1e-5, then cosine to 1e-5;
# - no drop path;
# - no crop (scale and aspect ratio fixed at 1), flip, RandAugment
#   rand-m9-n1-mstd0.4-inc1 (one op per image), random erasing p=0.25 with
#   the mean colour, mixup 0.5 (no cutmix) switched off from epoch 200,
#   label smoothing 0.1;
# - normalisation with the CIFAR-10 mean and std of the Spikformer code;
# - fp16 AMP (AmpOptimWrapper; on CPU add
#   --cfg-options optim_wrapper.type=OptimWrapper).
# mmpretrain's CIFAR10 dataset downloads the data into data/cifar10 if it is
# not there.
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmpretrain'

# RGB (CIFAR10 loads RGB images).
mean = [0.4914 * 255, 0.4822 * 255, 0.4465 * 255]
std = [0.2470 * 255, 0.2435 * 255, 0.2616 * 255]
data_preprocessor = dict(num_classes=10, mean=mean, std=std, to_rgb=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='spikedet.Spikformer',
        arch='4-384',
        T=4,
        out_indices=(-1, ),
        keep_time=True,
        drop_path_rate=0.),
    head=dict(
        type='spikedet.SpikingClsHead',
        num_classes=10,
        in_channels=384,
        spike_before_fc=False,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.5)]))

train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=1,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.4,
        hparams=dict(
            pad_val=[round(x) for x in mean], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='const',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=mean),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='PackInputs')]

train_dataloader = dict(
    batch_size=128, num_workers=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128, num_workers=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-4, weight_decay=0.06, betas=(0.9, 0.999),
        eps=1e-8),
    paramwise_cfg=dict(flat_decay_mult=0., bias_decay_mult=0.))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-5 / 5e-4,
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

auto_scale_lr = dict(base_batch_size=128)

custom_hooks = [
    # timm's mixup_off_epoch: no mixup from epoch 200 (labels stay smoothed).
    dict(
        type='SwitchRecipeHook',
        schedule=[dict(action_epoch=200, batch_augments=None)]),
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(
        type='CheckpointHook', interval=10, max_keep_ckpts=3,
        save_best='auto'))
