# Event-camera data (registers EventFolderDataset, LoadEventStream, ...).
from .events import (EventFolderDataset, generate_fashion_event_cls,
                     generate_fashion_event_scenes)
from .fashion_mnist import (FASHION_MNIST_CLASSES, convert_fashion_mnist_cls,
                            load_fashion_mnist)
from .fashion_scenes import (FASHION_SCENES_DET_METAINFO,
                             FASHION_SCENES_SEG_METAINFO, SCENE_CLASSES,
                             SCENE_PALETTE, SCENE_SEG_CLASSES,
                             SCENE_SEG_PALETTE, generate_fashion_scenes)
from .transforms import IntegrateEvents, LoadEventStream

__all__ = [
    'FASHION_MNIST_CLASSES', 'load_fashion_mnist', 'convert_fashion_mnist_cls',
    'SCENE_CLASSES', 'SCENE_SEG_CLASSES', 'SCENE_PALETTE', 'SCENE_SEG_PALETTE',
    'FASHION_SCENES_DET_METAINFO', 'FASHION_SCENES_SEG_METAINFO',
    'generate_fashion_scenes', 'EventFolderDataset',
    'generate_fashion_event_cls', 'generate_fashion_event_scenes',
    'LoadEventStream', 'IntegrateEvents'
]
