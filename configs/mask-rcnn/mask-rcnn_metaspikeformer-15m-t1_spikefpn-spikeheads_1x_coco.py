# Spike-driven Mask R-CNN: Meta-SpikeFormer-15M (T=1), spiking FPN and
# spiking RPN/RoI heads on COCO 2017 instances, 1x schedule, total batch 16.
# The headline config (configs/mask_rcnn_spikeformer_coco.py).
#
# The model and recipe of
# mask-rcnn_metaspikeformer-15m-t1_spikefpn_1x_coco.py
# (its ANN-head variant: the neck averages over T and mmdet's stock heads
# follow) with spiking heads: the neck keeps the time axis
# (time_aggregation=None) and every head layer reads spikes:
# * spikedet.SpikingRPNHead: LIF -> 3x3 conv -> BN, then a LIF whose spikes
#   feed the 1x1 objectness and box convs;
# * spikedet.SpikingStandardRoIHead: RoIAlign on each time step's maps;
# * spikedet.SpikingShared2FCBBoxHead: 2 x (LIF -> fc -> BN), then a LIF
#   whose spikes feed the class and box fcs;
# * spikedet.SpikingFCNMaskHead: 4 x (LIF -> 3x3 conv -> BN), LIF ->
#   deconv, LIF -> 1x1 mask conv.
# Logits and deltas are averaged over T, then mmdet's losses and decoding
# run as usual. BN after each head conv/fc as in the spiking FPN here (each
# LIF sees normalised input); the paper's heads have none (see the *_paper_*
# configs, which reproduce the paper's recipes). True strides 4-32 as in
# the ANN-head variant.
_base_ = ['./mask-rcnn_metaspikeformer-15m-t1_spikefpn_1x_coco.py']

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
