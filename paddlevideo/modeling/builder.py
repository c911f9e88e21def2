"""Build models from the ``MODEL`` config section through the registries."""
from ..utils.build_utils import BuildError, build
from .registry import BACKBONES, HEADS, LOSSES, RECOGNIZERS


def build_backbone(cfg):
    """``cfg``: ``{name: ResNet, depth: 50, pretrained: ...}`` -> backbone Layer."""
    return build(cfg, BACKBONES)


def build_head(cfg):
    """``cfg``: ``{name: TSNHead, num_classes, in_channels, ...}`` -> head Layer."""
    return build(cfg, HEADS)


def build_loss(cfg):
    """``cfg``: ``{name: CrossEntropyLoss, ...}`` -> loss Layer."""
    return build(cfg, LOSSES)


def build_recognizer(cfg):
    """``cfg``: ``{framework: Recognizer2D, backbone: {...}, head: {...}}`` -> recognizer Layer."""
    return build(cfg, RECOGNIZERS, key="framework")


def build_model(cfg):
    """Build the model named by ``cfg.framework`` (the ``MODEL`` section of a config).

    Raises ``BuildError`` when ``framework`` is missing or not a registered recognizer.
    """
    if cfg is None or not hasattr(cfg, "get"):
        raise BuildError(f"MODEL must be a mapping with a 'framework' key, got {cfg!r}")
    framework = cfg.get("framework")
    if framework not in RECOGNIZERS:
        raise BuildError(f"MODEL.framework: '{framework}' is not a registered recognizer; "
                         f"registered: {', '.join(RECOGNIZERS.names()) or '(none)'}")
    return build_recognizer(cfg)
