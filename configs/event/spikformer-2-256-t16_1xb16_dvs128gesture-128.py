# Spikformer-2-256, T=16, DVS128 Gesture (11 classes, 128x128): the
# CIFAR10-DVS model and recipe of the official code (cifar10dvs/; see
# spikformer-2-256-t16_1xb16_cifar10dvs-128.py) with 11 classes, the default
# num_classes of that code's Spikformer class. The official repository has
# no separate DVS128 Gesture script, so everything else is the CIFAR10-DVS
# recipe. Not trained here (no GPU).
#
# Data: reads a spikingjelly-processed DVS128 Gesture folder, i.e. the
# ``root`` spikingjelly's ``DVS128Gesture`` converts into
# ``events_np/{train,test}/<class>/<file>.npz`` (keys t, x, y, p; classes
# are the folder names '0'..'10', ordered as strings as spikingjelly does):
#
#   python -c "from spikingjelly.datasets.dvs128_gesture import \
#              DVS128Gesture; DVS128Gesture('data/dvs128gesture', \
#              train=True, data_type='event')"
_base_ = ['./spikformer-2-256-t16_1xb16_cifar10dvs-128.py']

num_classes = 11
data_root = 'data/dvs128gesture'

model = dict(
    data_preprocessor=dict(num_classes=num_classes),
    head=dict(num_classes=num_classes))

train_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix='events_np/train', split=None))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root, data_prefix='events_np/test', split=None))
test_dataloader = val_dataloader
