# Quickstart on event data (mmpretrain): the tiny Meta-SpikeFormer
# classifier of metaspikeformer-tiny-t1_fashion-mnist.py on Fashion-MNIST
# recorded by a simulated event camera (34x34 DVS, three saccades, ON/OFF
# events), integrated into T=4 two-polarity frames. Record the data first
# (README, section 'Data'); it lands in data/fashion_events in spikingjelly's
# processed layout (events_np/{train,test}/<class>/<index>.npz):
#
#   python tools/dataset_converters/fashion_events.py cls
#   python tools/train.py \
#       configs/quickstart/metaspikeformer-tiny-t4_fashion-events.py
#
# Same model and optimizer as the image quickstart, except: two input
# channels (OFF, ON), T=4 time steps fed by the 4 frames, no RGB mean/std
# (frames hold event counts), and a shorter schedule (below).
_base_ = ['./metaspikeformer-tiny-t1_fashion-mnist.py']

T = 4
sensor_size = 34
classes = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
           'Shirt', 'Sneaker', 'Bag', 'Ankle boot')

model = dict(
    data_preprocessor=dict(
        _delete_=True,
        type='spikedet.EventClsDataPreprocessor',
        num_frames=T,
        num_classes=len(classes)),
    backbone=dict(T=T, in_channels=2))

dataset_type = 'spikedet.EventFolderDataset'
data_root = 'data/fashion_events'
train_pipeline = [
    dict(type='spikedet.LoadEventStream', sensor_size=sensor_size),
    dict(type='spikedet.IntegrateEvents', num_frames=T, split_by='number'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='spikedet.LoadEventStream', sensor_size=sensor_size),
    dict(type='spikedet.IntegrateEvents', num_frames=T, split_by='number'),
    dict(type='Resize', scale=(32, 32)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix='events_np/train',
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix='events_np/test',
        metainfo=dict(classes=classes),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# 600 iterations (19 epochs of the 1000 training streams; T=4 costs about
# 4x the image quickstart's time per iteration).
max_iters = 600
warmup_iters = 50
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-2,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='CosineAnnealingLR',
        eta_min=0.,
        by_epoch=False,
        begin=warmup_iters,
        end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
