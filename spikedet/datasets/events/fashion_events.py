"""Event-camera versions of Fashion-MNIST and the fashion scenes.

Like N-MNIST (recorded by moving a DVS in front of MNIST digits), each
Fashion-MNIST item or fashion scene is moved along a seeded sub-pixel
saccade path and recorded by the pixel model of
:mod:`spikedet.datasets.events.dvs`.

**Event classification** (:func:`generate_fashion_event_cls`): one stream
per Fashion-MNIST item, train items for ``train``, test items for
``test``, in spikingjelly's layout of processed event datasets (the layout
of its N-MNIST, DVS128 Gesture and CIFAR10-DVS ``events_np`` folders, so
the same pipelines read both)::

    out_dir/events_np/train/<label>/<index>.npz   keys t, x, y, p
    out_dir/events_np/test/<label>/<index>.npz
    out_dir/meta.json                             parameters, counts

``<label>`` is the Fashion-MNIST class index (``0``..``9``, the folder
names N-MNIST uses) and ``<index>`` the item's index in its split. The
items sit in the middle of a 34x34 sensor (N-MNIST's size) and move along
three saccades of up to 2 pixels (a closed triangle) in 0.3 s.

**Event scenes** (:func:`generate_fashion_event_scenes`): the fashion
scenes of :func:`~spikedet.datasets.generate_fashion_scenes` (same
boxes, masks and label maps; generated first, or reused, in
``scenes_dir``) recorded in grayscale under a small closed camera motion
around the scene's rest position, where the labels hold::

    out_dir/events_np/{train,val}/000001.npz      keys t, x, y, p
    out_dir/ann_dir/{train,val}/000001.png        label maps (copied)
    out_dir/annotations/instances_{train,val}.json  COCO, file_name *.npz
    out_dir/meta.json

Streams are deterministic: stream ``i`` of a split depends only on
``(seed, split, i)`` and the parameters.
"""
import glob
import json
import os
import os.path as osp
import shutil
import time
from typing import Dict, Optional, Sequence

import numpy as np

from ..fashion_mnist import (FASHION_MNIST_CLASSES,
                             fashion_mnist_source_digest, load_fashion_mnist)
from ..fashion_scenes import generate_fashion_scenes
from ..generated import read_json
from .dvs import record_saccades

_CLS_GENERATOR = 'spikedet.datasets.generate_fashion_event_cls'
_SCENES_GENERATOR = 'spikedet.datasets.generate_fashion_event_scenes'
_FORMAT_VERSION = 1
# Recording seeds: [seed, _STREAM_TAG + split code, index] (distinct from
# the scene generator's [seed, split code, index]).
_STREAM_TAG = 100
_SPLIT_CODES = {'train': 0, 'test': 1, 'val': 1}

#: Default DVS pixel parameters (see :class:`~.dvs.DVSSensor`).
DEFAULT_SENSOR = dict(
    contrast=0.25,
    threshold_mismatch=0.03,
    refractory_us=1000,
    noise_rate_hz=0.2)


def save_events(path: str, events: Dict[str, np.ndarray]) -> None:
    """Save a stream as spikingjelly does (``np_savez`` with t/x/y/p)."""
    from spikingjelly.datasets import np_savez
    np_savez(path, t=events['t'], x=events['x'], y=events['y'], p=events['p'])


def _claim(out_dir: str, generator: str, params: dict,
           counts: Sequence[str]) -> Optional[dict]:
    """Return the old meta if ``out_dir`` holds a finished generation with
    the same parameters; otherwise make sure the folder is ours and mark
    it incomplete. Streams of an earlier run that differs only in the
    stream counts ``counts`` are kept (stream ``i`` does not depend on
    them); anything else is cleared."""
    old = read_json(osp.join(out_dir, 'meta.json'))
    if (old is not None and old.get('generator') == generator
            and old.get('complete') and old.get('params') == params):
        return old
    events_dir = osp.join(out_dir, 'events_np')
    ours = old is not None and old.get('generator') == generator
    if not ours and osp.isdir(events_dir) and os.listdir(events_dir):
        raise FileExistsError(
            f'{events_dir!r} is not empty and was not written by {generator} '
            '(no meta.json of ours). Choose an empty or new --out-dir, or '
            'delete that folder yourself.')

    def fixed(p):
        return {k: v for k, v in (p or {}).items() if k not in counts}

    if not ours or fixed(old.get('params')) != fixed(params):
        if osp.isdir(events_dir):
            shutil.rmtree(events_dir)
    os.makedirs(events_dir, exist_ok=True)
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(
            dict(generator=generator, complete=False, params=params),
            f,
            indent=2)
    return None


def _drop_beyond(folder_glob: str, num: int, offset: int = 0) -> None:
    """Delete streams numbered ``>= num + offset`` (left by a larger run)."""
    for path in glob.glob(osp.join(folder_glob, '*.npz')):
        if int(osp.basename(path)[:-4]) >= num + offset:
            os.remove(path)


