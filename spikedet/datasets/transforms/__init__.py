from .event_transforms import (IntegrateEvents, LoadEventStream,
                               frames_to_image, image_to_frames,
                               integrate_events, load_event_file)

__all__ = [
    'LoadEventStream', 'IntegrateEvents', 'load_event_file',
    'integrate_events', 'frames_to_image', 'image_to_frames'
]
