"""Fashion-MNIST: reading the IDX files and converting them for mmpretrain.

Fashion-MNIST (Xiao et al., 2017) is spikedet's embedded default data. It has
60,000 training and 10,000 test images (28x28 grayscale) of 10 classes. The
Debian package ``dataset-fashion-mnist`` installs the four original gzipped
IDX files into ``/usr/share/datasets/fashion-mnist``::

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

The source directory is resolved in this order: the ``source`` argument, the
environment variable ``SPIKEDET_FASHION_MNIST``, then the Debian path.

:func:`convert_fashion_mnist_cls` writes the layout mmpretrain's
``CustomDataset`` reads with ``ann_file`` (one ``<path> <label>`` line per
image, paths relative to the data root)::

    out_dir/train/00000.png ...    28x28 grayscale PNG, named by source index
    out_dir/test/00000.png ...
    out_dir/meta/train.txt         lines like ``train/00000.png 9``
    out_dir/meta/test.txt
    out_dir/meta/classes.txt       one class name per line
    out_dir/meta.json              conversion parameters (cache stamp)

A matching dataset config::

    dict(type='CustomDataset', data_root='data/fashion_mnist',
         ann_file='meta/train.txt', data_prefix='',
         classes='data/fashion_mnist/meta/classes.txt', ...)
"""
import functools
import gzip
import hashlib
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import numpy as np

from .generated import claim_out_dir, is_finished, read_meta, write_meta

#: The 10 Fashion-MNIST classes, in label order (label k is ``[k]``).
FASHION_MNIST_CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                         'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')

#: Where the Debian package ``dataset-fashion-mnist`` installs the files.
DEFAULT_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist'
#: Environment variable that overrides :data:`DEFAULT_FASHION_MNIST_DIR`.
FASHION_MNIST_ENV = 'SPIKEDET_FASHION_MNIST'

FASHION_MNIST_FILES = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
}

# IDX magic numbers: two zero bytes, the dtype code (0x08 = unsigned byte)
# and the number of dimensions.
_IDX_IMAGES_MAGIC = 0x00000803
_IDX_LABELS_MAGIC = 0x00000801

_CLS_FORMAT_VERSION = 1
_CLS_GENERATOR = 'spikedet.datasets.convert_fashion_mnist_cls'

_HOW_TO_INSTALL = (
    'Install it with `apt-get install dataset-fashion-mnist` (it lands in '
    f'{DEFAULT_FASHION_MNIST_DIR}), or pass --source DIR (or set '
    f'{FASHION_MNIST_ENV}=DIR) to a directory holding the four Fashion-MNIST '
    'files ' + ', '.join(f for pair in FASHION_MNIST_FILES.values()
                         for f in pair) + '.')


def resolve_fashion_mnist_source(source: Optional[str] = None) -> str:
    """Return the directory that holds the Fashion-MNIST IDX files.

    Args:
        source (str, optional): Directory with the four ``*-ubyte.gz`` files.
            Defaults to ``$SPIKEDET_FASHION_MNIST`` if set, else
            ``/usr/share/datasets/fashion-mnist``.

    Returns:
        str: The directory (not yet checked for existence).
    """
    if source is None:
        source = os.environ.get(FASHION_MNIST_ENV) or DEFAULT_FASHION_MNIST_DIR
    return osp.expanduser(str(source))


def _check_split(split: str) -> None:
    if split not in FASHION_MNIST_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def fashion_mnist_files(split: str,
                        source: Optional[str] = None) -> Tuple[str, str]:
    """Return the (images, labels) file paths of a split, checking they exist.

    Args:
        split (str): ``'train'`` or ``'test'``.
        source (str, optional): See :func:`resolve_fashion_mnist_source`.
            Defaults to None.

    Returns:
        tuple[str, str]: Paths of the image and label files.

    Raises:
        FileNotFoundError: The directory or one of the files is missing; the
            message says how to install the dataset.
    """
    _check_split(split)
    root = resolve_fashion_mnist_source(source)
    if not osp.isdir(root):
        raise FileNotFoundError(
            f'Fashion-MNIST directory {root!r} does not exist. ' +
            _HOW_TO_INSTALL)
    paths = tuple(osp.join(root, name) for name in FASHION_MNIST_FILES[split])
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(
            f'Fashion-MNIST file(s) missing: {", ".join(missing)}. ' +
            _HOW_TO_INSTALL)
    return paths