def _readable(path: str) -> bool:
    """Whether ``path`` is a complete stream (kept from an earlier run)."""
    try:
        with np.load(path) as npz:
            return all(len(npz[k]) >= 0 for k in 'txyp')
    except Exception:  # missing, truncated by an interrupted run, ...
        return False


def _recording(seed: int, duration_us: int, step_us: int, amplitude: float,
               sensor_cfg: Optional[dict]) -> dict:
    """The recording parameters both generators store in their meta."""
    return dict(
        seed=int(seed),
        duration_us=int(duration_us),
        step_us=int(step_us),
        amplitude=float(amplitude),
        sensor=dict(DEFAULT_SENSOR, **(sensor_cfg or {})))


def _result(meta: dict, out_dir: str, cached: bool, t0: float) -> dict:
    """What the generators return: the meta plus where, cached, seconds."""
    return dict(
        meta, out_dir=out_dir, cached=cached, seconds=time.perf_counter() - t0)


def _finish(out_dir: str, meta: dict) -> None:
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)


def generate_fashion_event_cls(out_dir: str,
                               num_train: int = 1000,
                               num_test: int = 400,
                               seed: int = 0,
                               source: Optional[str] = None,
                               sensor_size: int = 34,
                               duration_us: int = 300_000,
                               step_us: int = 5000,
                               amplitude: float = 2.0,
                               sensor_cfg: Optional[dict] = None) -> Dict:
    """Record the first ``num_train``/``num_test`` Fashion-MNIST items.

    Args:
        out_dir (str): Output folder (layout in the module docstring).
        num_train (int): Training streams (first items of the train
            split). Defaults to 1000 (a quickstart subset; 60000 for all).
        num_test (int): Test streams. Defaults to 400 (10000 for all).
        seed (int): Seed. Defaults to 0.
        source (str, optional): Fashion-MNIST folder, see
            :func:`~spikedet.datasets.load_fashion_mnist`. Defaults to None.
        sensor_size (int): Square sensor side (>= 28). Defaults to 34.
        duration_us (int): Length of a recording. Defaults to 300000.
        step_us (int): Rendering interval of the motion (at most ~0.3 px
            of motion per step). Defaults to 5000.
        amplitude (float): Saccade amplitude in pixels. Defaults to 2.0.
        sensor_cfg (dict, optional): Overrides of :data:`DEFAULT_SENSOR`.
            Defaults to None.

    Returns:
        dict: ``meta.json``'s content plus ``out_dir``, ``cached`` and
        ``seconds``.
    """
    t0 = time.perf_counter()
    if sensor_size < 28:
        raise ValueError(f'sensor_size must be >= 28, got {sensor_size}')
    params = dict(
        format_version=_FORMAT_VERSION,
        source_sha256=fashion_mnist_source_digest(source),
        num_train=int(num_train),
        num_test=int(num_test),
        sensor_size=int(sensor_size),
        **_recording(seed, duration_us, step_us, amplitude, sensor_cfg))
    sensor = params['sensor']
    old = _claim(out_dir, _CLS_GENERATOR, params, ('num_train', 'num_test'))
    if old is not None:
        return _result(old, out_dir, True, t0)
    pad = (sensor_size - 28) / 2.
    splits = {}
    for split, num in (('train', num_train), ('test', num_test)):
        images, labels = load_fashion_mnist(split, source)
        if not 0 <= num <= len(labels):
            raise ValueError(f'num_{split}={num} is outside 0..'
                             f'{len(labels)}')
        for k in range(len(FASHION_MNIST_CLASSES)):
            os.makedirs(
                osp.join(out_dir, 'events_np', split, str(k)), exist_ok=True)
        _drop_beyond(osp.join(out_dir, 'events_np', split, '*'), num)
        num_events = 0
        for i in range(num):
            path = osp.join(out_dir, 'events_np', split, str(int(labels[i])),
                            f'{i:05d}.npz')
            if not _readable(path):
                rng = np.random.default_rng(
                    [seed, _STREAM_TAG + _SPLIT_CODES[split], i])
                save_events(
                    path,
                    record_saccades(
                        images[i],
                        rng, (sensor_size, sensor_size), (pad, pad),
                        duration_us,
                        step_us,
                        amplitude=amplitude,
                        **sensor))
            with np.load(path) as npz:
                num_events += len(npz['t'])
        splits[split] = dict(num_streams=int(num), num_events=num_events)
    meta = dict(
        generator=_CLS_GENERATOR,
        complete=True,
        params=params,
        classes=list(FASHION_MNIST_CLASSES),
        sensor_hw=[sensor_size, sensor_size],
        splits=splits)
    _finish(out_dir, meta)
    return _result(meta, out_dir, False, t0)


