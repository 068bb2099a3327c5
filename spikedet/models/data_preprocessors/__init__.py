from .event_data_preprocessor import (EventClsDataPreprocessor,
                                      EventDetDataPreprocessor,
                                      EventSegDataPreProcessor, to_event_batch)

__all__ = [
    'EventClsDataPreprocessor', 'EventDetDataPreprocessor',
    'EventSegDataPreProcessor', 'to_event_batch'
]
