# Paper reproduction: Cascade Mask R-CNN, Meta-SpikeFormer-15M, T=1,
# spike-driven from backbone to heads (three spiking cascade stages), COCO
# 2017 instances.
#
# Reproduces the official config cascade_mask-rcnn_sdt-t_fpn_1x_coco.py
# (BICLab/Spike-Driven-Transformer-V2, commit cad35f9, detection/configs/
# sdt_mask_rcnn/), point by point:
# * backbone: Meta-SpikeFormer 15M, T=1, ImageNet-pretrained, last stage at
#   stride 16 (last_stride=1), time-major into the neck;
# * neck: spiking FPN without norm, 256 channels, 5 levels (the 5th by 1x1
#   max-pooling), time-major into the heads;
# * RPN: spiking RPN head, smooth-L1 box loss (beta 1/9) as mmdet's Cascade
#   base;
# * RoI: spiking Cascade RoI head (3 stages, loss weights 1/0.5/0.25,
#   RoIAlign on each time step's maps); per stage a spiking bbox head with 4
#   shared convs (SyncBN) and 1 fc (1024), GIoU loss (weight 10) on decoded
#   boxes, target stds 0.1/0.2, 0.05/0.1, 0.033/0.067; spiking FCN mask
#   head (4 convs) per stage;
# * data: flip, then DETR-style augmentation: one of multi-scale resize
#   (short side 480-800 by 32, long side <= 1333) or resize-crop-resize
#   (400/500/600, absolute-range crop 384-600, 480-800);
# * optimiser: AdamW lr 2e-4, betas (0.9, 0.999), weight decay 0.05 (custom
#   key 'norm': decay_mult 0);
# * schedule: 36 epochs, linear warmup over 1000 iterations, x0.1 at epochs
#   27 and 33;
# * batch: 2 images per GPU (mmdet's default).
# Strides: the official labels the stride-16 output of stage 4 as 32
# (anchor strides 4-64, RoI strides 4-32). Here: anchor strides 4, 8, 16,
# 16, 32 with the official anchor sizes (base_sizes), RoI strides 4, 8, 16,
# 16: the official resolution with correct labels.
# Remaining differences:
# * the number of GPUs of the official run is not recorded; 3 x 2 (total 6,
#   as the official T=4 Mask R-CNN) is assumed here;
# * head units are LIF -> conv/fc (-> norm) without mmcv ConvModule's ReLU,
#   and the bbox predictors read spikes (officially the fc's membrane
#   potentials); neurons are spikedet's LIF (any backend).
_base_ = [
    'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/detr-augment_coco.py',
]

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmdet'

pretrained = 'checkpoints/metaspikeformer-15m_t1_in1k.pth'
T = 1
featmap_strides = [4, 8, 16, 16]


def stage_head(stds):
    return dict(
        type='spikedet.SpikingConvFCBBoxHead',
        num_shared_convs=4,
        num_shared_fcs=1,
        in_channels=256,
        conv_out_channels=256,
        fc_out_channels=1024,
        roi_feat_size=7,
        num_classes=80,
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0., 0., 0., 0.],
            target_stds=stds),
        reg_class_agnostic=False,
        reg_decoded_bbox=True,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='GIoULoss', loss_weight=10.0))


model = dict(
    backbone=dict(
        _delete_=True,
        type='spikedet.MetaSpikeFormer',
        arch='15m',
        T=T,
        last_stride=1,
        out_indices=(0, 1, 2, 3),
        keep_time=True,
        drop_path_rate=0.,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(
        _delete_=True,
        type='spikedet.SpikingFPN',
        in_channels=[64, 128, 256, 360],
        out_channels=256,
        num_outs=5,
        T=T,
        norm_cfg=None,
        time_aggregation=None),
    rpn_head=dict(
        type='spikedet.SpikingRPNHead',
        T=T,
        anchor_generator=dict(
            strides=[4, 8, 16, 16, 32], base_sizes=[4, 8, 16, 32, 64])),
    roi_head=dict(
        type='spikedet.SpikingCascadeRoIHead',
        T=T,
        bbox_roi_extractor=dict(featmap_strides=featmap_strides),
        bbox_head=[
            stage_head([0.1, 0.1, 0.2, 0.2]),
            stage_head([0.05, 0.05, 0.1, 0.1]),
            stage_head([0.033, 0.033, 0.067, 0.067]),
        ],
        mask_roi_extractor=dict(featmap_strides=featmap_strides),
        mask_head=dict(type='spikedet.SpikingFCNMaskHead')))

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomChoice',
        transforms=[{{_base_.multi_scale_resize}},
                    {{_base_.resize_crop_resize}}]),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))

max_epochs = 36
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[27, 33],
        gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        _delete_=True,
        type='AdamW',
        lr=2e-4,
        betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
auto_scale_lr = dict(enable=False, base_batch_size=6)
