import hashlib
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from spikedet.datasets.fashion_mnist import load_fashion_mnist, write_idx_ubyte
from spikedet.datasets.fashion_scenes import (SCENE_CLASSES, SCENE_SEG_CLASSES,
                                              SCENE_SEG_PALETTE,
                                              generate_fashion_scenes,
                                              resize_bilinear_uint8)

SMALL = dict(num_train=3, num_val=2, img_size=48, max_items=3)


def load_coco(root, split):
    from pycocotools.coco import COCO
    return COCO(osp.join(root, 'annotations', f'instances_{split}.json'))


def read_png(root, sub, split, name):
    return np.array(Image.open(osp.join(root, sub, split, name)))


@pytest.fixture(scope='module')
def split_source(tmp_path_factory):
    """A fake Fashion-MNIST whose train items are classes 0-4 and whose test
    items are classes 5-9 (bright rectangles of varying size)."""
    root = tmp_path_factory.mktemp('split_source')
    rng = np.random.default_rng(0)
    for prefix, num, offset in (('train', 40, 0), ('t10k', 20, 5)):
        images = np.zeros((num, 28, 28), np.uint8)
        for i in range(num):
            h, w = rng.integers(8, 27, 2)
            images[i, 1:1 + h, 1:1 + w] = rng.integers(60, 256)
        labels = (offset + np.arange(num) % 5).astype(np.uint8)
        write_idx_ubyte(str(root / f'{prefix}-images-idx3-ubyte.gz'), images)
        write_idx_ubyte(str(root / f'{prefix}-labels-idx1-ubyte.gz'), labels)
    return str(root)


def test_constants():
    assert SCENE_SEG_CLASSES == ('background', ) + SCENE_CLASSES
    assert len(SCENE_SEG_PALETTE) == len(SCENE_SEG_CLASSES) == 11
    assert len(set(map(tuple, SCENE_SEG_PALETTE))) == 11


def test_resize_bilinear_uint8():
    const = np.full((5, 7, 3), 77, np.uint8)
    np.testing.assert_array_equal(
        resize_bilinear_uint8(const, 13, 4), np.full((13, 4, 3), 77, np.uint8))
    img = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(resize_bilinear_uint8(img, 28, 28), img)
    # Upscaling agrees with PIL's bilinear filter up to rounding (8-bit
    # weights here, two rounded separable passes in PIL).
    ours = resize_bilinear_uint8(img, 61, 45).astype(int)
    pil = np.array(Image.fromarray(img).resize((45, 61), Image.BILINEAR))
    diff = np.abs(ours - pil.astype(int))
    assert diff.max() <= 2 and diff.mean() < 0.5
    with pytest.raises(TypeError):
        resize_bilinear_uint8(img.astype(np.float32), 4, 4)


@pytest.mark.parametrize('split,num', [('train', 8), ('val', 4)])
def test_coco_annotations(fashion_scenes_root, split, num):
    root = fashion_scenes_root
    coco = load_coco(root, split)
    from pycocotools import mask as mask_utils
    assert len(coco.getImgIds()) == num
    assert [c['name']
            for c in coco.loadCats(coco.getCatIds())] == list(SCENE_CLASSES)
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) >= num  # every scene keeps at least its top item
    for ann in anns:
        info = coco.loadImgs(ann['image_id'])[0]
        assert (info['width'], info['height']) == (64, 64)
        assert osp.isfile(osp.join(root, 'img_dir', split, info['file_name']))
        assert 1 <= ann['category_id'] <= 10 and ann['iscrowd'] == 0
        mask = mask_utils.decode(ann['segmentation'])
        assert mask.shape == (64, 64)
        assert ann['area'] == mask.sum() == coco.annToMask(ann).sum() > 0
        x, y, w, h = ann['bbox']
        inside = np.zeros_like(mask)
        inside[y:y + h, x:x + w] = 1
        assert mask[inside == 0].sum() == 0  # mask lies inside its box
        # ... and the box is tight: the mask touches all four sides.
        assert mask[y].any() and mask[y + h - 1].any()
        assert mask[:, x].any() and mask[:, x + w - 1].any()


@pytest.mark.parametrize('split', ['train', 'val'])
def test_semantic_labels_match_instances(fashion_scenes_root, split):
    root = fashion_scenes_root
    coco = load_coco(root, split)
    for info in coco.loadImgs(coco.getImgIds()):
        seg = read_png(root, 'ann_dir', split, info['file_name'])
        img = read_png(root, 'img_dir', split, info['file_name'])
        assert seg.dtype == np.uint8 and seg.shape == (64, 64)
        assert img.shape == (64, 64, 3)
        assert seg.max() <= len(SCENE_CLASSES)
        expected = np.zeros_like(seg)
        owner = np.zeros(seg.shape, int)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=info['id'])):
            mask = coco.annToMask(ann).astype(bool)
            owner += mask
            expected[mask] = ann['category_id']  # category id = label
        # Visible masks never overlap: each pixel belongs to the topmost
        # item or to the background (0).
        assert owner.max() <= 1
        np.testing.assert_array_equal(seg, expected)


