from .base import BaseRecognizer
from .recognizer2d import Recognizer2D

__all__ = ["BaseRecognizer", "Recognizer2D"]
