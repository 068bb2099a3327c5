# Quickstart variant with the paper's segmentation geometry: the tiny
# spiking Semantic FPN of fpn_metaspikeformer-tiny-t1_fashion-scenes.py with
# the pyramid of the paper's segmentation code (see configs/sem-fpn/
# *_paper_*.py): the stem and stages 0, 1 and 3 (strides 2, 4, 8, 16; the
# last stage keeps stride 16), averaged over time before the neck (a no-op
# at T=1), and a neck without norm. Data, head, optimizer and schedule are
# those of the quickstart config, so the two runs compare the geometry.
#
#   python tools/train.py configs/quickstart/fpn_metaspikeformer-tiny-t1_paper-pyramid_fashion-scenes.py  # noqa: E501
_base_ = ['./fpn_metaspikeformer-tiny-t1_fashion-scenes.py']

embed_dims = [16, 32, 64, 128]
model = dict(
    backbone=dict(
        last_stride=1, out_stem=True, out_indices=(0, 1, 3),
        average_time=True),
    neck=dict(
        in_channels=[
            embed_dims[0] // 2, embed_dims[0], embed_dims[1], embed_dims[3]
        ],
        T=1,
        norm_cfg=None),
    decode_head=dict(feature_strides=[2, 4, 8, 16]))
