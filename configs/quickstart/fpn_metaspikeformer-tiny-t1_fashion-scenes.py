# Quickstart: a tiny spiking Semantic FPN on the fashion-scenes dataset
# (128x128 scenes of Fashion-MNIST items; 11 classes with background) that
# trains on a laptop CPU in minutes. Generate the data first (see the README,
# section 'Data'); it lands in data/fashion_scenes.
#
#   python tools/train.py \
#       configs/quickstart/fpn_metaspikeformer-tiny-t1_fashion-scenes.py
#
# Same model family as our ADE20K configs in configs/sem-fpn/ (spiking
# backbone with stages 0-3 at strides 4-32, spiking FPN neck with BN,
# spiking FPN head), scaled down, with its own optimizer settings (below);
# no AMP, so it runs on CPU. The paper's pyramid (stem, stages 0, 1, 3) is
# in fpn_metaspikeformer-tiny-t1_paper-pyramid_fashion-scenes.py.
_base_ = ['mmseg::_base_/default_runtime.py']

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmseg'

T = 1
num_classes = 11
# = spikedet.datasets.fashion_scenes.SCENE_SEG_CLASSES (label 0 is the
# background, a real class that is trained and evaluated).
classes = ('background', 'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
           'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
palette = [(0, 0, 0), (31, 119, 180), (255, 127, 14), (44, 160, 44),
           (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194),
           (127, 127, 127), (188, 189, 34), (23, 190, 207)]
norm_cfg = dict(type='BN', requires_grad=True)
crop_size = (128, 128)
embed_dims = [16, 32, 64, 128]
max_iters = 2000

model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size),
    backbone=dict(
        type='spikedet.MetaSpikeFormer',
        arch=dict(
            embed_dims=embed_dims,
            depths=[1, 1, 1, 1],
            num_heads=4,
            mlp_ratio=4),
        T=T,
        last_stride=2,
        out_indices=(0, 1, 2, 3),
        keep_time=True),
    neck=dict(
        type='spikedet.SpikingFPN',
        in_channels=embed_dims,
        out_channels=32,
        num_outs=4,
        T=T,
        time_aggregation='mean',
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='spikedet.SpikingFPNHead',
        in_channels=[32, 32, 32, 32],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=32,
        dropout_ratio=0.1,
        num_classes=num_classes,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        # PyTorch's default init of the classifier instead of mmseg's
        # Normal(std=0.01): from scratch, the tiny logits of binary spikes
        # kept this small model predicting only background for 1000s of
        # iterations.
        init_cfg=None),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

dataset_type = 'BaseSegDataset'
data_root = 'data/fashion_scenes'
metainfo = dict(classes=classes, palette=palette)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=False),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        reduce_zero_label=False,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        reduce_zero_label=False,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# The ADE20K recipe's optimizer with a 4x larger lr and linear decay: this
# tiny model starts from scratch (no ImageNet weights) and must learn in a
# few CPU minutes.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=4e-3, betas=(0.9, 0.999), weight_decay=0.005),
    paramwise_cfg=dict(
        custom_keys=dict(neck=dict(lr_mult=2.), head=dict(lr_mult=2.))))
# No warmup: on this from-scratch model a warmup from a tiny lr left it
# predicting only background for far longer.
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.,
        power=1.,
        by_epoch=False,
        begin=0,
        end=max_iters),
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
randomness = dict(seed=0)