def read_idx_ubyte(path: str, expected_magic: int) -> np.ndarray:
    """Read a gzipped (or plain) IDX file of unsigned bytes.

    Args:
        path (str): The ``*-ubyte.gz`` (or ``*-ubyte``) file.
        expected_magic (int): ``0x801`` for a 1-D label file, ``0x803`` for a
            3-D image file.

    Returns:
        np.ndarray: uint8 array with the shape stored in the header.

    Raises:
        ValueError: The file is not a valid IDX file of that kind (wrong
            magic number, truncated data, or not gzip).
    """
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rb') as f:
            data = f.read()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(
            f'{path!r} cannot be read as a gzipped IDX file ({e}); the file '
            'is corrupted. Reinstall it (`apt-get install --reinstall '
            'dataset-fashion-mnist`) or download it again.') from e
    if len(data) < 4:
        raise ValueError(f'{path!r} is too short to be an IDX file '
                         f'({len(data)} bytes); the file is corrupted.')
    magic = int.from_bytes(data[:4], 'big')
    if magic != expected_magic:
        raise ValueError(
            f'{path!r} has IDX magic number {magic:#010x}, expected '
            f'{expected_magic:#010x} (ubyte, {expected_magic & 0xff}-D); it '
            'is not the expected Fashion-MNIST file or it is corrupted.')
    ndim = magic & 0xff
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f'{path!r}: truncated IDX header; the file is '
                         'corrupted.')
    shape = tuple(
        int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    count = int(np.prod(shape))
    if len(data) - header != count:
        raise ValueError(
            f'{path!r}: header says shape {shape} ({count} bytes) but the '
            f'file holds {len(data) - header} data bytes; the file is '
            'truncated or corrupted.')
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def write_idx_ubyte(path: str, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (gzipped if ``path`` ends in .gz).

    The inverse of :func:`read_idx_ubyte`; handy to build a stand-in
    Fashion-MNIST directory (e.g. for tests or a custom item set).

    Args:
        path (str): Output file.
        array (np.ndarray): uint8 array with 1 to 255 dimensions.
    """
    if array.dtype != np.uint8 or not 1 <= array.ndim <= 255:
        raise ValueError('write_idx_ubyte writes uint8 arrays with 1-255 '
                         f'dimensions, got {array.dtype} with {array.ndim}')
    header = (0x800 + array.ndim).to_bytes(4, 'big') + b''.join(
        int(d).to_bytes(4, 'big') for d in array.shape)
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'wb') as f:
        f.write(header + np.ascontiguousarray(array).tobytes())


@functools.lru_cache(maxsize=4)
def _load_cached(images_path: str, labels_path: str,
                 mtimes: tuple) -> Tuple[np.ndarray, np.ndarray]:
    images = read_idx_ubyte(images_path, _IDX_IMAGES_MAGIC)
    labels = read_idx_ubyte(labels_path, _IDX_LABELS_MAGIC).astype(np.int64)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f'{images_path!r} holds {images.shape[0]} images but '
            f'{labels_path!r} holds {labels.shape[0]} labels; the files do '
            'not belong together.')
    if images.shape[1:] != (28, 28):
        raise ValueError(f'{images_path!r} holds images of shape '
                         f'{images.shape[1:]}, expected (28, 28).')
    if labels.size and labels.max() >= len(FASHION_MNIST_CLASSES):
        raise ValueError(f'{labels_path!r} holds label {labels.max()}, '
                         f'expected 0..{len(FASHION_MNIST_CLASSES) - 1}.')
    # Shared between callers through the cache: make them read-only.
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_fashion_mnist(
        split: str = 'train',
        source: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Load one split of Fashion-MNIST.

    Args:
        split (str): ``'train'`` (60,000 images) or ``'test'`` (10,000).
            Defaults to ``'train'``.
        source (str, optional): Directory with the four ``*-ubyte.gz`` files.
            Defaults to ``$SPIKEDET_FASHION_MNIST`` if set, else
            ``/usr/share/datasets/fashion-mnist``.

    Returns:
        tuple[np.ndarray, np.ndarray]: Read-only ``images`` (uint8,
        ``[N, 28, 28]``, white object on black) and ``labels`` (int64,
        ``[N]``, indices into :data:`FASHION_MNIST_CLASSES`).

    Raises:
        FileNotFoundError: The files are missing (the message says how to
            install them).
        ValueError: A file is corrupted or the files do not belong together.
    """
    images_path, labels_path = fashion_mnist_files(split, source)
    mtimes = tuple((os.stat(p).st_mtime_ns, os.stat(p).st_size)
                   for p in (images_path, labels_path))
    return _load_cached(
        osp.abspath(images_path), osp.abspath(labels_path), mtimes)


def fashion_mnist_source_digest(source: Optional[str] = None) -> str:
    """sha256 over the four Fashion-MNIST files (identifies the source data).

    Args:
        source (str, optional): See :func:`load_fashion_mnist`. Defaults to
            None.

    Returns:
        str: Hex digest.
    """
    paths = [
        p for split in ('train', 'test')
        for p in fashion_mnist_files(split, source)
    ]
    key = tuple((osp.abspath(p), os.stat(p).st_mtime_ns, os.stat(p).st_size)
                for p in paths)
    return _digest_cached(key)


def generation_params(format_version: int, source: Optional[str],
                      **settings) -> dict:
    """The parameters that ``meta.json`` of a dataset made from Fashion-MNIST
    records (a finished output is reused only if they are equal).

    Args:
        format_version (int): Version of the generator's output format.
        source (str, optional): See :func:`load_fashion_mnist`.
        **settings: The generator's settings.

    Returns:
        dict: ``format_version``, ``source_sha256`` (see
        :func:`fashion_mnist_source_digest`; fails early if the source is
        missing) and the settings.
    """
    return dict(
        format_version=format_version,
        source_sha256=fashion_mnist_source_digest(source),
        **settings)


@functools.lru_cache(maxsize=4)
def _digest_cached(key: tuple) -> str:
    h = hashlib.sha256()
    for path, _, _ in key:
        h.update(osp.basename(path).encode())
        with open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(1 << 20), b''):
                h.update(chunk)
    return h.hexdigest()


def _select(num: Optional[int], total: int, name: str) -> int:
    if num is None:
        return total
    if not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f'{name} must be a non-negative int or None, got '
                         f'{num!r}')
    if num > total:
        raise ValueError(f'{name}={num} exceeds the {total} images of the '
                         'split.')
    return int(num)


