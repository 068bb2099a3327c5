# Swap-in recipe with Spikformer-8-384 (T=4): mmdet's own Mask R-CNN R-50
# FPN 1x COCO config with only the backbone replaced. Spikformer is
# columnar (one stride-16 map); simple_pyramid=True adds a spiking simple
# feature pyramid with strides 4, 8, 16, 32 (channels 96, 192, 384, 384),
# averaged over time (keep_time=False) for mmdet's ANN FPN. The pyramid is
# new; the transformer loads converted ImageNet weights
# (tools/model_converters/spikformer_to_spikedet.py).
_base_ = ['mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py']

custom_imports = dict(imports=['spikedet'], allow_failed_imports=False)
default_scope = 'mmdet'

model = dict(
    backbone=dict(
        _delete_=True,
        type='spikedet.Spikformer',
        arch='8-384',
        T=4,
        simple_pyramid=True,
        out_indices=(0, 1, 2, 3),
        keep_time=False,
        # Strict for every classification key; only 'pyramid.*' keeps its
        # initialisation (logged). From scratch: model.backbone.init_cfg=None.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/spikformer-8-384_in1k.pth',
            prefix='backbone.')),
    neck=dict(in_channels=[96, 192, 384, 384]))
