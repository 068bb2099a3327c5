# Quickstart: a tiny Meta-SpikeFormer classifier (T=1) on Fashion-MNIST that
# trains on a laptop CPU in minutes and is scored by mmpretrain's Accuracy.
# Convert the data first (see the README, section 'Data'); it lands in
# data/fashion_mnist (28x28 grayscale PNGs + meta/{train,test}.txt).
#
#   python tools/train.py \
#       configs/quickstart/metaspikeformer-tiny-t1_fashion-mnist.py
#
# The ImageNet model family and head (spiking backbone with time-keeping
# output, LIF before the linear classifier), scaled down: one grayscale
# input channel, images resized to 32x32, 1200 iterations of batch 32 (about
# 0.6 epoch) with AdamW, warmup and cosine decay, no AMP, so it runs on CPU.
#
# Two settings differ from the paper's: at 32x32 the Transformer stages see
# 2x2 tokens, too few for the spike-driven attention to fire with the
# paper's neurons (threshold 1.0) and 8 heads. A silent attention feeds
# constant inputs to the BatchNorms of its projection, whose gradients then
# blow up (1/sqrt(eps)) and swamp training. One head and a threshold of 0.5
# for every neuron keep it firing.
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmpretrain'

# = spikedet.datasets.fashion_mnist.FASHION_MNIST_CLASSES (label k is [k]).
classes = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
           'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
embed_dims = [16, 32, 64, 128]
neuron_cfg = dict(v_threshold=0.5)

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        num_classes=len(classes),
        # Fashion-MNIST's pixel mean and std (grayscale).
        mean=[72.94],
        std=[90.02],
        to_rgb=False),
    backbone=dict(
        type='spikedet.MetaSpikeFormer',
        arch=dict(
            embed_dims=embed_dims,
            depths=[1, 1, 1, 1],
            num_heads=1,
            mlp_ratio=4),
        T=1,
        in_channels=1,
        out_indices=(3, ),
        keep_time=True,
        neuron_cfg=neuron_cfg),
    head=dict(
        type='spikedet.SpikingClsHead',
        num_classes=len(classes),
        in_channels=embed_dims[-1],
        neuron_cfg=neuron_cfg,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))

dataset_type = 'CustomDataset'
data_root = 'data/fashion_mnist'
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix='',
        classes=classes,
        pipeline=train_pipeline),
    sampler=dict(type='InfiniteSampler', shuffle=True))
val_dataloader = dict(
    batch_size=128,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/test.txt',
        data_prefix='',
        classes=classes,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

max_iters = 1200
warmup_iters = 50
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    paramwise_cfg=dict(flat_decay_mult=0.))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-2,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        eta_min=0.,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters),
]
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
