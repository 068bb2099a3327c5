# Headline config: spike-driven Mask R-CNN with a Meta-SpikeFormer-15M
# backbone (T=1), a spiking FPN and spiking RPN/RoI heads on COCO 2017
# (data/coco/), 1x schedule, AdamW as in the paper's detection code,
# CocoMetric bbox + segm.
#
#   python tools/train.py configs/mask_rcnn_spikeformer_coco.py
#
# Identical to
# configs/mask-rcnn/mask-rcnn_metaspikeformer-15m-t1_spikefpn-spikeheads_1x_coco.py
# (see there and its base for the pretrained backbone: it expects the
# converted ImageNet weights at checkpoints/metaspikeformer-15m_t1_in1k.pth;
# train from scratch with --cfg-options model.backbone.init_cfg=None).
# Variants: ANN heads, 55M, T=4, TemporalAggregation + mmdet FPN, RetinaNet,
# and swap-in recipes under configs/mask-rcnn/ and configs/retinanet/.
_base_ = [
    './mask-rcnn/'
    'mask-rcnn_metaspikeformer-15m-t1_spikefpn-spikeheads_1x_coco.py'
]