def _has_png(path: str) -> bool:
    return any(n.endswith('.png') for n in os.listdir(path))


def _cls_files_present(out_dir: str, splits: Dict[str, int]) -> bool:
    """Whether every file a finished conversion wrote is still there."""
    for split, num in splits.items():
        if not osp.isfile(osp.join(out_dir, 'meta', f'{split}.txt')):
            return False
        last = osp.join(out_dir, split, f'{num - 1:05d}.png')
        if num and not osp.isfile(last):
            return False
    return osp.isfile(osp.join(out_dir, 'meta', 'classes.txt'))


def convert_fashion_mnist_cls(out_dir: str,
                              source: Optional[str] = None,
                              num_train: Optional[int] = None,
                              num_test: Optional[int] = None) -> Dict:
    """Write Fashion-MNIST as PNG files + annotation lists for mmpretrain.

    The first ``num_train`` / ``num_test`` images of each split are written
    (Fashion-MNIST's order is already shuffled), named by their index in the
    source split. The conversion is skipped if ``out_dir/meta.json`` records
    the same parameters and source data and all files are present.

    Args:
        out_dir (str): Output directory (see the module docstring for the
            layout).
        source (str, optional): See :func:`load_fashion_mnist`. Defaults to
            None.
        num_train (int, optional): Number of training images. Defaults to
            None (all, 60,000 for Fashion-MNIST).
        num_test (int, optional): Number of test images. Defaults to None
            (all, 10,000 for Fashion-MNIST).

    Returns:
        dict: Summary with ``out_dir``, ``num_train``, ``num_test``,
        ``classes``, ``ann_files`` and ``cached`` (True if nothing was
        written).
    """
    from PIL import Image

    # Resolve the source first: a missing dataset fails before any output.
    fashion_mnist_source_digest(source)
    data = {
        split: load_fashion_mnist(split, source)
        for split in FASHION_MNIST_FILES
    }
    splits = {}
    for split, num, name in (('train', num_train, 'num_train'),
                             ('test', num_test, 'num_test')):
        splits[split] = _select(num, len(data[split][1]), name)
    params = generation_params(
        _CLS_FORMAT_VERSION,
        source,
        num_train=splits['train'],
        num_test=splits['test'])
    summary = dict(
        out_dir=out_dir,
        num_train=splits['train'],
        num_test=splits['test'],
        classes=list(FASHION_MNIST_CLASSES),
        ann_files={s: osp.join(out_dir, 'meta', f'{s}.txt')
                   for s in splits},
        classes_file=osp.join(out_dir, 'meta', 'classes.txt'))

    old = read_meta(out_dir)
    if is_finished(old, params) and _cls_files_present(out_dir, splits):
        return dict(summary, cached=True)

    claim_out_dir(
        out_dir,
        old,
        _CLS_GENERATOR,
        params,
        folders=list(FASHION_MNIST_FILES),
        make_dirs=['meta'],
        foreign=_has_png)
    for split, num in splits.items():
        images, labels = data[split]
        split_dir = osp.join(out_dir, split)
        os.makedirs(split_dir, exist_ok=True)
        # Stale images of an earlier, larger conversion would be unlisted
        # but still present: remove them.
        keep = {f'{i:05d}.png' for i in range(num)}
        for name in os.listdir(split_dir):
            if name.endswith('.png') and name not in keep:
                os.remove(osp.join(split_dir, name))
        lines = []
        for i in range(num):
            name = f'{i:05d}.png'
            Image.fromarray(np.ascontiguousarray(images[i])).save(
                osp.join(split_dir, name))
            lines.append(f'{split}/{name} {int(labels[i])}\n')
        with open(summary['ann_files'][split], 'w') as f:
            f.writelines(lines)
    with open(summary['classes_file'], 'w') as f:
        f.writelines(c + '\n' for c in FASHION_MNIST_CLASSES)
    write_meta(
        out_dir,
        dict(
            generator=_CLS_GENERATOR,
            complete=True,
            params=params,
            classes=list(FASHION_MNIST_CLASSES)))
    return dict(summary, cached=False)
