"""Loading a YAML config safely: no duplicate keys, no alias cycles, and a cap on alias expansion.

PyYAML's ``safe_load`` takes the last of two equal keys silently, builds self-referencing lists from an
alias cycle (which later code recurses into forever), and expands "billion laughs" alias bombs: a few
hundred bytes that stand for billions of nodes. Each of these is a one-line error here, raised from the
composed node graph before any Python object is built.
"""
import yaml

MAX_EXPANDED_NODES = 100_000  # a TSN config has a few hundred


class YamlProblem(ValueError):
    """What is wrong, with the line; the caller adds the file name."""


class _StrictLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YamlProblem(f"key '{key}' appears twice in one mapping, at lines {seen[key]} and {line}")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _children(node):
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_aliases(root):
    """Raise ``YamlProblem`` for an alias that contains itself, or a document that expands past the cap."""
    sizes, on_path = {}, set()

    def size(node):
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise YamlProblem(f"the alias to the anchor at line {node.start_mark.line + 1} refers to itself "
                              "(an alias cycle)")
        on_path.add(key)
        total = 1 + sum(size(child) for child in _children(node))
        on_path.discard(key)
        if total > MAX_EXPANDED_NODES:
            raise YamlProblem(f"aliases expand to more than {MAX_EXPANDED_NODES} values (from line "
                              f"{node.start_mark.line + 1}); a config never needs that many")
        sizes[key] = total
        return total

    size(root)


def load_yaml(text: str):
    """``yaml.safe_load(text)`` with the checks above; raises ``YamlProblem`` or ``yaml.YAMLError``."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_aliases(node)
        return loader.construct_document(node)
    except RecursionError:
        raise YamlProblem("nesting too deep") from None
    finally:
        loader.dispose()
