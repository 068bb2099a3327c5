"""Event-camera data: a DVS pixel model, the Fashion event datasets and a
dataset over spikingjelly's processed event folders."""
from .dvs import (DVSSensor, log_intensity, record_events, record_saccades,
                  saccade_path, shift_bilinear)
from .event_folder import EventFolderDataset
from .fashion_events import (generate_fashion_event_cls,
                             generate_fashion_event_scenes, save_events)

__all__ = [
    'DVSSensor', 'log_intensity', 'record_events', 'record_saccades',
    'saccade_path', 'shift_bilinear', 'EventFolderDataset',
    'generate_fashion_event_cls', 'generate_fashion_event_scenes',
    'save_events'
]
