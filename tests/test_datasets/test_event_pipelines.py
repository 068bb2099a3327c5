"""Event datasets and pipelines: the Fashion event generators, spikingjelly
folders, loading and its errors, frame integration against spikingjelly,
box/mask/label-map alignment after augmentation, the data preprocessors."""
import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch

from spikedet.datasets.events import (EventFolderDataset,
                                      generate_fashion_event_cls,
                                      generate_fashion_event_scenes,
                                      save_events)
from spikedet.datasets.transforms import (IntegrateEvents, LoadEventStream,
                                          frames_to_image, image_to_frames,
                                          integrate_events, load_event_file)


def infos(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def random_stream(rng, num, height, width, duration=10_000):
    return dict(
        t=np.sort(rng.integers(0, duration, num)).astype(np.int64),
        x=rng.integers(0, width, num).astype(np.uint16),
        y=rng.integers(0, height, num).astype(np.uint16),
        p=rng.integers(0, 2, num).astype(np.uint8))


@pytest.fixture(scope='module')
def event_cls_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('fashion_events'))
    generate_fashion_event_cls(
        root, num_train=20, num_test=10, duration_us=60_000)
    return root


@pytest.fixture(scope='module')
def event_scenes_root(tmp_path_factory):
    base = tmp_path_factory.mktemp('fashion_event_scenes')
    out, rgb = str(base / 'events'), str(base / 'rgb')
    generate_fashion_event_scenes(
        out,
        rgb,
        duration_us=20_000,
        scene_cfg=dict(num_train=4, num_val=2, img_size=64))
    return out, rgb


def test_fashion_event_cls_layout_and_determinism(event_cls_root, tmp_path):
    from spikingjelly.datasets import integrate_events_by_fixed_frames_number
    files = sorted(
        glob.glob(osp.join(event_cls_root, 'events_np', '*', '*', '*.npz')))
    assert len(files) == 30
    splits = {osp.basename(osp.dirname(osp.dirname(f))) for f in files}
    assert splits == {'train', 'test'}
    meta = json.load(open(osp.join(event_cls_root, 'meta.json')))
    assert meta['complete'] and meta['sensor_hw'] == [34, 34]
    # The label folder holds the item's Fashion-MNIST label.
    from spikedet.datasets import load_fashion_mnist
    _, labels = load_fashion_mnist('train')
    for f in files:
        if '/train/' in f:
            index = int(osp.basename(f)[:-4])
            assert int(osp.basename(osp.dirname(f))) == labels[index]
    ev = load_event_file(files[0], 34)
    assert len(ev['t']) > 50 and set(np.unique(ev['p'])) == {0, 1}
    # spikingjelly reads our files as they are.
    frames = integrate_events_by_fixed_frames_number(
        np.load(files[0]), 'number', 4, 34, 34)
    assert frames.shape == (4, 2, 34, 34) and frames.sum() == len(ev['t'])
    # Same parameters: reused; a fresh folder: the same streams.
    again = generate_fashion_event_cls(
        event_cls_root, num_train=20, num_test=10, duration_us=60_000)
    assert again['cached']
    other = str(tmp_path / 'again')
    generate_fashion_event_cls(
        other, num_train=3, num_test=0, duration_us=60_000)
    for f in glob.glob(osp.join(other, 'events_np', 'train', '*', '*.npz')):
        mine = np.load(f)
        ref = np.load(f.replace(other, event_cls_root))
        for k in 'txyp':
            np.testing.assert_array_equal(mine[k], ref[k])


def test_fashion_event_scenes_keep_annotations(event_scenes_root):
    out, rgb = event_scenes_root
    for split, num in (('train', 4), ('val', 2)):
        ours = json.load(
            open(osp.join(out, 'annotations', f'instances_{split}.json')))
        theirs = json.load(
            open(osp.join(rgb, 'annotations', f'instances_{split}.json')))
        assert ours['annotations'] == theirs['annotations']
        assert len(ours['images']) == num
        for a, b in zip(ours['images'], theirs['images']):
            assert a['file_name'] == b['file_name'].replace('.png', '.npz')
            ev = load_event_file(
                osp.join(out, 'events_np', split, a['file_name']), 64)
            assert len(ev['t']) > 100
            assert osp.isfile(osp.join(out, 'ann_dir', split, b['file_name']))