def test_items_come_from_the_right_split(fashion_scenes_root):
    """Recorded items: val scenes show test items, train scenes train items."""
    for split, fm_split in (('train', 'train'), ('val', 'test')):
        _, labels = load_fashion_mnist(fm_split)
        coco = load_coco(fashion_scenes_root, split)
        for ann in coco.loadAnns(coco.getAnnIds()):
            assert ann['fmnist_split'] == fm_split
            assert ann['category_id'] == labels[ann['fmnist_index']] + 1


def test_val_uses_test_items_by_construction(tmp_path, split_source):
    """With a source whose train and test splits have disjoint classes, the
    classes found in each scene split reveal which split it was drawn from."""
    generate_fashion_scenes(
        str(tmp_path),
        num_train=6,
        num_val=6,
        img_size=48,
        source=split_source)
    for split, allowed in (('train', range(0, 5)), ('val', range(5, 10))):
        coco = load_coco(str(tmp_path), split)
        cats = {a['category_id'] - 1 for a in coco.loadAnns(coco.getAnnIds())}
        assert cats and cats <= set(allowed)
        segs = np.stack([
            read_png(str(tmp_path), 'ann_dir', split, f'{i:06d}.png')
            for i in range(1, 7)
        ])
        assert set(np.unique(segs)) - {0} <= {k + 1 for k in allowed}


def _sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_deterministic_and_hash_recorded(tmp_path):
    a, b, c = (str(tmp_path / n) for n in 'abc')
    meta_a = generate_fashion_scenes(a, seed=7, **SMALL)
    meta_b = generate_fashion_scenes(b, seed=7, **SMALL)
    meta_c = generate_fashion_scenes(c, seed=8, **SMALL)
    for split in ('train', 'val'):
        name = f'annotations/instances_{split}.json'
        assert _sha256(osp.join(a, name)) == _sha256(osp.join(b, name))
        assert _sha256(osp.join(a, name)) != _sha256(osp.join(c, name))
        assert (meta_c['splits'][split]['ann_sha256']
                != meta_a['splits'][split]['ann_sha256'])
        # meta.json records the hash of the file that was written.
        assert meta_a['splits'][split]['ann_sha256'] == _sha256(
            osp.join(a, name))
        for key in ('ann_sha256', 'img_pixels_sha256', 'seg_pixels_sha256'):
            assert meta_a['splits'][split][key] == meta_b['splits'][split][key]
        for i in range(1, SMALL[f'num_{split}'] + 1):
            for sub in ('img_dir', 'ann_dir'):
                np.testing.assert_array_equal(
                    read_png(a, sub, split, f'{i:06d}.png'),
                    read_png(b, sub, split, f'{i:06d}.png'))
    with open(osp.join(a, 'meta.json')) as f:
        on_disk = json.load(f)
    assert on_disk['splits'] == meta_a['splits']
    assert on_disk['params']['seed'] == 7 and on_disk['complete']
    assert on_disk['reduce_zero_label'] is False


def test_scene_depends_only_on_its_index(tmp_path):
    small = generate_fashion_scenes(str(tmp_path / 's'), **SMALL)
    big = generate_fashion_scenes(
        str(tmp_path / 'b'), **dict(SMALL, num_train=5))
    assert big['splits']['val'] == small['splits']['val']
    for i in (1, 2, 3):
        np.testing.assert_array_equal(
            read_png(str(tmp_path / 's'), 'img_dir', 'train', f'{i:06d}.png'),
            read_png(str(tmp_path / 'b'), 'img_dir', 'train', f'{i:06d}.png'))


