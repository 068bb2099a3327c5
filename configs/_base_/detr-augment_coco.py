# DETR-style training augmentation (as DETR / Sparse R-CNN and the paper's
# detection configs): one of multi-scale resize (short side 480-800 by 32,
# long side <= 1333) or resize-crop-resize (short side 400/500/600, an
# absolute-range crop of 384-600, then 480-800). Configs pick the pieces:
#   dict(type='RandomChoice', transforms=[{{_base_.multi_scale_resize}},
#                                         {{_base_.resize_crop_resize}}])
detr_scales = [(480, 1333), (512, 1333), (544, 1333), (576, 1333), (608, 1333),
               (640, 1333), (672, 1333), (704, 1333), (736, 1333), (768, 1333),
               (800, 1333)]
multi_scale_resize = [
    dict(type='RandomChoiceResize', scales=detr_scales, keep_ratio=True)
]
resize_crop_resize = [
    dict(
        type='RandomChoiceResize',
        scales=[(400, 1333), (500, 1333), (600, 1333)],
        keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_type='absolute_range',
        crop_size=(384, 600),
        allow_negative_crop=True),
    dict(type='RandomChoiceResize', scales=detr_scales, keep_ratio=True),
]
