"""Command-line values written PaddleVideo's way, shared by the tools (imports nothing heavy)."""
import argparse


def str2bool(text) -> bool:
    """PaddleVideo's flag syntax: ``--use_gpu False``; also accepts yes/no/on/off, rejects the rest."""
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("true", "t", "1", "yes", "y", "on"):
        return True
    if value in ("false", "f", "0", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")
