# Quickstart on event data (mmseg): the tiny spiking Semantic FPN of
# fpn_metaspikeformer-tiny-t1_fashion-scenes.py on the fashion scenes
# recorded by a simulated event camera under a small closed camera motion
# (128x128 DVS; same label maps as the RGB scenes), integrated into T=2
# two-polarity frames. Record the data first (README, section 'Data'); it
# lands in data/fashion_event_scenes:
#
#   python tools/dataset_converters/fashion_events.py scenes
#   python tools/train.py \
#       configs/quickstart/fpn_metaspikeformer-tiny-t2_fashion-event-scenes.py
#
# Same model and recipe as the RGB quickstart, except: two input channels
# (OFF, ON), T=2 time steps fed by the 2 frames, no RGB mean/std (frames
# hold event counts; the flip moves them with the label maps).
_base_ = ['./fpn_metaspikeformer-tiny-t1_fashion-scenes.py']

T = 2
sensor_size = 128

model = dict(
    data_preprocessor=dict(
        _delete_=True,
        type='spikedet.EventSegDataPreProcessor',
        num_frames=T,
        pad_val=0,
        seg_pad_val=255,
        size=(sensor_size, sensor_size)),
    backbone=dict(T=T, in_channels=2),
    neck=dict(T=T))

data_root = 'data/fashion_event_scenes'
train_pipeline = [
    dict(type='spikedet.LoadEventStream', sensor_size=sensor_size),
    dict(type='spikedet.IntegrateEvents', num_frames=T, split_by='number'),
    dict(type='LoadAnnotations', reduce_zero_label=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='spikedet.LoadEventStream', sensor_size=sensor_size),
    dict(type='spikedet.IntegrateEvents', num_frames=T, split_by='number'),
    dict(type='LoadAnnotations', reduce_zero_label=False),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        img_suffix='.npz',
        data_prefix=dict(
            img_path='events_np/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        img_suffix='.npz',
        data_prefix=dict(img_path='events_np/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# 150 iterations (3 epochs of the 400 recorded training scenes; short
# enough for a shared 2-core CPU), linear decay to 0 as the RGB quickstart.
max_iters = 150
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.,
        power=1.,
        by_epoch=False,
        begin=0,
        end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    checkpoint=dict(interval=max_iters), logger=dict(interval=10))
