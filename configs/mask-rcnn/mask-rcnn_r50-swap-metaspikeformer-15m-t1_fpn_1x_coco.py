# Swap-in recipe: mmdet's own Mask R-CNN R-50 FPN 1x COCO config with only
# the backbone replaced by Meta-SpikeFormer-15M. The backbone averages its
# outputs over time (keep_time=False), so mmdet's ANN FPN and heads run
# unchanged; the neck only learns the backbone's channel counts. Everything
# else (data, SGD lr 0.02 schedule, batch 8x2) is mmdet's. The same two
# edits work on any mmdet config with a 4-level backbone. For a spiking FPN
# with AdamW use mask-rcnn_metaspikeformer-15m-t1_spikefpn_1x_coco.py; for
# the paper's recipe the *_paper_* configs.
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmdet'

model = dict(
    backbone=dict(
        _delete_=True,
        type='spikedet.MetaSpikeFormer',
        arch='15m',
        T=1,
        last_stride=2,  # strides 4, 8, 16, 32 like ResNet's four stages
        out_indices=(0, 1, 2, 3),
        keep_time=False,
        # Converted ImageNet weights (tools/model_converters/
        # sdtv2_to_spikedet.py), loaded strictly from the 'backbone.' keys.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/metaspikeformer-15m_t1_in1k.pth',
            prefix='backbone.')),
    neck=dict(in_channels=[64, 128, 256, 360]))
