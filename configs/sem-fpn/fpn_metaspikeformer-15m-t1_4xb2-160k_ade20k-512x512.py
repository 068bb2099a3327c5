# Semantic FPN with Meta-SpikeFormer-15M (T=1) on ADE20K, 512x512 crops.
#
# Our recipe, after the paper's (for the paper's own runs see
# fpn_metaspikeformer-*_paper_*.py): stages 0-3 at their true strides
# 4, 8, 16, 32 (last_stride=2), a spiking FPN neck with BN (LIF -> conv ->
# norm; membrane top-down sum) that runs over the T time steps and averages
# its outputs over time, and the Semantic FPN head with spiking convs
# (spikedet.SpikingFPNHead), which then fires once on them.
# The paper's code differs: its pyramid is the stem and stages 0, 1 and 3
# (strides 2, 4, 8, 16), averaged over time before a neck without norm
# (neck and head at T=1); its T=1 run has no AMP, the neck at x1 lr and 1
# image per GPU.
# Schedule: AdamW lr 1e-3 (neck and heads x2), 1500 iterations of linear
# warmup, then linear ("poly", power 1) decay to 0 at 160k iterations, as
# the paper's code; total batch 8 (4 GPUs x 2 images), fp16 AMP (GPU only:
# on CPU add --cfg-options optim_wrapper.type=OptimWrapper).
_base_ = ['mmseg::sem_fpn/fpn_r50_4xb4-160k_ade20k-512x512.py']

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmseg'

# ImageNet-1k weights of the backbone, converted from the paper's release
# with tools/model_converters/sdtv2_to_spikedet.py (keys 'backbone.*').
pretrained = 'checkpoints/metaspikeformer-15m_t1_in1k.pth'
T = 1
norm_cfg = dict(type='SyncBN', requires_grad=True)
crop_size = (512, 512)

model = dict(
    # mmseg's base sets an ImageNet ResNet here; the spiking backbone gets
    # its weights through init_cfg instead.
    pretrained=None,
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
        out_channels=128,
        num_outs=4,
        T=T,
        time_aggregation='mean',
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='spikedet.SpikingFPNHead',
        in_channels=[128, 128, 128, 128],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=128,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False))

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.005),
    paramwise_cfg=dict(
        custom_keys=dict(neck=dict(lr_mult=2.), head=dict(lr_mult=2.))))
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
    type='IterBasedTrainLoop', max_iters=160000, val_interval=16000)
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
# Total batch 8 = 4 GPUs x 2; --auto-scale-lr rescales lr for other totals.
auto_scale_lr = dict(enable=False, base_batch_size=8)
