# Spikformer-2-256 (2 blocks, 256 channels, 16 heads, patch size 16), T=16,
# CIFAR10-DVS at 128x128, trained from scratch: the model and recipe of the
# official CIFAR10-DVS code (github.com/ZK-Zhou/spikformer, cifar10dvs/
# model.py and cifar10dvs/train.py). Not trained here (no GPU). Official
# checkpoints of that code convert strictly to this arch ('dvs-2-256') with
# tools/model_converters/spikformer_to_spikedet.py.
#
# Data: reads a spikingjelly-processed CIFAR10-DVS folder, i.e. the
# ``root`` spikingjelly's ``CIFAR10DVS`` dataset class converts into
# ``events_np/<class>/<file>.npz`` (keys t, x, y, p); point data_root at it:
#
#   python -c "from spikingjelly.datasets.cifar10_dvs import CIFAR10DVS; \
#              CIFAR10DVS('data/cifar10dvs', data_type='event')"
#
# CIFAR10-DVS has no train/test division: as the official code
# (split_to_train_test_set(0.9, ..., random_split=False)), the first 90% of
# each class (sorted file names) train, the rest test.
#
# The official recipe, as read from cifar10dvs/train.py and model.py:
# - frames: spikingjelly's integration into T=16 frames split by event
#   count ('number'), raw counts (no normalisation);
# - the CIFAR10-DVS arch: Spiking Patch Splitting with a max-pool after each
#   of its 4 conv layers (128 -> 8x8 tokens), attention scale 0.25, bias-
#   free Q/K/V, 16 heads, MLP ratio 4, drop path 0.1; a linear head on the
#   mean over tokens and time (no spike before it);
# - AdamW lr 1e-3, weight decay 0.06, batch 16, 96 epochs of cosine decay to
#   1e-5 after 10 warmup epochs from 1e-5, then 10 cool-down epochs;
# - horizontal flip, mixup 0.5 with label smoothing 0.1, AMP.
# Not reproduced: the official per-sample SNNAugmentWide (its own
# TrivialAugment variant for event frames) and the timm mixup/cutmix switch
# probabilities (mmpretrain's Mixup mixes every batch).
_base_ = ['mmpretrain::_base_/default_runtime.py']

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmpretrain'

T = 16
num_classes = 10
sensor_size = 128

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='spikedet.EventClsDataPreprocessor',
        num_frames=T,
        num_classes=num_classes),
    backbone=dict(
        type='spikedet.Spikformer',
        arch='dvs-2-256',
        T=T,
        in_channels=2,
        out_indices=(-1, ),
        keep_time=True,
        drop_path_rate=0.1),
    head=dict(
        type='spikedet.SpikingClsHead',
        num_classes=num_classes,
        in_channels=256,
        spike_before_fc=False,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.5)]))

dataset_type = 'spikedet.EventFolderDataset'
data_root = 'data/cifar10dvs'
train_pipeline = [
    dict(type='spikedet.LoadEventStream', sensor_size=sensor_size),
    dict(type='spikedet.IntegrateEvents', num_frames=T, split_by='number'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='spikedet.LoadEventStream', sensor_size=sensor_size),
    dict(type='spikedet.IntegrateEvents', num_frames=T, split_by='number'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='events_np',
        split='train',
        train_ratio=0.9,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='events_np',
        split='test',
        train_ratio=0.9,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator

# fp16 AMP as the official code; on CPU add
# --cfg-options optim_wrapper.type=OptimWrapper
optim_wrapper = dict(
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, weight_decay=0.06, betas=(0.9, 0.999),
        eps=1e-8),
    paramwise_cfg=dict(flat_decay_mult=0., bias_decay_mult=0.))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-5 / 1e-3,
        by_epoch=True,
        begin=0,
        end=10),
    dict(
        type='CosineAnnealingLR',
        T_max=86,
        eta_min=1e-5,
        by_epoch=True,
        begin=10,
        end=96),
]
# Epochs 96-105 keep the last lr (1e-5): timm's cool-down.
train_cfg = dict(by_epoch=True, max_epochs=106, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=2, save_best='auto'))
