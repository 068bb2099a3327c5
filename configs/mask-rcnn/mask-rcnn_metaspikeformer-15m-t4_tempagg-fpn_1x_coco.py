# Mask R-CNN, Meta-SpikeFormer-15M (T=4) followed by a temporal aggregation
# neck and mmdet's own (ANN) FPN: the pattern for putting any existing
# mmdet/mmseg neck (FPN, PAFPN, ...) behind a time-keeping spiking backbone.
# A neck list is built by mmengine into a Sequential: TemporalAggregation
# turns each [T, B, C, H, W] map into [B, C, H, W] with learnable per-step
# weights (softmax, starting at the mean), then FPN runs as usual.
_base_ = ['./mask-rcnn_metaspikeformer-15m-t4_spikefpn_1x_coco.py']

model = dict(neck=[
    dict(
        type='spikedet.TemporalAggregation',
        T=4,
        in_channels=[64, 128, 256, 360],
        mode='learnable'),
    dict(
        type='FPN',
        in_channels=[64, 128, 256, 360],
        out_channels=256,
        num_outs=5),
])
