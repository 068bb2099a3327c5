"""Loading event streams and integrating them into frames.

An event sample travels through the OpenMMLab pipelines as an ordinary
image: :class:`IntegrateEvents` stores its ``T`` two-channel frames as the
``2T`` channels of an ``H x W x 2T`` float32 array in ``results['img']``
(channel ``2t + p`` holds the polarity-``p`` events of frame ``t``), so the
stock geometric transforms (flip, resize, crop, pad) move boxes, masks and
label maps with it. The event data preprocessors
(:mod:`spikedet.models.data_preprocessors`) turn the batch back into
``[B, T, 2, H, W]``.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from spikedet.registry import TRANSFORMS

#: The arrays every event file must hold (spikingjelly's ``events_np``).
EVENT_KEYS = ('t', 'x', 'y', 'p')


def _hw(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f'sensor_size must be an int or (H, W), got {size!r}')
    return int(size[0]), int(size[1])


def load_event_file(
        path: str, sensor_size: Union[int,
                                      Sequence[int]]) -> Dict[str, np.ndarray]:
    """Read and check one spikingjelly-style event file.

    Args:
        path (str): An ``.npz`` file with arrays ``t``, ``x``, ``y``, ``p``.
        sensor_size (int | tuple[int, int]): ``H`` or ``(H, W)`` of the
            sensor; every event must lie inside it.

    Returns:
        dict[str, np.ndarray]: ``t`` (int64), ``x``, ``y`` (int64) and ``p``
        (uint8, 0 = OFF, 1 = ON).

    Raises:
        ValueError: The file is not an event file, lacks a key, its arrays
            differ in length, a coordinate lies outside the sensor or a
            polarity is not 0/1. The message names the file.
    """
    height, width = _hw(sensor_size)
    if not path.endswith('.npz'):
        raise ValueError(
            f'{path!r} is not an event file: LoadEventStream reads '
            "spikingjelly-style '.npz' event streams (t, x, y, p). RGB or "
            'grayscale images go to an image config (LoadImageFromFile); '
            'convert event recordings first (see tools/dataset_converters/'
            'fashion_events.py).')
    try:
        with np.load(path) as npz:
            missing = [k for k in EVENT_KEYS if k not in npz.files]
            if missing:
                raise ValueError(
                    f'{path!r} lacks the event array(s) {missing} (it holds '
                    f'{sorted(npz.files)}). An event file needs t, x, y and '
                    'p, as in spikingjelly\'s events_np folders; a '
                    "'frames' file (already integrated) is not a stream: "
                    'point the dataset at the events_np folder instead.')
            ev = {k: np.asarray(npz[k]).reshape(-1) for k in EVENT_KEYS}
    except (OSError, EOFError) as e:
        raise ValueError(f'{path!r} cannot be read as an .npz event file '
                         f'({e}).') from e
    lengths = {k: len(v) for k, v in ev.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f'{path!r}: the event arrays differ in length '
                         f'{lengths}; the file is corrupted.')
    x = ev['x'].astype(np.int64)
    y = ev['y'].astype(np.int64)
    if len(x) and (x.min() < 0 or y.min() < 0 or x.max() >= width
                   or y.max() >= height):
        raise ValueError(
            f'{path!r} has events at x in [{x.min()}, {x.max()}], y in '
            f'[{y.min()}, {y.max()}], outside the {height}x{width} '
            '(HxW) sensor given by sensor_size. Set sensor_size to the '
            "camera's resolution (e.g. 128 for DVS128 Gesture and "
            'CIFAR10-DVS, 34 for N-MNIST).')
    p = ev['p'].astype(np.int64)
    if len(p) and not np.isin(p, (0, 1)).all():
        raise ValueError(f'{path!r}: polarities must be 0 (OFF) or 1 (ON), '
                         f'found {np.unique(p)[:5]}.')
    return dict(t=ev['t'].astype(np.int64), x=x, y=y, p=p.astype(np.uint8))


@TRANSFORMS.register_module()
class LoadEventStream(BaseTransform):
    """Load an event stream (``t, x, y, p``) from an ``.npz`` file.

    Reads the files of spikingjelly's processed event datasets
    (``events_np/...``, e.g. N-MNIST, DVS128 Gesture, CIFAR10-DVS) and of
    spikedet's Fashion event datasets.

    Required keys: ``img_path``.
    Added keys: ``events`` (dict of arrays), ``img_shape``, ``ori_shape``
    (the sensor's ``(H, W)``).

    Args:
        sensor_size (int | tuple[int, int], optional): Sensor ``H`` or
            ``(H, W)``. Defaults to None: ``results['height']`` and
            ``results['width']`` (set by COCO-style datasets).
    """

    def __init__(
            self,
            sensor_size: Optional[Union[int, Sequence[int]]] = None) -> None:
        self.sensor_size = None if sensor_size is None else _hw(sensor_size)

    def transform(self, results: dict) -> dict:
        path = results['img_path']
        size = self.sensor_size
        if size is None:
            if 'height' not in results or 'width' not in results:
                raise ValueError(
                    f'LoadEventStream needs sensor_size for {path!r}: the '
                    'dataset gives no height/width. Set sensor_size=(H, W).')
            size = (int(results['height']), int(results['width']))
        results['events'] = load_event_file(path, size)
        results['img_shape'] = size
        results['ori_shape'] = size
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(sensor_size={self.sensor_size})'


def integrate_events(events: Dict[str, np.ndarray],
                     num_frames: int,
                     height: int,
                     width: int,
                     split_by: str = 'number') -> np.ndarray:
    """Integrate a stream into ``num_frames`` two-channel count frames.

    A wrapper of spikingjelly's
    ``integrate_events_by_fixed_frames_number``: ``'number'`` gives every
    frame the same number of events, ``'time'`` the same time span.

    Returns:
        np.ndarray: float32 ``[num_frames, 2, H, W]`` (channel 0 OFF, 1 ON).
    """
    from spikingjelly.datasets import integrate_events_by_fixed_frames_number
    if split_by not in ('number', 'time'):
        raise ValueError(f"split_by must be 'number' or 'time', got "
                         f'{split_by!r}')
    if split_by == 'time' and len(events['t']) == 0:
        raise ValueError("split_by='time' needs at least one event")
    try:
        frames = integrate_events_by_fixed_frames_number(
            events, split_by, num_frames, height, width)
    except IndexError as e:  # a time window without any event
        raise ValueError(
            f"split_by='time' into {num_frames} frames left a window without "
            "events (spikingjelly cannot place it); use split_by='number' "
            'or fewer frames.') from e
    return frames.astype(np.float32)


@TRANSFORMS.register_module()
class IntegrateEvents(BaseTransform):
    """Integrate ``results['events']`` into ``T`` frames stored as an
    ``H x W x 2T`` image (channel ``2t + p``).

    Required keys: ``events``, ``img_shape``.
    Added keys: ``img`` (float32 ``H x W x 2T``), ``num_frames``.
    Removed keys: ``events``.

    Args:
        num_frames (int): ``T``, the model's number of time steps (>= 1).
        split_by (str): ``'number'`` (equal event counts per frame) or
            ``'time'`` (equal durations), as spikingjelly. Defaults to
            ``'number'``.
        clip_max (float, optional): Clip the per-pixel event counts to this
            value. Defaults to None (raw counts).
    """

    def __init__(self,
                 num_frames: int,
                 split_by: str = 'number',
                 clip_max: Optional[float] = None) -> None:
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f'num_frames must be an int >= 1, got '
                             f'{num_frames!r}')
        if split_by not in ('number', 'time'):
            raise ValueError(f"split_by must be 'number' or 'time', got "
                             f'{split_by!r}')
        self.num_frames = num_frames
        self.split_by = split_by
        self.clip_max = clip_max

    def transform(self, results: dict) -> dict:
        if 'events' not in results:
            raise KeyError('IntegrateEvents needs results["events"]: put '
                           'spikedet.LoadEventStream before it.')
        h, w = results['img_shape'][:2]
        try:
            frames = integrate_events(
                results.pop('events'), self.num_frames, h, w, self.split_by)
        except ValueError as e:
            raise ValueError(f'{results.get("img_path")!r}: {e}') from e
        if self.clip_max is not None:
            np.minimum(frames, self.clip_max, out=frames)
        results['img'] = frames_to_image(frames)
        results['num_frames'] = self.num_frames
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_frames={self.num_frames}, '
                f"split_by='{self.split_by}', clip_max={self.clip_max})")


def frames_to_image(frames: np.ndarray) -> np.ndarray:
    """``[T, 2, H, W]`` frames -> the ``H x W x 2T`` pipeline image."""
    t, c, h, w = frames.shape
    return np.ascontiguousarray(frames.reshape(t * c, h, w).transpose(1, 2, 0))


def image_to_frames(img: np.ndarray) -> np.ndarray:
    """The ``H x W x 2T`` pipeline image -> ``[T, 2, H, W]`` frames."""
    h, w, c = img.shape
    if c % 2:
        raise ValueError(f'an event image has an even number of channels '
                         f'(2 per frame), got {c}')
    return img.transpose(2, 0, 1).reshape(c // 2, 2, h, w)
