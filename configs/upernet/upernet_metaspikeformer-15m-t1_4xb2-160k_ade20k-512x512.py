# UperNet with Meta-SpikeFormer-15M (T=1) on ADE20K, 512x512 crops.
#
# The spiking backbone keeps its time axis; a TemporalAggregation neck
# averages each level over time and mmseg's own UPerHead (and FCN auxiliary
# head) decode the [B, C, H, W] maps, so only the backbone is spiking.
# The paper's code has no UperNet config. Schedule as our Semantic FPN
# configs (AdamW and lr schedule after the paper's Semantic FPN recipe, not
# its batch or precision): AdamW lr 1e-3 (neck and heads x2),
# 1500-iteration linear warmup, linear decay to 160k iterations, total
# batch 8 (4 GPUs x 2), fp16 AMP (GPU only: on CPU add --cfg-options
# optim_wrapper.type=OptimWrapper).
_base_ = ['mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py']

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmseg'

# ImageNet-1k weights of the backbone, converted from the paper's release
# with tools/model_converters/sdtv2_to_spikedet.py (keys 'backbone.*').
pretrained = 'checkpoints/metaspikeformer-15m_t1_in1k.pth'
T = 1
in_channels = [64, 128, 256, 360]

model = dict(
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
        type='spikedet.TemporalAggregation',
        T=T,
        in_channels=in_channels,
        mode='mean'),
    decode_head=dict(in_channels=in_channels, num_classes=150),
    auxiliary_head=dict(in_channels=in_channels[2], num_classes=150))

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
auto_scale_lr = dict(enable=False, base_batch_size=8)
