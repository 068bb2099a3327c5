"""A classification dataset over spikingjelly's processed event folders."""
import math
from typing import List, Optional

from mmpretrain.datasets import CustomDataset

from spikedet.registry import DATASETS


@DATASETS.register_module()
class EventFolderDataset(CustomDataset):
    """Event streams in spikingjelly's ``events_np`` layout, one folder per
    class: ``data_root/data_prefix/<class>/<file>.npz``.

    That is how spikingjelly stores processed N-MNIST and DVS128 Gesture
    (``events_np/{train,test}/<class>/``), CIFAR10-DVS
    (``events_np/<class>/``, no split) and spikedet's Fashion event data.
    Labels follow the sorted folder names, as in spikingjelly (a
    ``torchvision`` ``DatasetFolder``). The pipeline reads the files with
    ``spikedet.LoadEventStream``.

    Args:
        data_root (str): The dataset folder (spikingjelly's ``root``).
        data_prefix (str): Sub-folder holding the class folders, e.g.
            ``'events_np/train'``. Defaults to ``'events_np'``.
        split (str, optional): For folders without a train/test division
            (CIFAR10-DVS): ``'train'`` keeps the first
            ``ceil(train_ratio * n)`` files of each class, ``'test'`` the
            rest, as spikingjelly's ``split_to_train_test_set`` with
            ``random_split=False``. Defaults to None (every file).
        train_ratio (float): See ``split``. Defaults to 0.9.
        **kwargs: Other arguments of mmpretrain's ``CustomDataset``
            (``pipeline``, ``metainfo``, ``test_mode``, ...).
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: str = 'events_np',
                 split: Optional[str] = None,
                 train_ratio: float = 0.9,
                 **kwargs) -> None:
        if split not in (None, 'train', 'test'):
            raise ValueError(f"split must be None, 'train' or 'test', got "
                             f'{split!r}')
        if not 0 < train_ratio < 1:
            raise ValueError(f'train_ratio must be in (0, 1), got '
                             f'{train_ratio!r}')
        self.split = split
        self.train_ratio = train_ratio
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            ann_file='',
            extensions=('.npz', ),
            **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.split is None:
            return data_list
        per_class = {}
        for info in data_list:
            per_class.setdefault(info['gt_label'], []).append(info)
        kept = []
        for label in sorted(per_class):
            items = per_class[label]
            pos = math.ceil(len(items) * self.train_ratio)
            kept += items[:pos] if self.split == 'train' else items[pos:]
        return kept
