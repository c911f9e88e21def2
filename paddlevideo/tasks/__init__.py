"""What ``main.py`` runs: ``train_model`` (train, ``--validate``, resume, fine-tune) and ``test_model``."""
from .context import output_dir_of
from .test import test_model
from .train import train_model

__all__ = ["output_dir_of", "test_model", "train_model"]
