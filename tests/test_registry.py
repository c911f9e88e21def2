import pytest

from paddlevideo.utils.build_utils import BuildError, build
from paddlevideo.utils.registry import Registry


def make_registry():
    reg = Registry("backbone")

    @reg.register()
    class Net:
        def __init__(self, depth, pretrained=None):
            self.depth, self.pretrained = depth, pretrained

    @reg.register("AliasNet")
    class Other:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    @reg.register
    def make_thing(size=1):
        return ("thing", size)

    return reg, Net, Other


def test_register_get_and_build():
    reg, Net, Other = make_registry()
    assert reg.get("Net") is Net and reg.get("AliasNet") is Other and "Other" not in reg
    assert reg.names() == ["AliasNet", "Net", "make_thing"]
    cfg = {"name": "Net", "depth": 50}
    net = build(cfg, reg)
    assert isinstance(net, Net) and net.depth == 50 and net.pretrained is None
    assert cfg == {"name": "Net", "depth": 50}, "build must not modify the config"
    assert build({"name": "AliasNet", "anything": 1}, reg).kwargs == {"anything": 1}
    assert build({"name": "make_thing", "size": 3}, reg) == ("thing", 3)
    assert build({"name": "Net"}, reg, depth=18).depth == 18


def test_unknown_name_lists_registry_and_names():
    reg, _, _ = make_registry()
    with pytest.raises(BuildError, match=r"'ResNett' is not a registered backbone; registered backbone names: "
                                         r"AliasNet, Net, make_thing"):
        build({"name": "ResNett"}, reg)
    with pytest.raises(KeyError, match="registered backbone names"):
        reg.get("nope")


def test_bad_keyword_names_class_and_keyword():
    reg, _, _ = make_registry()
    with pytest.raises(BuildError, match=r"backbone 'Net' has no argument 'deepth'; it accepts: depth, pretrained"):
        build({"name": "Net", "deepth": 50}, reg)


def test_missing_name_and_non_mapping():
    reg, _, _ = make_registry()
    with pytest.raises(BuildError, match="has no 'name' key"):
        build({"depth": 50}, reg)
    with pytest.raises(BuildError, match="must be a mapping"):
        build(None, reg)


def test_duplicate_registration_is_refused():
    reg, _, _ = make_registry()
    with pytest.raises(KeyError, match="already registered"):
        @reg.register("Net")
        class Another:
            pass
