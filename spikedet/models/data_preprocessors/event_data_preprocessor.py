"""Data preprocessors for event frames in mmpretrain, mmdet and mmseg.

The event pipelines (:class:`~spikedet.datasets.IntegrateEvents`) carry the
``T`` two-polarity frames of a sample as the ``2T`` channels of one image.
These preprocessors are the libraries' own ones (batching, padding, masks,
label maps, batch augments) without RGB conversion or mean/std
normalisation (frames hold event counts), followed by a reshape of the
padded ``[B, 2T, H, W]`` batch into ``[B, T, 2, H, W]``, the layout spiking
backbones take for event data.
"""
import torch
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmpretrain.models.utils.data_preprocessor import ClsDataPreprocessor
from mmseg.models.data_preprocessor import SegDataPreProcessor

from spikedet.registry import MODELS

_COLOUR_KEYS = ('mean', 'std', 'to_rgb', 'bgr_to_rgb', 'rgb_to_bgr')


def _check_no_colour(name: str, kwargs: dict) -> None:
    bad = [k for k in _COLOUR_KEYS if kwargs.get(k) not in (None, False)]
    if bad:
        raise ValueError(
            f'{name} takes no {bad}: event frames hold event counts, not '
            'RGB pixels, so there is no channel order or mean/std to apply. '
            'Remove these keys (or use the library\'s image preprocessor '
            'for RGB data).')


def to_event_batch(inputs: torch.Tensor,
                   num_frames: int,
                   name: str = 'event data preprocessor') -> torch.Tensor:
    """Reshape a ``[B, 2T, H, W]`` batch into ``[B, T, 2, H, W]``.

    Args:
        inputs (Tensor): The padded batch.
        num_frames (int): ``T``, the model's number of time steps.
        name (str): Who asks (error messages). Defaults to
            ``'event data preprocessor'``.

    Raises:
        ValueError: The channel count is not ``2 * num_frames``: RGB or
            grayscale images (3 or 1 channels) in an event config, or
            frames integrated for another ``T``.
    """
    if inputs.dim() != 4:
        raise ValueError(f'{name} expects a [B, 2T, H, W] batch, got shape '
                         f'{tuple(inputs.shape)}.')
    channels = inputs.shape[1]
    if channels != 2 * num_frames:
        if channels in (1, 3) or channels % 2:
            hint = (f'{channels}-channel images look like grayscale/RGB '
                    'data, but this is an event config: load events with '
                    "dict(type='spikedet.LoadEventStream') and "
                    "dict(type='spikedet.IntegrateEvents', num_frames=T), "
                    'or use an image config for images.')
        else:
            hint = (f'the pipeline integrated {channels // 2} frames but '
                    f'the model runs T={num_frames} time steps: set '
                    f'IntegrateEvents(num_frames={num_frames}) or build the '
                    f'model (backbone T and num_frames here) with '
                    f'T={channels // 2}.')
        raise ValueError(f'{name}: got {channels} channels, expected '
                         f'2*T={2 * num_frames}; {hint}')
    b, _, h, w = inputs.shape
    return inputs.reshape(b, num_frames, 2, h, w)


class _EventFramesMixin:
    """Checks the arguments, runs the library's preprocessor, then
    reshapes its batch with :func:`to_event_batch`."""

    def __init__(self, num_frames: int, **kwargs) -> None:
        _check_no_colour(type(self).__name__, kwargs)
        if not isinstance(num_frames, int) or num_frames < 1:
            raise ValueError(f'num_frames must be an int >= 1, got '
                             f'{num_frames!r}')
        super().__init__(**kwargs)
        self.num_frames = num_frames

    def forward(self, data: dict, training: bool = False) -> dict:
        data = super().forward(data, training)
        data['inputs'] = to_event_batch(data['inputs'], self.num_frames,
                                        type(self).__name__)
        return data


@MODELS.register_module()
class EventClsDataPreprocessor(_EventFramesMixin, ClsDataPreprocessor):
    """mmpretrain's ``ClsDataPreprocessor`` for event frames.

    Args:
        num_frames (int): ``T``; must equal the backbone's ``T`` and the
            pipeline's ``IntegrateEvents(num_frames)``.
        **kwargs: Other arguments of ``ClsDataPreprocessor``
            (``num_classes``, ``pad_size_divisor``, ``batch_augments``, ...),
            but no ``mean``/``std``/``to_rgb``.
    """


@MODELS.register_module()
class EventDetDataPreprocessor(_EventFramesMixin, DetDataPreprocessor):
    """mmdet's ``DetDataPreprocessor`` for event frames (boxes, masks and
    padding as usual).

    Args:
        num_frames (int): ``T``; must equal the backbone's ``T`` and the
            pipeline's ``IntegrateEvents(num_frames)``.
        **kwargs: Other arguments of ``DetDataPreprocessor``
            (``pad_size_divisor``, ``pad_mask``, ``batch_augments``, ...),
            but no ``mean``/``std``/``bgr_to_rgb``/``rgb_to_bgr``.
    """


@MODELS.register_module()
class EventSegDataPreProcessor(_EventFramesMixin, SegDataPreProcessor):
    """mmseg's ``SegDataPreProcessor`` for event frames (label maps padded
    as usual).

    Args:
        num_frames (int): ``T``; must equal the backbone's ``T`` and the
            pipeline's ``IntegrateEvents(num_frames)``.
        **kwargs: Other arguments of ``SegDataPreProcessor`` (``size``,
            ``pad_val``, ``seg_pad_val``, ``batch_augments``, ...), but no
            ``mean``/``std``/``bgr_to_rgb``/``rgb_to_bgr``.
    """
