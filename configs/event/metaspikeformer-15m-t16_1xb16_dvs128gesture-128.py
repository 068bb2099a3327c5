# Meta-SpikeFormer-15M, T=16, event classification on DVS128 Gesture
# (11 classes, 128x128 two-polarity frames).
#
# What the official code (github.com/BICLab/Spike-Driven-Transformer-V2,
# classification/models.py) says about event data: its model class
# Spiking_vit_MetaFormer defaults to an event camera's input, in_channels=2,
# num_classes=11 and 128x128 (DVS128 Gesture), and its first layer accepts
# any channel count; the repository has no event dataset, preset or training
# script (its forward repeats one static image over T). So this config
# takes from it what it has: the 15M widths ([64, 128, 256, 360]), two
# input channels, 11 classes, the spiking head (LIF before the linear
# layer); the events give the T=16 time steps one frame each. Data and
# schedule are those of the Spikformer event recipe of the official
# Spikformer code (spikformer-2-256-t16_1xb16_dvs128gesture-128.py): no
# Meta-SpikeFormer figure exists for this setting.
#
# Data: reads a spikingjelly-processed DVS128 Gesture folder
# (``events_np/{train,test}/<class>/<file>.npz``, keys t, x, y, p), see the
# Spikformer config; point data_root at it.
_base_ = ['./spikformer-2-256-t16_1xb16_dvs128gesture-128.py']

T = 16
model = dict(
    backbone=dict(
        _delete_=True,
        type='spikedet.MetaSpikeFormer',
        arch='15m',
        T=T,
        in_channels=2,
        out_indices=(3, ),
        keep_time=True,
        drop_path_rate=0.1),
    head=dict(in_channels=360, spike_before_fc=True))
