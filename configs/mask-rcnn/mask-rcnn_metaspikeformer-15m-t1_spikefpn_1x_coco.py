# Mask R-CNN with a Meta-SpikeFormer-15M backbone (T=1) and a spiking FPN on
# COCO 2017 instances, 1x schedule (12 epochs), total batch 16 (8 GPUs x 2).
#
# Backbone: keep_time=True hands the neck time-major maps [T, B, C, H, W];
# last_stride=2 gives true strides 4/8/16/32 (the paper's code keeps stride
# 16 in its last stage but labels it 32). Neck: spikedet.SpikingFPN (LIF ->
# conv -> BN laterals and outputs, membrane top-down sum), outputs averaged
# over T, so mmdet's stock RPN/RoI heads follow (the ANN-head variant of
# the spike-driven ...-spikefpn-spikeheads_1x_coco.py). Data, heads and
# evaluation (CocoMetric bbox + segm) are mmdet's own Mask R-CNN 1x files.
# Optimiser: AdamW lr 2e-4, betas (0.9, 0.999), weight decay 0.05 as the
# paper's T=4 run (none on norm layers); the schedule is mmdet's 1x (warmup
# 1000 iterations, x0.1 at epochs 8 and 11), not the paper's. The paper's
# recipes (stride-16 last stage, no neck norm, spiking heads, warmup 4000
# iterations + linear decay, batch 5/6, DETR-style augmentation) are the
# *_paper_* configs.
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/coco_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmdet'

# Pretrained backbone: ImageNet-1k weights of the paper, converted to
# spikedet's layout (keys 'backbone.*', 'head.*'); init_cfg loads the
# 'backbone.' part strictly. Convert the released checkpoint once:
#   python tools/model_converters/sdtv2_to_spikedet.py \
#       <official 15M T=1 .pth> checkpoints/metaspikeformer-15m_t1_in1k.pth \
#       --arch 15m
# Another file: --cfg-options model.backbone.init_cfg.checkpoint=PATH.
# From scratch: --cfg-options model.backbone.init_cfg=None.
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
# Total batch 16 = 8 GPUs x 2; --auto-scale-lr rescales lr for other totals.
auto_scale_lr = dict(enable=False, base_batch_size=16)