def test_spikingjelly_folder_dataset(tmp_path):
    """A folder in spikingjelly's layout loads with the same samples and
    labels as spikingjelly's (torchvision's) DatasetFolder."""
    from torchvision.datasets import DatasetFolder
    rng = np.random.default_rng(0)
    root = tmp_path / 'DVS128Gesture'
    names = ['0', '1', '10', '2']  # sorted as strings, as spikingjelly does
    for k, name in enumerate(names):
        d = root / 'events_np' / 'train' / name
        d.mkdir(parents=True)
        for i in range(3 + k):
            save_events(
                str(d / f'user{i:02d}.npz'), random_stream(rng, 40, 16, 16))
    ref = DatasetFolder(
        str(root / 'events_np' / 'train'),
        loader=np.load,
        extensions=('.npz', ))
    ds = EventFolderDataset(
        data_root=str(root),
        data_prefix='events_np/train',
        pipeline=[
            dict(type='spikedet.LoadEventStream', sensor_size=16),
            dict(type='spikedet.IntegrateEvents', num_frames=2)
        ])
    assert len(ds) == len(ref) == 18
    assert [d['img_path'] for d in infos(ds)] == [s[0] for s in ref.samples]
    assert [d['gt_label'] for d in infos(ds)] == ref.targets
    assert ds.metainfo['classes'] == tuple(ref.classes)
    sample = ds[0]
    assert sample['img'].shape == (16, 16, 4)
    assert sample['img'].sum() == 40
    # No split folders (CIFAR10-DVS): per-class ceil(0.9 n) train files.
    flat = dict(
        data_root=str(root / 'events_np'),
        data_prefix='train',
        train_ratio=0.5)
    train = EventFolderDataset(split='train', **flat)
    test = EventFolderDataset(split='test', **flat)
    assert len(train) == 2 + 2 + 3 + 3 and len(test) == 18 - 10
    assert not ({d['img_path']
                 for d in infos(train)}
                & {d['img_path']
                   for d in infos(test)})