def generate_fashion_event_scenes(out_dir: str,
                                  scenes_dir: str,
                                  num_train: Optional[int] = None,
                                  num_val: Optional[int] = None,
                                  seed: int = 0,
                                  source: Optional[str] = None,
                                  duration_us: int = 100_000,
                                  step_us: int = 2000,
                                  amplitude: float = 1.5,
                                  sensor_cfg: Optional[dict] = None,
                                  scene_cfg: Optional[dict] = None) -> Dict:
    """Record the fashion scenes under a small closed camera motion.

    Args:
        out_dir (str): Output folder (layout in the module docstring).
        scenes_dir (str): Folder of the RGB fashion scenes; generated there
            by :func:`~spikedet.datasets.generate_fashion_scenes` with
            ``seed``, ``source`` and ``scene_cfg`` (or reused if it already
            holds them).
        num_train (int, optional): Record the first N training scenes.
            Defaults to None (all).
        num_val (int, optional): Record the first N validation scenes.
            Defaults to None (all).
        seed (int): Seed of the scenes and the recordings. Defaults to 0.
        source (str, optional): Fashion-MNIST folder. Defaults to None.
        duration_us (int): Length of a recording. Defaults to 100000.
        step_us (int): Rendering interval. Defaults to 2000.
        amplitude (float): Camera path amplitude in pixels (the path is a
            closed triangle around the rest position, so the labels of the
            scene hold on average). Defaults to 1.5.
        sensor_cfg (dict, optional): Overrides of :data:`DEFAULT_SENSOR`.
            Defaults to None.
        scene_cfg (dict, optional): Other arguments of
            :func:`~spikedet.datasets.generate_fashion_scenes` (e.g.
            ``num_train``, ``img_size``). Defaults to None (its defaults:
            1000 + 200 scenes of 128x128).

    Returns:
        dict: ``meta.json``'s content plus ``out_dir``, ``cached`` and
        ``seconds``.
    """
    from PIL import Image

    t0 = time.perf_counter()
    scenes = generate_fashion_scenes(
        scenes_dir, seed=seed, source=source, **(scene_cfg or {}))
    counts = dict(train=num_train, val=num_val)
    params = dict(
        format_version=_FORMAT_VERSION,
        scenes=scenes['params'],
        scenes_splits={
            k: v['ann_sha256']
            for k, v in scenes['splits'].items()
        },
        num_train=num_train,
        num_val=num_val,
        **_recording(seed, duration_us, step_us, amplitude, sensor_cfg))
    sensor = params['sensor']
    old = _claim(out_dir, _SCENES_GENERATOR, params, ('num_train', 'num_val'))
    if old is not None:
        return _result(old, out_dir, True, t0)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    splits = {}
    for split in scenes['splits']:
        with open(
                osp.join(scenes_dir, 'annotations',
                         f'instances_{split}.json')) as f:
            coco = json.load(f)
        coco['images'] = coco['images'][:counts[split]]
        kept = {img['id'] for img in coco['images']}
        coco['annotations'] = [
            a for a in coco['annotations'] if a['image_id'] in kept
        ]
        ev_dir = osp.join(out_dir, 'events_np', split)
        seg_dir = osp.join(out_dir, 'ann_dir', split)
        if osp.isdir(seg_dir):
            shutil.rmtree(seg_dir)
        os.makedirs(ev_dir, exist_ok=True)
        os.makedirs(seg_dir)
        _drop_beyond(ev_dir, len(coco['images']), offset=1)
        num_events = 0
        for i, img in enumerate(coco['images']):
            name = img['file_name']
            stem = osp.splitext(name)[0]
            path = osp.join(ev_dir, stem + '.npz')
            if not _readable(path):
                gray = np.asarray(
                    Image.open(osp.join(scenes_dir, 'img_dir', split,
                                        name)).convert('L'))
                rng = np.random.default_rng(
                    [seed, _STREAM_TAG + _SPLIT_CODES[split], i])
                save_events(
                    path,
                    record_saccades(
                        gray,
                        rng,
                        None, (0., 0.),
                        duration_us,
                        step_us,
                        amplitude=amplitude,
                        fill=None,
                        **sensor))
            with np.load(path) as npz:
                num_events += len(npz['t'])
            shutil.copyfile(
                osp.join(scenes_dir, 'ann_dir', split, name),
                osp.join(seg_dir, name))
            img['file_name'] = stem + '.npz'
        with open(
                osp.join(out_dir, 'annotations', f'instances_{split}.json'),
                'w') as f:
            json.dump(coco, f)
        splits[split] = dict(
            num_streams=len(coco['images']),
            num_events=num_events,
            num_instances=len(coco['annotations']))
    meta = dict(
        generator=_SCENES_GENERATOR,
        complete=True,
        params=params,
        classes=scenes['classes'],
        seg_classes=scenes['seg_classes'],
        sensor_hw=[scenes['params']['img_size']] * 2,
        splits=splits)
    _finish(out_dir, meta)
    return _result(meta, out_dir, False, t0)
