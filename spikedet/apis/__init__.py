"""High-level entry points (inference on images)."""
from .inference import build_inferencer, list_images, run_inference

__all__ = ['build_inferencer', 'list_images', 'run_inference']
