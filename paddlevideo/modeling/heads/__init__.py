from .base import BaseHead
from .tsn_head import TSNHead

__all__ = ["BaseHead", "TSNHead"]