@pytest.mark.parametrize('split_by', ['number', 'time'])
@pytest.mark.parametrize('num_frames', [1, 3, 8])
def test_integration_matches_spikingjelly(split_by, num_frames, tmp_path):
    from spikingjelly.datasets import integrate_events_by_fixed_frames_number
    rng = np.random.default_rng(num_frames)
    ev = random_stream(rng, 500, 12, 20)
    path = str(tmp_path / 'a.npz')
    save_events(path, ev)
    results = LoadEventStream(sensor_size=(12, 20))(dict(img_path=path))
    results = IntegrateEvents(num_frames, split_by)(results)
    ref = integrate_events_by_fixed_frames_number(
        dict(np.load(path)), split_by, num_frames, 12, 20)
    img = results['img']
    assert img.shape == (12, 20, 2 * num_frames) and img.dtype == np.float32
    for t in range(num_frames):
        for p in range(2):
            np.testing.assert_array_equal(img[..., 2 * t + p], ref[t, p])
    np.testing.assert_array_equal(image_to_frames(img), ref)
    np.testing.assert_array_equal(frames_to_image(ref.astype(np.float32)), img)
    assert img.sum() == 500 and results['num_frames'] == num_frames
    # by count: every frame but the last holds floor(N / T) events
    if split_by == 'number':
        per_frame = ref.reshape(num_frames, -1).sum(1)
        assert (per_frame[:-1] == 500 // num_frames).all()


def test_integrate_clip_and_empty_window():
    ev = dict(
        t=np.array([0, 1, 2, 1000]),
        x=np.zeros(4, int),
        y=np.zeros(4, int),
        p=np.array([1, 1, 1, 0], np.uint8))
    frames = integrate_events(ev, 1, 2, 2)
    assert frames[0, 1, 0, 0] == 3
    results = IntegrateEvents(
        1, clip_max=1.)(
            dict(events=ev, img_shape=(2, 2)))
    assert results['img'].max() == 1.
    with pytest.raises(ValueError, match='window without events'):
        IntegrateEvents(4, 'time')(
            dict(events=ev, img_shape=(2, 2), img_path='x.npz'))


def test_load_errors_name_the_file(tmp_path):
    rng = np.random.default_rng(0)
    good = random_stream(rng, 10, 8, 8)
    path = str(tmp_path / 'no_p.npz')
    np.savez(path, t=good['t'], x=good['x'], y=good['y'])
    with pytest.raises(ValueError, match=r"no_p\.npz.*\['p'\]"):
        LoadEventStream(8)(dict(img_path=path))
    frames = str(tmp_path / 'frames.npz')
    np.savez(frames, frames=np.zeros((2, 2, 8, 8)))
    with pytest.raises(ValueError, match='events_np folder'):
        LoadEventStream(8)(dict(img_path=frames))
    path = str(tmp_path / 'outside.npz')
    save_events(path, good)
    with pytest.raises(ValueError, match=r'outside\.npz.*outside the 4x8'):
        LoadEventStream((4, 8))(dict(img_path=path))
    with pytest.raises(ValueError, match='sensor_size'):
        LoadEventStream()(dict(img_path=path))
    # COCO datasets give height/width: used as the sensor size.
    out = LoadEventStream()(dict(img_path=path, height=8, width=8))
    assert out['img_shape'] == (8, 8) and len(out['events']['t']) == 10
    with pytest.raises(ValueError, match=r'scene\.png.*not an event file'):
        LoadEventStream(8)(dict(img_path=str(tmp_path / 'scene.png')))
    bad_p = dict(good, p=np.full(10, 2, np.uint8))
    path = str(tmp_path / 'bad_p.npz')
    save_events(path, bad_p)
    with pytest.raises(ValueError, match='polarities'):
        LoadEventStream(8)(dict(img_path=path))
    with pytest.raises(KeyError, match='LoadEventStream'):
        IntegrateEvents(2)(dict(img_shape=(8, 8)))


def assert_aligned(active, mask):
    """Event activity and a mask agree up to the resampling of their edges:
    they overlap, and they differ only next to the mask's boundary."""
    import cv2
    kernel = np.ones((3, 3), np.uint8)
    m = mask.astype(np.uint8)
    edge = cv2.dilate(m, kernel).astype(bool) & ~cv2.erode(
        m, kernel, borderType=cv2.BORDER_REPLICATE).astype(bool)
    assert (active & mask).sum() > 0.8 * mask.sum()
    assert not ((active ^ mask) & ~edge).any()


def _mask_stream(mask, rng, repeats=3):
    ys, xs = np.nonzero(mask)
    n = len(ys) * repeats
    return dict(
        t=np.arange(n, dtype=np.int64),
        x=np.tile(xs, repeats).astype(np.uint16),
        y=np.tile(ys, repeats).astype(np.uint16),
        p=rng.integers(0, 2, n).astype(np.uint8))


@pytest.mark.parametrize('seed', range(3))
def test_det_augmentation_keeps_boxes_and_masks_aligned(tmp_path, seed):
    """Events fire exactly on an object's mask; after flip + resize + crop
    the event frames, the mask and the box still coincide."""
    np.random.seed(seed)  # the crop position
    from mmcv.transforms import Compose
    from mmdet.structures.bbox import HorizontalBoxes
    from mmdet.structures.mask import BitmapMasks
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    mask = np.zeros((64, 64), np.uint8)
    mask[10:30, 5:25] = 1
    mask[30:40, 12:20] = 1
    path = str(tmp_path / 'obj.npz')
    save_events(path, _mask_stream(mask, np.random.default_rng(0)))
    pipeline = Compose([
        dict(type='spikedet.LoadEventStream'),
        dict(type='spikedet.IntegrateEvents', num_frames=2),
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='Resize', scale=(96, 96), keep_ratio=True),
        dict(type='RandomCrop', crop_size=(80, 80)),
        dict(type='PackDetInputs'),
    ])
    box = np.array([[5, 10, 25, 40]], np.float32)
    out = pipeline(
        dict(
            img_path=path,
            height=64,
            width=64,
            gt_bboxes=HorizontalBoxes(box),
            gt_bboxes_labels=np.array([0]),
            gt_ignore_flags=np.array([False]),
            gt_masks=BitmapMasks(mask[None], 64, 64)))
    img = out['inputs']
    assert img.shape == (4, 80, 80)
    active = img.sum(0).numpy() > 0.5
    gt_mask = out['data_samples'].gt_instances.masks.masks[0].astype(bool)
    assert_aligned(active, gt_mask)
    ys, xs = np.nonzero(active)
    x1, y1, x2, y2 = out['data_samples'].gt_instances.bboxes.tensor[0]
    assert abs(xs.min() - x1) <= 1.5 and abs(xs.max() + 1 - x2) <= 1.5
    assert abs(ys.min() - y1) <= 1.5 and abs(ys.max() + 1 - y2) <= 1.5
    # the flip moved the object to the right half
    assert xs.mean() > 40