def test_cache_reuse_and_regeneration(tmp_path):
    out = str(tmp_path / 'out')
    first = generate_fashion_scenes(out, **SMALL)
    assert not first['cached']
    ann = osp.join(out, 'annotations', 'instances_train.json')
    stamp = os.stat(ann).st_mtime_ns
    again = generate_fashion_scenes(out, **SMALL)
    assert again['cached'] and again['splits'] == first['splits']
    assert os.stat(ann).st_mtime_ns == stamp
    # Other parameters: regenerated, and no stale scene survives.
    fewer = generate_fashion_scenes(out, **dict(SMALL, num_train=1))
    assert not fewer['cached']
    assert os.listdir(osp.join(out, 'img_dir', 'train')) == ['000001.png']
    assert os.listdir(osp.join(out, 'ann_dir', 'train')) == ['000001.png']
    # A missing file invalidates the cache.
    os.remove(osp.join(out, 'ann_dir', 'val', '000002.png'))
    assert not generate_fashion_scenes(out, **dict(SMALL,
                                                   num_train=1))['cached']


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='img_size'):
        generate_fashion_scenes(str(tmp_path / 'o'), img_size=16)
    with pytest.raises(ValueError, match='item_scale'):
        generate_fashion_scenes(str(tmp_path / 'o'), item_scale=(0.6, 0.3))
    with pytest.raises(ValueError, match='max_items'):
        generate_fashion_scenes(str(tmp_path / 'o'), max_items=0)
    with pytest.raises(FileNotFoundError, match='dataset-fashion-mnist'):
        generate_fashion_scenes(
            str(tmp_path / 'o'), source=str(tmp_path / 'missing'))
    assert not osp.exists(tmp_path / 'o')
    # A folder with the same layout that we did not write is not touched.
    foreign = tmp_path / 'foreign'
    os.makedirs(foreign / 'img_dir' / 'train')
    (foreign / 'img_dir' / 'train' / 'x.png').write_bytes(b'')
    with pytest.raises(FileExistsError, match='did not write'):
        generate_fashion_scenes(str(foreign), **SMALL)
    assert os.listdir(foreign / 'img_dir' / 'train') == ['x.png']


def test_mmdet_coco_dataset(fashion_scenes_root):
    from mmcv.transforms import LoadImageFromFile
    from mmdet.datasets import CocoDataset
    from mmdet.datasets.transforms import LoadAnnotations
    from mmengine.dataset import Compose

    for split, num in (('train', 8), ('val', 4)):
        dataset = CocoDataset(
            data_root=fashion_scenes_root,
            ann_file=f'annotations/instances_{split}.json',
            data_prefix=dict(img=f'img_dir/{split}/'),
            metainfo=dict(classes=SCENE_CLASSES),
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline=[])
        assert len(dataset) == num
        assert dataset.metainfo['classes'] == SCENE_CLASSES
        pipeline = Compose([
            LoadImageFromFile(),
            LoadAnnotations(with_bbox=True, with_mask=True)
        ])
        info = dataset.get_data_info(0)
        coco = load_coco(fashion_scenes_root, split)
        assert len(info['instances']) == len(
            coco.getAnnIds(imgIds=info['img_id'])) > 0
        results = pipeline(info)
        n = len(results['gt_bboxes'])
        assert n == len(info['instances'])
        assert results['img'].shape == (64, 64, 3)
        assert results['gt_masks'].masks.shape == (n, 64, 64)
        assert results['gt_bboxes_labels'].max() < len(SCENE_CLASSES)


def test_mmseg_dataset(fashion_scenes_root):
    from mmseg.datasets import BaseSegDataset
    from mmseg.datasets.transforms import LoadAnnotations

    for split, num in (('train', 8), ('val', 4)):
        dataset = BaseSegDataset(
            data_root=fashion_scenes_root,
            data_prefix=dict(
                img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
            img_suffix='.png',
            seg_map_suffix='.png',
            reduce_zero_label=False,
            metainfo=dict(
                classes=SCENE_SEG_CLASSES, palette=SCENE_SEG_PALETTE),
            pipeline=[])
        assert len(dataset) == num
        assert dataset.metainfo['classes'] == SCENE_SEG_CLASSES
        info = dataset.get_data_info(0)
        assert osp.basename(info['seg_map_path']) == osp.basename(
            info['img_path'])
        assert info['reduce_zero_label'] is False
        results = LoadAnnotations()(info)
        seg = results['gt_seg_map']
        assert seg.shape == (64, 64)
        assert 0 < seg.max() <= len(SCENE_CLASSES)
        assert (seg == 0).any()


def test_mmdet_coco_metric_on_ground_truth(fashion_scenes_root):
    """The val annotations evaluate as a perfect score against themselves."""
    import torch
    from mmdet.evaluation import CocoMetric

    coco = load_coco(fashion_scenes_root, 'val')
    metric = CocoMetric(
        ann_file=osp.join(fashion_scenes_root, 'annotations',
                          'instances_val.json'),
        metric=['bbox', 'segm'])
    metric.dataset_meta = dict(classes=SCENE_CLASSES)
    samples = []
    for img_id in coco.getImgIds():
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        xywh = torch.tensor([a['bbox'] for a in anns], dtype=torch.float32)
        samples.append(
            dict(
                img_id=img_id,
                ori_shape=(64, 64),
                pred_instances=dict(
                    bboxes=torch.cat([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]],
                                     1),
                    scores=torch.ones(len(anns)),
                    labels=torch.tensor([a['category_id'] - 1 for a in anns]),
                    masks=torch.from_numpy(
                        np.stack([coco.annToMask(a) for a in anns])).bool())))
    metric.process({}, samples)
    results = metric.evaluate(len(samples))
    assert results['coco/bbox_mAP'] == pytest.approx(1.0)
    assert results['coco/segm_mAP'] == pytest.approx(1.0)
