import gzip
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from spikedet.datasets.fashion_mnist import (FASHION_MNIST_CLASSES,
                                             FASHION_MNIST_ENV,
                                             convert_fashion_mnist_cls,
                                             load_fashion_mnist,
                                             read_idx_ubyte, write_idx_ubyte)

IMAGES_MAGIC, LABELS_MAGIC = 0x803, 0x801  # ubyte, 3-D / 1-D


def make_source(root, num_train=6, num_test=4, seed=0):
    """A fake Fashion-MNIST directory; returns the arrays it holds."""
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    arrays = {}
    for split, prefix, num in (('train', 'train', num_train), ('test', 't10k',
                                                               num_test)):
        images = rng.integers(0, 256, (num, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, num, dtype=np.uint8)
        write_idx_ubyte(
            osp.join(root, f'{prefix}-images-idx3-ubyte.gz'), images)
        write_idx_ubyte(
            osp.join(root, f'{prefix}-labels-idx1-ubyte.gz'), labels)
        arrays[split] = (images, labels)
    return arrays


def test_classes():
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[0] == 'T-shirt/top'
    assert FASHION_MNIST_CLASSES[9] == 'Ankle boot'


@pytest.mark.parametrize('split,num', [('train', 60000), ('test', 10000)])
def test_load_installed(split, num):
    images, labels = load_fashion_mnist(split)
    assert images.shape == (num, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (num, ) and labels.dtype == np.int64
    # Fashion-MNIST is balanced: every class has a tenth of each split.
    np.testing.assert_array_equal(np.bincount(labels), [num // 10] * 10)
    assert 0 < images.mean() < 255
    # Shared through a cache: must not be writable.
    with pytest.raises(ValueError):
        images[0, 0, 0] = 1


def test_load_source_and_env(tmp_path, monkeypatch):
    arrays = make_source(str(tmp_path / 'src'))
    images, labels = load_fashion_mnist('test', source=str(tmp_path / 'src'))
    np.testing.assert_array_equal(images, arrays['test'][0])
    np.testing.assert_array_equal(labels, arrays['test'][1])
    monkeypatch.setenv(FASHION_MNIST_ENV, str(tmp_path / 'src'))
    images, labels = load_fashion_mnist('train')
    np.testing.assert_array_equal(images, arrays['train'][0])
    assert labels.dtype == np.int64


def test_idx_round_trip(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    write_idx_ubyte(str(tmp_path / 'l-ubyte'), labels)  # uncompressed
    with open(tmp_path / 'l-ubyte', 'rb') as f:
        assert f.read(4) == bytes([0, 0, 8, 1])
    np.testing.assert_array_equal(
        read_idx_ubyte(str(tmp_path / 'l-ubyte'), LABELS_MAGIC), labels)
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx_ubyte(str(tmp_path / 'i-ubyte.gz'), images)
    np.testing.assert_array_equal(
        read_idx_ubyte(str(tmp_path / 'i-ubyte.gz'), IMAGES_MAGIC), images)
    with pytest.raises(ValueError, match='uint8'):
        write_idx_ubyte(str(tmp_path / 'x'), images.astype(np.int16))


def test_missing_dir_and_file(tmp_path):
    with pytest.raises(
            FileNotFoundError, match='apt-get install dataset-fashion-mnist'):
        load_fashion_mnist('train', source=str(tmp_path / 'nowhere'))
    make_source(str(tmp_path / 'src'))
    os.remove(tmp_path / 'src' / 't10k-labels-idx1-ubyte.gz')
    load_fashion_mnist('train', source=str(tmp_path / 'src'))  # still fine
    with pytest.raises(
            FileNotFoundError,
            match='t10k-labels-idx1-ubyte.gz.*--source DIR'):
        load_fashion_mnist('test', source=str(tmp_path / 'src'))
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_fashion_mnist('val', source=str(tmp_path / 'src'))


def test_corrupted_files(tmp_path):
    src = tmp_path / 'src'
    make_source(str(src))
    images_gz = str(src / 'train-images-idx3-ubyte.gz')
    labels_gz = str(src / 'train-labels-idx1-ubyte.gz')
    # Label file where the image file should be: wrong magic number.
    write_idx_ubyte(images_gz, np.zeros(6, np.uint8))
    with pytest.raises(ValueError, match='magic number'):
        load_fashion_mnist('train', source=str(src))
    # Truncated data.
    with gzip.open(images_gz, 'wb') as f:
        f.write(
            IMAGES_MAGIC.to_bytes(4, 'big') +
            b''.join(d.to_bytes(4, 'big') for d in (6, 28, 28)) + bytes(100))
    with pytest.raises(ValueError, match='truncated'):
        load_fashion_mnist('train', source=str(src))
    # Not gzip at all.
    with open(images_gz, 'wb') as f:
        f.write(b'this is not a gzip file')
    with pytest.raises(ValueError, match='corrupted'):
        load_fashion_mnist('train', source=str(src))
    # Images and labels of different lengths.
    write_idx_ubyte(images_gz, np.zeros((6, 28, 28), np.uint8))
    write_idx_ubyte(labels_gz, np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match='do not belong together'):
        load_fashion_mnist('train', source=str(src))


def test_convert_layout(fashion_mnist_cls_root):
    root = fashion_mnist_cls_root
    with open(osp.join(root, 'meta', 'classes.txt')) as f:
        assert tuple(f.read().splitlines()) == FASHION_MNIST_CLASSES
    for split, num in (('train', 64), ('test', 32)):
        images, labels = load_fashion_mnist(split)
        with open(osp.join(root, 'meta', f'{split}.txt')) as f:
            lines = f.read().splitlines()
        assert len(lines) == num
        assert lines[0] == f'{split}/00000.png {labels[0]}'
        for i in (0, num - 1):
            path, label = lines[i].rsplit(' ', 1)
            assert int(label) == labels[i]
            png = Image.open(osp.join(root, path))
            assert png.mode == 'L'
            np.testing.assert_array_equal(np.array(png), images[i])
        assert len(os.listdir(osp.join(root, split))) == num


def test_convert_cache_and_stale_files(tmp_path):
    src = str(tmp_path / 'src')
    make_source(src, num_train=6, num_test=4)
    out = str(tmp_path / 'out')
    summary = convert_fashion_mnist_cls(out, source=src)
    assert not summary['cached']
    assert summary['num_train'] == 6 and summary['num_test'] == 4
    stamp = os.stat(osp.join(out, 'train', '00000.png')).st_mtime_ns
    again = convert_fashion_mnist_cls(out, source=src)
    assert again['cached']
    assert os.stat(osp.join(out, 'train', '00000.png')).st_mtime_ns == stamp
    # Fewer images: rewritten, and the now unlisted PNGs are gone.
    fewer = convert_fashion_mnist_cls(out, source=src, num_train=2)
    assert not fewer['cached']
    assert sorted(os.listdir(osp.join(out,
                                      'train'))) == ['00000.png', '00001.png']
    with open(osp.join(out, 'meta.json')) as f:
        meta = json.load(f)
    assert meta['complete'] and meta['params']['num_train'] == 2
    # A deleted image invalidates the cache.
    os.remove(osp.join(out, 'train', '00001.png'))
    assert not convert_fashion_mnist_cls(
        out, source=src, num_train=2)['cached']
    assert osp.isfile(osp.join(out, 'train', '00001.png'))


def test_convert_bad_args(tmp_path):
    src = str(tmp_path / 'src')
    make_source(src, num_train=6, num_test=4)
    with pytest.raises(ValueError, match='exceeds'):
        convert_fashion_mnist_cls(str(tmp_path / 'o'), source=src, num_train=7)
    with pytest.raises(ValueError, match='num_test'):
        convert_fashion_mnist_cls(str(tmp_path / 'o'), source=src, num_test=-1)
    with pytest.raises(FileNotFoundError, match='--source'):
        convert_fashion_mnist_cls(
            str(tmp_path / 'o2'), source=str(tmp_path / 'missing'))
    assert not osp.exists(tmp_path / 'o2')
    # Someone else's images are not overwritten.
    os.makedirs(tmp_path / 'foreign' / 'train')
    Image.fromarray(np.zeros(
        (4, 4), np.uint8)).save(tmp_path / 'foreign' / 'train' / 'cat.png')
    with pytest.raises(FileExistsError, match='did not write'):
        convert_fashion_mnist_cls(str(tmp_path / 'foreign'), source=src)


def test_mmpretrain_custom_dataset(fashion_mnist_cls_root):
    from mmpretrain.datasets import CustomDataset

    root = fashion_mnist_cls_root
    for split, num in (('train', 64), ('test', 32)):
        dataset = CustomDataset(
            data_root=root,
            ann_file=f'meta/{split}.txt',
            data_prefix='',
            classes=osp.join(root, 'meta', 'classes.txt'),
            pipeline=[])
        assert len(dataset) == num
        assert dataset.CLASSES == FASHION_MNIST_CLASSES
        info = dataset.get_data_info(num - 1)
        assert osp.isfile(info['img_path'])
        assert info['gt_label'] == load_fashion_mnist(split)[1][num - 1]
