# Quickstart on event data (mmdet): the tiny Mask R-CNN of
# mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py on the fashion
# scenes recorded by a simulated event camera under a small closed camera
# motion (128x128 DVS; same boxes and masks as the RGB scenes), integrated
# into T=2 two-polarity frames. Record the data first (README, section
# 'Data'); it lands in data/fashion_event_scenes (events_np/{train,val}/
# *.npz, COCO json with *.npz file names, label PNGs):
#
#   python tools/dataset_converters/fashion_events.py scenes
#   python tools/train.py configs/quickstart/\
#       mask-rcnn_metaspikeformer-tiny-t2_spikefpn_fashion-event-scenes.py
#
# Same model and recipe as the RGB quickstart, except: two input channels
# (OFF, ON), T=2 time steps fed by the 2 frames, no RGB mean/std (frames
# hold event counts; flip and resize move them with the boxes and masks).
_base_ = ['./mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py']

T = 2

model = dict(
    data_preprocessor=dict(
        _delete_=True,
        type='spikedet.EventDetDataPreprocessor',
        num_frames=T,
        pad_mask=True,
        pad_size_divisor=32),
    backbone=dict(T=T, in_channels=2),
    neck=dict(T=T))

data_root = 'data/fashion_event_scenes/'
img_scale = (128, 128)  # the sensor's size: Resize only records scale_factor
train_pipeline = [
    dict(type='spikedet.LoadEventStream'),  # sensor size = COCO height/width
    dict(type='spikedet.IntegrateEvents', num_frames=T, split_by='number'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='spikedet.LoadEventStream'),
    dict(type='spikedet.IntegrateEvents', num_frames=T, split_by='number'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor')),
]
train_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(img='events_np/train/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(img='events_np/val/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val.json')
test_evaluator = val_evaluator

# 100 iterations (2 epochs of the 400 recorded training scenes; short
# enough for a shared 2-core CPU), the RGB quickstart's schedule shape:
# warmup (a quarter of the run), then x0.1 at 2/3 and 8/9.
max_iters = 100
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=False,
        begin=0,
        end=max_iters // 4),
    dict(
        type='MultiStepLR',
        by_epoch=False,
        begin=0,
        end=max_iters,
        milestones=[max_iters * 2 // 3, max_iters * 8 // 9],
        gamma=0.1),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    checkpoint=dict(interval=max_iters), logger=dict(interval=10))
