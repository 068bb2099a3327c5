"""Fashion scenes: detection + segmentation scenes made of Fashion-MNIST.

Each scene is a square RGB canvas with a seeded textured background on which
1 to ``max_items`` real Fashion-MNIST items are pasted at random positions and
sizes, each with a random colour tint. Later items occlude earlier ones. The
instance mask of an item is the set of its pixels brighter than
``fg_threshold`` (after resizing) that no later item covers; an item whose
visible part becomes too small is dropped from the scene entirely (it is not
drawn either), so every drawn pixel is labelled. Training scenes take items
from the Fashion-MNIST *train* split, validation scenes from the *test* split.

One layout serves mmdet and mmseg::

    out_dir/img_dir/{train,val}/000001.png        RGB scenes (file = image id)
    out_dir/ann_dir/{train,val}/000001.png        semantic labels ('L' PNG)
    out_dir/annotations/instances_{train,val}.json  COCO instances
    out_dir/meta.json                             parameters + checksums

Semantic label convention: ``0`` is *background* and is a real class that is
trained and evaluated; class ``k`` of :data:`SCENE_CLASSES` is stored as
``k + 1``; ``255`` never occurs. The segmentation classes are therefore
:data:`SCENE_SEG_CLASSES` (11 names, background first) and mmseg datasets
must use ``reduce_zero_label=False``::

    dict(type='BaseSegDataset', data_root='data/fashion_scenes',
         data_prefix=dict(img_path='img_dir/train',
                          seg_map_path='ann_dir/train'),
         img_suffix='.png', seg_map_suffix='.png', reduce_zero_label=False,
         metainfo=dict(classes=SCENE_SEG_CLASSES, palette=SCENE_SEG_PALETTE))

The COCO file has ``category_id`` 1..10 (class ``k`` of :data:`SCENE_CLASSES`
is id ``k + 1``), ``bbox`` ``[x, y, w, h]`` tight around the visible mask,
``area`` = number of mask pixels, ``iscrowd`` 0 and ``segmentation`` as
compressed RLE (mmdet's ``LoadAnnotations`` decodes it with its default
``poly2mask=True``). Each annotation also records the Fashion-MNIST item it
shows (``fmnist_split``, ``fmnist_index``); mmdet ignores these keys::

    dict(type='CocoDataset', data_root='data/fashion_scenes',
         ann_file='annotations/instances_train.json',
         data_prefix=dict(img='img_dir/train/'),
         metainfo=dict(classes=SCENE_CLASSES, palette=SCENE_PALETTE))

Generation is deterministic: scene ``i`` of a split depends only on
``(seed, split, i)`` and the generation parameters (a larger dataset is a
superset of a smaller one), and uses only integer arithmetic on numpy's
seeded PCG64 generator, so the output is identical across machines. The
checksums in ``meta.json`` hash pixel arrays and annotation files, not PNG
bytes (which depend on the zlib build).
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .fashion_mnist import (FASHION_MNIST_CLASSES, generation_params,
                            load_fashion_mnist)
from .generated import claim_out_dir, is_finished, read_meta, write_meta

#: Detection classes: the 10 Fashion-MNIST classes (COCO ids 1..10).
SCENE_CLASSES = FASHION_MNIST_CLASSES
#: Segmentation classes: background (label 0) then the 10 item classes.
SCENE_SEG_CLASSES = ('background', ) + SCENE_CLASSES
#: One RGB colour per item class.
SCENE_PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                 (148, 103, 189), (140, 86, 75), (227, 119, 194),
                 (127, 127, 127), (188, 189, 34), (23, 190, 207)]
#: Palette of :data:`SCENE_SEG_CLASSES` (black background).
SCENE_SEG_PALETTE = [(0, 0, 0)] + SCENE_PALETTE

#: ``metainfo`` for mmdet datasets on fashion scenes.
FASHION_SCENES_DET_METAINFO = dict(
    classes=SCENE_CLASSES, palette=SCENE_PALETTE)
#: ``metainfo`` for mmseg datasets on fashion scenes.
FASHION_SCENES_SEG_METAINFO = dict(
    classes=SCENE_SEG_CLASSES, palette=SCENE_SEG_PALETTE)

#: Scene split -> Fashion-MNIST split its items come from.
SCENE_SPLIT_SOURCES = {'train': 'train', 'val': 'test'}

# Bump when the generator's output changes for the same parameters, so that
# cached datasets are regenerated.
_FORMAT_VERSION = 1
_SPLIT_CODES = {'train': 0, 'val': 1}
_MIN_ITEM_PX = 8
_MIN_IMG_SIZE = 32
_GENERATOR = 'spikedet.datasets.generate_fashion_scenes'


def _axis_weights(n_in: int,
                  n_out: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer bilinear sampling along one axis (half-pixel centres).

    The source coordinate of output pixel ``i`` is
    ``(i + 0.5) * n_in / n_out - 0.5``, clamped to the image; returns the two
    neighbours and the weight of the second one in 1/256 units.
    """
    scaled = (2 * np.arange(n_out, dtype=np.int64) + 1) * n_in - n_out
    scaled = np.maximum(scaled, 0)  # = source coordinate * 2 * n_out
    i0 = scaled // (2 * n_out)
    frac = ((scaled - i0 * 2 * n_out) * 256) // (2 * n_out)
    i0 = np.minimum(i0, n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, frac


def resize_bilinear_uint8(img: np.ndarray, out_h: int,
                          out_w: int) -> np.ndarray:
    """Bilinear resize of a uint8 image in exact integer arithmetic.

    Pure integer maths, so the result is bit-identical on every machine
    (unlike float or library resamplers).

    Args:
        img (np.ndarray): uint8 ``[H, W]`` or ``[H, W, C]``.
        out_h (int): Output height (>= 1).
        out_w (int): Output width (>= 1).

    Returns:
        np.ndarray: uint8 ``[out_h, out_w(, C)]``.
    """
    if img.dtype != np.uint8:
        raise TypeError(f'expected a uint8 image, got {img.dtype}')
    if out_h < 1 or out_w < 1:
        raise ValueError(f'output size must be >= 1, got {(out_h, out_w)}')
    y0, y1, fy = _axis_weights(img.shape[0], out_h)
    x0, x1, fx = _axis_weights(img.shape[1], out_w)
    src = img.astype(np.int64)
    extra = (1, ) * (img.ndim - 2)
    fx = fx.reshape((1, -1) + extra)
    fy = fy.reshape((-1, 1) + extra)
    top = src[y0][:, x0] * (256 - fx) + src[y0][:, x1] * fx
    bottom = src[y1][:, x0] * (256 - fx) + src[y1][:, x1] * fx
    out = (top * (256 - fy) + bottom * fy + (1 << 15)) >> 16
    return out.astype(np.uint8)


def _make_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A seeded textured RGB background: smooth colour field, stripes or
    checkerboard, plus per-pixel noise (integer maths only)."""
    kind = int(rng.integers(0, 3))
    if kind == 0:  # smooth colour field
        grid = int(rng.integers(2, 6))
        coarse = rng.integers(0, 150, (grid, grid, 3), dtype=np.int64)
        bg = resize_bilinear_uint8(coarse.astype(np.uint8), size,
                                   size).astype(np.int64)
    else:
        c1 = rng.integers(0, 150, 3, dtype=np.int64)
        c2 = np.clip(c1 + rng.integers(-60, 61, 3, dtype=np.int64), 0, 150)
        period = int(rng.integers(3, max(4, size // 6) + 1))
        yy, xx = np.mgrid[0:size, 0:size]
        if kind == 1:  # stripes: horizontal, vertical or diagonal
            dy, dx = [(1, 0), (0, 1), (1, 1), (1, -1)][int(rng.integers(0, 4))]
            sel = ((yy * dy + xx * dx + 4 * size) // period) % 2
        else:  # checkerboard
            sel = (yy // period + xx // period) % 2
        bg = np.where(sel[..., None] == 1, c1, c2)
    amp = int(rng.integers(4, 25))
    bg = bg + rng.integers(-amp, amp + 1, (size, size, 3), dtype=np.int64)
    return np.clip(bg, 0, 255).astype(np.uint8)


def _render_scene(
        rng: np.random.Generator, items: np.ndarray, labels: np.ndarray,
        params: dict,
        size_range: Tuple[int,
                          int]) -> Tuple[np.ndarray, np.ndarray, List[Dict]]:
    """Compose one scene with the generation ``params`` (``img_size``,
    ``max_items``, ``fg_threshold``, ``min_visible``, ``min_area``). Returns
    (RGB image, semantic labels, instances)."""
    size, max_items = params['img_size'], params['max_items']
    fg_threshold, min_visible, min_area = (
        params[k] for k in ('fg_threshold', 'min_visible', 'min_area'))
    image = _make_background(rng, size)
    num = int(rng.integers(1, max_items + 1))
    placed = []
    for _ in range(num):
        index = int(rng.integers(0, len(items)))
        side = int(rng.integers(size_range[0], size_range[1] + 1))
        aspect = int(rng.integers(80, 126))  # width / height in percent
        h, w = side, max(_MIN_ITEM_PX, min(size, side * aspect // 100))
        top = int(rng.integers(0, size - h + 1))
        left = int(rng.integers(0, size - w + 1))
        tint = rng.integers(60, 256, 3, dtype=np.int64)
        tint[int(rng.integers(0, 3))] = 255  # keep every item bright enough
        gray = resize_bilinear_uint8(items[index], h, w)
        mask = np.zeros((size, size), dtype=bool)
        mask[top:top + h, left:left + w] = gray > fg_threshold
        colour = np.zeros((size, size, 3), dtype=np.uint8)
        colour[top:top + h,
               left:left + w] = ((gray[..., None].astype(np.int64) * tint) //
                                 255).astype(np.uint8)
        placed.append(
            dict(
                index=index,
                label=int(labels[index]),
                mask=mask,
                colour=colour))

    # Top-down: an item's visible part is what no kept later item covers.
    # Dropping an item only uncovers items below it, which are visited later.
    covered = np.zeros((size, size), dtype=bool)
    kept = []
    for item in reversed(placed):
        full = int(item['mask'].sum())
        visible = item['mask'] & ~covered
        area = int(visible.sum())
        if full == 0 or area < max(min_area, min_visible * full):
            continue
        covered |= item['mask']
        item['visible'] = visible
        item['area'] = area
        kept.append(item)
    kept.reverse()  # bottom-up again (drawing order)

    seg = np.zeros((size, size), dtype=np.uint8)
    for item in kept:
        image[item['mask']] = item['colour'][item['mask']]
        seg[item['visible']] = item['label'] + 1
    return image, seg, kept


def _mask_to_coco(mask: np.ndarray) -> Tuple[List[int], Dict]:
    """Tight ``[x, y, w, h]`` box and compressed RLE of a binary mask."""
    from pycocotools import mask as mask_utils
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    bbox = [x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1]
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return bbox, dict(size=[int(s) for s in rle['size']], counts=rle['counts'])


def _check_params(num_train, num_val, img_size, max_items, item_scale,
                  fg_threshold, min_visible, min_area) -> Tuple[int, int]:
    for name, value in (('num_train', num_train), ('num_val', num_val)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f'{name} must be an int >= 0, got {value!r}')
    if not isinstance(img_size, (int, np.integer)) or img_size < _MIN_IMG_SIZE:
        raise ValueError(
            f'img_size must be an int >= {_MIN_IMG_SIZE} (mmdet filters out '
            f'smaller images by default), got {img_size!r}')
    if not isinstance(max_items, (int, np.integer)) or max_items < 1:
        raise ValueError(f'max_items must be an int >= 1, got {max_items!r}')
    if (len(item_scale) != 2 or not 0 < item_scale[0] <= item_scale[1] <= 1):
        raise ValueError('item_scale must be (low, high) with 0 < low <= '
                         f'high <= 1 (fractions of img_size), got '
                         f'{item_scale!r}')
    lo = max(_MIN_ITEM_PX, int(round(item_scale[0] * img_size)))
    hi = max(lo, int(round(item_scale[1] * img_size)))
    if not 0 <= fg_threshold < 255:
        raise ValueError(f'fg_threshold must be in [0, 255), got '
                         f'{fg_threshold!r}')
    if not 0 <= min_visible <= 1:
        raise ValueError(f'min_visible must be in [0, 1], got '
                         f'{min_visible!r}')
    if min_area < 1:
        raise ValueError(f'min_area must be >= 1, got {min_area!r}')
    return lo, hi


def _outputs_present(out_dir: str, counts: Dict[str, int]) -> bool:
    for split, num in counts.items():
        if not osp.isfile(
                osp.join(out_dir, 'annotations', f'instances_{split}.json')):
            return False
        for sub in ('img_dir', 'ann_dir'):
            if num and not osp.isfile(
                    osp.join(out_dir, sub, split, f'{num:06d}.png')):
                return False
    return True


def _sha256_file(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def _split_dirs(out_dir: str, split: str) -> Tuple[str, str]:
    """Empty image and label folders of a split (ours: the output folder
    was claimed before)."""
    dirs = (osp.join(out_dir, 'img_dir',
                     split), osp.join(out_dir, 'ann_dir', split))
    for d in dirs:
        if osp.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
    return dirs


def _coco_annotations(kept: List[Dict], image_id: int, first_id: int,
                      fm_split: str) -> List[Dict]:
    """COCO annotations of the instances of one scene."""
    annotations = []
    for item in kept:
        bbox, rle = _mask_to_coco(item['visible'])
        annotations.append(
            dict(
                id=first_id + len(annotations),
                image_id=image_id,
                category_id=item['label'] + 1,
                bbox=bbox,
                area=item['area'],
                iscrowd=0,
                segmentation=rle,
                fmnist_split=fm_split,
                fmnist_index=item['index']))
    return annotations


def _write_split(out_dir: str, split: str, num: int, params: dict,
                 size_range: Tuple[int, int], source: Optional[str]) -> Dict:
    """Render, save and annotate the ``num`` scenes of a split.

    Returns:
        dict: The split's entry of ``meta.json``.
    """
    from PIL import Image

    fm_split = SCENE_SPLIT_SOURCES[split]
    items, labels = load_fashion_mnist(fm_split, source)
    img_dir, ann_dir = _split_dirs(out_dir, split)
    images, annotations = [], []
    img_hash, seg_hash = hashlib.sha256(), hashlib.sha256()
    for i in range(num):
        rng = np.random.default_rng([params['seed'], _SPLIT_CODES[split], i])
        image, seg, kept = _render_scene(rng, items, labels, params,
                                         size_range)
        image_id = i + 1
        name = f'{image_id:06d}.png'
        Image.fromarray(image).save(osp.join(img_dir, name), compress_level=1)
        Image.fromarray(seg).save(osp.join(ann_dir, name), compress_level=1)
        img_hash.update(image.tobytes())
        seg_hash.update(seg.tobytes())
        size = image.shape[0]
        images.append(
            dict(id=image_id, file_name=name, width=size, height=size))
        annotations += _coco_annotations(kept, image_id,
                                         len(annotations) + 1, fm_split)
    ann_file = osp.join(out_dir, 'annotations', f'instances_{split}.json')
    with open(ann_file, 'w') as f:
        json.dump(
            dict(
                info=dict(
                    description=f'spikedet fashion scenes ({split})',
                    version=str(_FORMAT_VERSION)),
                images=images,
                annotations=annotations,
                categories=[
                    dict(id=k + 1, name=name)
                    for k, name in enumerate(SCENE_CLASSES)
                ]), f)
    per_class = [0] * len(SCENE_CLASSES)
    for ann in annotations:
        per_class[ann['category_id'] - 1] += 1
    return dict(
        num_images=num,
        num_instances=len(annotations),
        instances_per_class=dict(zip(SCENE_CLASSES, per_class)),
        fmnist_split=fm_split,
        ann_file=osp.relpath(ann_file, out_dir),
        ann_sha256=_sha256_file(ann_file),
        img_pixels_sha256=img_hash.hexdigest(),
        seg_pixels_sha256=seg_hash.hexdigest())


def generate_fashion_scenes(out_dir: str,
                            num_train: int = 1000,
                            num_val: int = 200,
                            img_size: int = 128,
                            max_items: int = 4,
                            seed: int = 0,
                            source: Optional[str] = None,
                            item_scale: Sequence[float] = (0.2, 0.5),
                            fg_threshold: int = 24,
                            min_visible: float = 0.4,
                            min_area: int = 16) -> Dict:
    """Generate (or reuse) the fashion-scenes dataset in ``out_dir``.

    Nothing is written if ``out_dir/meta.json`` records the same parameters
    and source data and the files are present (``summary['cached']`` is then
    True). Otherwise the split folders are cleared and rewritten.

    Args:
        out_dir (str): Output directory (layout in the module docstring).
        num_train (int): Number of training scenes (items from Fashion-MNIST
            train). Defaults to 1000.
        num_val (int): Number of validation scenes (items from Fashion-MNIST
            test). Defaults to 200.
        img_size (int): Side of the square scenes in pixels (>= 32).
            Defaults to 128.
        max_items (int): Items pasted per scene, drawn uniformly from
            ``1..max_items`` (before occlusion drops). Defaults to 4.
        seed (int): Seed of the generator. Defaults to 0.
        source (str, optional): Fashion-MNIST directory, see
            :func:`~spikedet.datasets.load_fashion_mnist`. Defaults to None.
        item_scale (Sequence[float]): Range of the item height as a fraction
            of ``img_size`` (the width varies by 0.8-1.25x around it).
            Defaults to (0.2, 0.5), i.e. 26-64 px at 128 px.
        fg_threshold (int): A resized item pixel brighter than this is
            foreground. Defaults to 24.
        min_visible (float): An item keeps its instance only if at least
            this fraction of its foreground stays visible; otherwise it is
            removed from the scene. Defaults to 0.4.
        min_area (int): Minimum visible area in pixels of an instance.
            Defaults to 16.

    Returns:
        dict: The content of ``meta.json`` (``params``, ``classes``,
        ``seg_classes``, ``splits`` with per-split ``num_images``,
        ``num_instances``, ``instances_per_class``, ``ann_file``, checksums)
        plus ``out_dir``, ``cached`` and ``seconds``.
    """
    t0 = time.perf_counter()
    size_range = _check_params(num_train, num_val, img_size, max_items,
                               item_scale, fg_threshold, min_visible, min_area)
    params = generation_params(
        _FORMAT_VERSION,
        source,
        num_train=int(num_train),
        num_val=int(num_val),
        img_size=int(img_size),
        max_items=int(max_items),
        seed=int(seed),
        item_scale=[float(s) for s in item_scale],
        fg_threshold=int(fg_threshold),
        min_visible=float(min_visible),
        min_area=int(min_area),
    )
    counts = dict(train=int(num_train), val=int(num_val))
    old = read_meta(out_dir)
    if is_finished(old, params) and _outputs_present(out_dir, counts):
        return dict(
            old,
            out_dir=out_dir,
            cached=True,
            seconds=time.perf_counter() - t0)

    claim_out_dir(
        out_dir,
        old,
        _GENERATOR,
        params,
        folders=('img_dir', 'ann_dir', 'annotations'),
        make_dirs=('annotations', ))
    meta = dict(
        generator=_GENERATOR,
        complete=True,
        params=params,
        classes=list(SCENE_CLASSES),
        seg_classes=list(SCENE_SEG_CLASSES),
        palette=[list(c) for c in SCENE_PALETTE],
        reduce_zero_label=False,
        splits={
            split: _write_split(out_dir, split, num, params, size_range,
                                source)
            for split, num in counts.items()
        },
        numpy_version=np.__version__)
    write_meta(out_dir, meta)
    return dict(
        meta, out_dir=out_dir, cached=False, seconds=time.perf_counter() - t0)
