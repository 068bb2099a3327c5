"""Draw a grid of fashion scenes with their annotations into one PNG.

Each cell shows a scene with its COCO instances (mask overlay, box and class
name) and, to its right, the mmseg label map in the segmentation palette::

    python tools/misc/browse_fashion_scenes.py data/fashion_scenes \
        --split val --num 16 --out fashion_scenes_val.png
"""
import argparse
import json
import os.path as osp
import sys
from typing import List

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from spikedet.datasets.fashion_scenes import (SCENE_CLASSES, SCENE_PALETTE,
                                              SCENE_SEG_PALETTE)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'data_root',
        nargs='?',
        default='data/fashion_scenes',
        help='output of tools/dataset_converters/'
        'fashion_mnist.py scenes')
    parser.add_argument('--split', default='val', choices=['train', 'val'])
    parser.add_argument(
        '--num', type=int, default=16, help='number of scenes (the first N)')
    parser.add_argument('--cols', type=int, default=4)
    parser.add_argument(
        '--scale',
        type=int,
        default=3,
        help='nearest-neighbour upscaling of each scene')
    parser.add_argument(
        '--alpha',
        type=float,
        default=0.45,
        help='opacity of the mask overlay')
    parser.add_argument('--out', default='fashion_scenes_grid.png')
    return parser.parse_args(argv)


def _font(size: int) -> ImageFont.ImageFont:
    """Pillow's built-in font, scalable where FreeType is available."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):
        return ImageFont.load_default()


def draw_scene(root: str, split: str, image_info: dict, anns: List[dict],
               scale: int, alpha: float) -> Image.Image:
    """One cell: annotated scene | colour-coded semantic label map."""
    from pycocotools import mask as mask_utils

    name = image_info['file_name']
    img = np.array(
        Image.open(osp.join(root, 'img_dir', split, name)).convert('RGB'),
        dtype=np.float32)
    seg = np.array(Image.open(osp.join(root, 'ann_dir', split, name)))
    for ann in anns:
        mask = mask_utils.decode(ann['segmentation']).astype(bool)
        colour = np.array(SCENE_PALETTE[ann['category_id'] - 1], np.float32)
        img[mask] = (1 - alpha) * img[mask] + alpha * colour
    h, w = seg.shape
    left = Image.fromarray(img.round().astype(np.uint8)).resize(
        (w * scale, h * scale), Image.NEAREST)
    right = Image.fromarray(np.array(SCENE_SEG_PALETTE, np.uint8)[seg]).resize(
        (w * scale, h * scale), Image.NEAREST)
    draw = ImageDraw.Draw(left)
    font = _font(10 + 2 * scale)
    for ann in anns:
        x, y, bw, bh = [v * scale for v in ann['bbox']]
        colour = tuple(SCENE_PALETTE[ann['category_id'] - 1])
        draw.rectangle([x, y, x + bw - 1, y + bh - 1], outline=colour, width=2)
        label = SCENE_CLASSES[ann['category_id'] - 1]
        tx, ty = x + 2, max(0, y - getattr(font, 'size', 10) - 2)
        box = draw.textbbox((tx, ty), label, font=font)
        draw.rectangle(box, fill=(0, 0, 0))
        draw.text((tx, ty), label, fill=colour, font=font)
    cell = Image.new('RGB', (2 * w * scale + 4, h * scale + 14), 'white')
    font = _font(10)
    cell.paste(left, (0, 0))
    cell.paste(right, (w * scale + 4, 0))
    ImageDraw.Draw(cell).text((2, h * scale + 1),
                              f'{split}/{name}: {len(anns)} instances',
                              fill=(0, 0, 0),
                              font=font)
    return cell


def main(argv=None):
    args = parse_args(argv)
    ann_file = osp.join(args.data_root, 'annotations',
                        f'instances_{args.split}.json')
    if not osp.isfile(ann_file):
        print(
            f'error: {ann_file} not found; generate the scenes first with '
            'python tools/dataset_converters/fashion_mnist.py scenes '
            f'--out-dir {args.data_root}',
            file=sys.stderr)
        return 1
    with open(ann_file) as f:
        coco = json.load(f)
    by_image = {}
    for ann in coco['annotations']:
        by_image.setdefault(ann['image_id'], []).append(ann)
    infos = coco['images'][:args.num]
    if not infos:
        print(f'error: {ann_file} holds no images', file=sys.stderr)
        return 1
    cells = [
        draw_scene(args.data_root, args.split, info,
                   by_image.get(info['id'], []), args.scale, args.alpha)
        for info in infos
    ]
    cw, ch = cells[0].size
    cols = min(args.cols, len(cells))
    rows = (len(cells) + cols - 1) // cols
    grid = Image.new('RGB', (cols * (cw + 6), rows * (ch + 6)), 'white')
    for i, cell in enumerate(cells):
        grid.paste(cell, ((i % cols) * (cw + 6), (i // cols) * (ch + 6)))
    grid.save(args.out)
    print(f'wrote {args.out}: {len(cells)} {args.split} scenes of '
          f'{args.data_root}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
