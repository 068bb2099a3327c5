# Quickstart, spike-driven: the tiny Mask R-CNN of
# mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py (its ANN-head
# variant) with spiking heads, as the headline COCO detector
# (mask-rcnn_metaspikeformer-15m-t1_spikefpn-spikeheads_1x_coco.py):
# the spiking FPN keeps the time axis and the RPN, bbox and mask heads are
# LIF -> conv/fc -> BN units with spike-reading predictors; RoIAlign runs on
# each time step's maps. Same data, schedule and optimiser.
#
#   python tools/train.py configs/quickstart/\
#       mask-rcnn_metaspikeformer-tiny-t1_spikefpn-spikeheads_fashion-scenes.py
_base_ = ['./mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py']

T = 1
norm_cfg = dict(type='BN', requires_grad=True)

model = dict(
    neck=dict(time_aggregation=None),
    rpn_head=dict(type='spikedet.SpikingRPNHead', T=T, norm_cfg=norm_cfg),
    roi_head=dict(
        type='spikedet.SpikingStandardRoIHead',
        T=T,
        bbox_head=dict(
            type='spikedet.SpikingShared2FCBBoxHead',
            fc_norm_cfg=dict(type='BN1d', requires_grad=True)),
        mask_head=dict(type='spikedet.SpikingFCNMaskHead', norm_cfg=norm_cfg)))
