# Swap-in recipe: mmseg's own Semantic FPN ADE20K config with only the
# backbone replaced by Meta-SpikeFormer-15M. The backbone averages its
# outputs over time (keep_time=False), so mmseg's ANN FPN neck and FPNHead
# run unchanged; the neck only learns the backbone's channel counts.
# Everything else (data, SGD schedule, batch 4x4, 160k iterations) is
# mmseg's. For the paper's spiking neck/head and schedule use
# fpn_metaspikeformer-15m-t1_4xb2-160k_ade20k-512x512.py.
_base_ = ['mmseg::sem_fpn/fpn_r50_4xb4-160k_ade20k-512x512.py']

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmseg'

model = dict(
    pretrained=None,  # mmseg's base names an ImageNet ResNet here
    backbone=dict(
        _delete_=True,
        type='spikedet.MetaSpikeFormer',
        arch='15m',
        T=1,
        last_stride=2,
        keep_time=False,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/metaspikeformer-15m_t1_in1k.pth',
            prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 256, 360]))
