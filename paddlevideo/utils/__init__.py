from .build_utils import BuildError, build
from .config import AttrDict, ConfigError, get_config, override_config, parse_config, print_config, save_config
from .logger import setup_logger
from .registry import Registry

__all__ = ["AttrDict", "BuildError", "ConfigError", "Registry", "build", "get_config",
           "override_config", "parse_config", "print_config", "save_config", "setup_logger"]
