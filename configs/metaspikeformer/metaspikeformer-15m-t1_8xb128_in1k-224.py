# Meta-SpikeFormer-15M (Spike-driven Transformer V2), T=1, ImageNet-1k at
# 224x224, trained from scratch.
#
# The paper's recipe, as its classification code runs it (train.sh and the
# defaults of main_finetune.py):
# - 200 epochs, total batch 1024 (8 GPUs x 128), LAMB (trust ratio clipped
#   at 1; the script's AdamW line is commented out), lr = 6e-4 x 1024 / 256,
#   weight decay 0.05 on every weight of 2+ dims (none on biases and BN);
# - 10 epochs of linear warmup, then cosine to 1e-6, both per iteration;
# - layer-wise lr decay 1.0 (its default, i.e. off);
# - RandomResizedCrop 224 (bicubic), flip, RandAugment rand-m9-mstd0.5-inc1,
#   random erasing p=0.25 with per-pixel noise, label smoothing 0.1; mixup
#   and cutmix are off (their alphas default to 0 and train.sh keeps them);
#   drop path is off (the script never passes --drop_path to the model);
# - evaluation: resize the short side to 256 (bicubic), center crop 224;
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
        type='spikedet.MetaSpikeFormer',
        arch='15m',
        T=1,
        out_indices=(3, ),
        keep_time=True,
        drop_path_rate=0.),
    head=dict(
        type='spikedet.SpikingClsHead',
        num_classes=1000,
        in_channels=360,
        spike_before_fc=True,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)),
    # No mixup/cutmix in the paper's runs. To add them:
    # train_cfg=dict(augments=[
    #     dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]),
)

# Data: the base's pipelines are the timm pipelines of the paper's code.
train_dataloader = dict(batch_size=128, num_workers=10)
val_dataloader = dict(batch_size=128, num_workers=10)
test_dataloader = val_dataloader

# Schedule.
total_batch = 8 * 128
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(
        type='Lamb',
        lr=6e-4 * total_batch / 256,
        weight_decay=0.05,
        trust_clip=True),
    constructor='spikedet.SpikingLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=1.0, flat_decay_mult=0.))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=190,
        eta_min=1e-6,
        by_epoch=True,
        begin=10,
        end=200,
        convert_to_iter_based=True),
]

train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# lr above is for a total batch of 1024; --auto-scale-lr rescales it.
auto_scale_lr = dict(base_batch_size=total_batch)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100),
    checkpoint=dict(
        type='CheckpointHook', interval=10, max_keep_ckpts=3,
        save_best='auto'))
