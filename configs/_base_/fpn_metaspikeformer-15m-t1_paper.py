# Shared part of the paper-reproduction Semantic FPN configs
# (configs/sem-fpn/*_paper_*.py): the model, optimizer, schedule and hooks of
# the paper's code (BICLab/Spike-Driven-Transformer-V2, commit 953aacc,
# segmentation/configs/sem_sdt/fpn_SDT_512x512_384_ade20k.py, with its bases
# _base_/models/fpn_snn_r50.py and _base_/schedules/schedule_160k.py), for
# Meta-SpikeFormer-15M at T=1. The dataset comes from the leaf config.
#
# The official backbone returns four maps, each averaged over the T time
# steps with the time axis kept (length 1), so its spiking neck (FPN_SNN)
# and head (FPNHead_SNN) run at T=1:
#   the stem (stride 2, 32 channels), stage 0 (stride 4, 64), stage 1
#   (stride 8, 128) and the last stage (stride 16, 360: its downsampling has
#   stride 1); stage 2 (stride 16, 256) is not used.
# The official config labels these levels with strides 4, 8, 16, 32; the
# head only uses their ratios (one 3x3 unit for each of the two finest
# levels, two and three units with 2x upsampling for the others), so the
# true strides 2, 4, 8, 16 given here build the same head.
_base_ = ['mmseg::_base_/default_runtime.py']

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmseg'

norm_cfg = dict(type='SyncBN', requires_grad=True)
# 512x512 crops (crop_size comes with the dataset base).
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='spikedet.MetaSpikeFormer',
        arch='15m',
        T=1,
        last_stride=1,
        out_stem=True,
        out_indices=(0, 1, 3),
        keep_time=True,
        average_time=True,
        drop_path_rate=0.,
        # ImageNet-1k weights converted from the paper's release with
        # tools/model_converters/sdtv2_to_spikedet.py (keys 'backbone.*').
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/metaspikeformer-15m_t1_in1k.pth',
            prefix='backbone.')),
    # LIF -> conv laterals and outputs, no norm, no activation; T=1 because
    # the backbone averaged over time.
    neck=dict(
        type='spikedet.SpikingFPN',
        in_channels=[32, 64, 128, 360],
        out_channels=128,
        num_outs=4,
        T=1,
        norm_cfg=None),
    decode_head=dict(
        type='spikedet.SpikingFPNHead',
        in_channels=[128, 128, 128, 128],
        in_index=[0, 1, 2, 3],
        feature_strides=[2, 4, 8, 16],
        channels=128,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

# AdamW, the head at twice the lr ('head' matches decode_head.*; the
# backbone has no parameter named so), full precision.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.005),
    paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=2.))))
# 1500 iterations of linear warmup, then linear decay to 0 at 160k.
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        eta_min=0.,
        power=1.,
        by_epoch=False,
        begin=1500,
        end=160000),
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=160000, val_interval=8000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=16000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
