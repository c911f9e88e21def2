"""Models: ResNet backbone, TSN head, Recognizer2D, losses; ``build_model(cfg.MODEL)``."""
from . import backbones, framework, heads, losses  # noqa: F401  (register the classes)
from .backbones import ResNet
from .builder import build_backbone, build_head, build_loss, build_model, build_recognizer
from .framework import BaseRecognizer, Recognizer2D
from .heads import BaseHead, TSNHead
from .losses import CrossEntropyLoss
from .registry import BACKBONES, HEADS, LOSSES, RECOGNIZERS

__all__ = ["BACKBONES", "HEADS", "LOSSES", "RECOGNIZERS", "BaseHead", "BaseRecognizer", "CrossEntropyLoss",
           "Recognizer2D", "ResNet", "TSNHead", "build_backbone", "build_head", "build_loss", "build_model",
           "build_recognizer"]
