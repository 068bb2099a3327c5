# RetinaNet (one-stage) with a Meta-SpikeFormer-15M backbone (T=1) and a
# spiking FPN on COCO 2017 boxes, 1x schedule, total batch 16 (8 GPUs x 2).
#
# As mmdet's RetinaNet: the neck starts at the stride-8 level and adds two
# extra levels by stride-2 convs on the last backbone map (here spiking:
# LIF -> 3x3 stride-2 conv -> BN), giving strides 8-128 for the anchors.
# Optimiser: AdamW lr 2e-4, wd 0.05 (none on norm layers), as the paper's
# RetinaNet code; the schedule is mmdet's 1x (warmup 1000 iterations, x0.1
# at epochs 8 and 11), not the paper's 36 epochs: for the paper's recipe
# see retinanet_metaspikeformer-15m-t1_paper_3xb2-36e_coco.py.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    'mmdet::_base_/datasets/coco_detection.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmdet'

# ImageNet-1k weights of the paper, converted with
# tools/model_converters/sdtv2_to_spikedet.py (keys 'backbone.*'); see
# configs/mask-rcnn/mask-rcnn_metaspikeformer-15m-t1_spikefpn_1x_coco.py.
pretrained = 'checkpoints/metaspikeformer-15m_t1_in1k.pth'
T = 1

model = dict(
    backbone=dict(
        _delete_=True,
        type='spikedet.MetaSpikeFormer',
        arch='15m',
        T=T,
        last_stride=2,
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
        start_level=1,
        add_extra_convs='on_input',
        num_outs=5,
        T=T,
        time_aggregation='mean'))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        _delete_=True,
        type='AdamW',
        lr=2e-4,
        betas=(0.9, 0.999),
        weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=16)
