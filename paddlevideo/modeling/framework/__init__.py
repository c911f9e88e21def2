from .recognizers import BaseRecognizer, Recognizer2D

__all__ = ["BaseRecognizer", "Recognizer2D"]