@pytest.mark.parametrize('seed', range(3))
def test_seg_augmentation_keeps_label_map_aligned(tmp_path, seed):
    np.random.seed(seed)  # the crop position
    from mmcv.transforms import Compose
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    seg = np.zeros((64, 64), np.uint8)
    seg[20:50, 3:30] = 4
    path = str(tmp_path / 'obj.npz')
    save_events(path, _mask_stream(seg > 0, np.random.default_rng(1)))
    pipeline = Compose([
        dict(type='spikedet.LoadEventStream', sensor_size=64),
        dict(type='spikedet.IntegrateEvents', num_frames=3),
        dict(type='RandomFlip', prob=1.0),
        dict(
            type='RandomResize',
            scale=(128, 128),
            ratio_range=(1.5, 1.5),
            keep_ratio=True),
        dict(type='RandomCrop', crop_size=(64, 64), cat_max_ratio=1.),
        dict(type='PackSegInputs'),
    ])
    out = pipeline(
        dict(
            img_path=path,
            gt_seg_map=seg.copy(),
            seg_fields=['gt_seg_map'],
            reduce_zero_label=False))
    img = out['inputs']
    assert img.shape == (6, 64, 64)
    label = out['data_samples'].gt_sem_seg.data[0].numpy()
    active = img.sum(0).numpy() > 0.5
    inside = label == 4
    assert inside.any()
    assert_aligned(active, inside)


def _pack(img, sample):
    return dict(
        inputs=torch.from_numpy(img.transpose(2, 0, 1).copy()),
        data_samples=sample)


def test_data_preprocessors_batch_and_check():
    from mmdet.structures import DetDataSample
    from mmpretrain.structures import DataSample
    from mmseg.structures import SegDataSample

    from spikedet.registry import MODELS
    rng = np.random.default_rng(0)
    imgs = [
        rng.integers(0, 5, (20, 24, 6)).astype(np.float32),
        rng.integers(0, 5, (18, 30, 6)).astype(np.float32)
    ]
    cases = [
        (dict(
            type='spikedet.EventClsDataPreprocessor',
            num_frames=3,
            num_classes=4), DataSample, None),
        (dict(
            type='spikedet.EventDetDataPreprocessor',
            num_frames=3,
            pad_size_divisor=8), DetDataSample, (24, 32)),
        (dict(
            type='spikedet.EventSegDataPreProcessor',
            num_frames=3,
            size=(32, 32)), SegDataSample, (32, 32)),
    ]
    for cfg, sample_type, padded in cases:
        pre = MODELS.build(cfg)
        same = [imgs[0], imgs[0]] if padded is None else imgs
        data = dict(
            inputs=[
                torch.from_numpy(i.transpose(2, 0, 1).copy()) for i in same
            ],
            data_samples=[sample_type() for _ in same])
        if sample_type is SegDataSample:
            from mmengine.structures import PixelData
            for s, i in zip(data['data_samples'], same):
                s.gt_sem_seg = PixelData(
                    data=torch.zeros(1, *i.shape[:2], dtype=torch.long))
                s.set_metainfo(dict(img_shape=i.shape[:2]))
        out = pre(data, training=True)['inputs']
        h, w = padded or imgs[0].shape[:2]
        assert out.shape == (2, 3, 2, h, w), cfg['type']
        # no mean/std: the counts come through, frame t polarity p
        for b, img in enumerate(same):
            hh, ww = img.shape[:2]
            ref = torch.from_numpy(img).permute(2, 0, 1).reshape(3, 2, hh, ww)
            assert torch.equal(out[b, :, :, :hh, :ww], ref)
        # RGB images in an event config, or frames for another T
        for c, match in ((3, 'grayscale/RGB'), (4, 'T=3')):
            bad = dict(
                inputs=[torch.zeros(c, 16, 16)], data_samples=[sample_type()])
            if sample_type is SegDataSample:
                bad['data_samples'][0].set_metainfo(dict(img_shape=(16, 16)))
            with pytest.raises(ValueError, match=match):
                pre(bad)
        with pytest.raises(ValueError, match='event counts'):
            MODELS.build(dict(cfg, mean=[0.] * 6, std=[1.] * 6))
