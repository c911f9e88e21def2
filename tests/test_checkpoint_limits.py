"""The checkpoint loader bounds what a pickle builds: a few hundred bytes of shared references, a bytearray or
array declared huge, endless copies, cycles and deep nesting are refused at once in one line naming the file,
and memory stays small; a checkpoint ten times the size of ResNet-50's in tensors still loads."""
import functools
import pickle
import subprocess
import sys
import time

import numpy as np
import pytest

from paddlevideo.utils.save_load import CheckpointError, load

from conftest import ROOT


class _Call:
    """Unpickles into ``func(*args)`` (only allowed callables are used here)."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _shared_bomb(levels=60):
    node = []
    for _ in range(levels):
        node = [node, node]
    return pickle.dumps(node, protocol=4)


_BIG = list(range(100_000))
_SHARED = np.zeros(100_000)
BOMBS = {  # name: (pickle bytes, what the one-line refusal says)
    "shared references": (_shared_bomb(), "its shared references expand to more than"),
    "huge bytearray": (pickle.dumps({"w": _Call(bytearray, 10 ** 10)}, protocol=4), "asks for a bytearray of"),
    "huge array": (pickle.dumps({"w": _Call(np.ndarray, (10 ** 8,))}, protocol=4), "its arrays declare"),
    "endless copies": (pickle.dumps([_Call(list, _BIG) for _ in range(30)], protocol=4), "copies more than"),
    "one array under many keys": (pickle.dumps({f"alias{i}": _SHARED for i in range(100)}, protocol=4),
                                  "its shared arrays expand to more than"),
    "cycle": ((lambda c: (c.append(c), pickle.dumps({"w": c}, protocol=4))[1])([]), "contains itself"),
    "deep nesting": (pickle.dumps(functools.reduce(lambda inner, _: [inner], range(150), []), protocol=4),
                     "nests containers more than 100 levels deep"),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_pickle_bomb_is_refused_quickly_in_one_line_naming_the_file(tmp_path, name):
    data, says = BOMBS[name]
    path = tmp_path / "bomb.pdparams"
    path.write_bytes(data)
    start = time.monotonic()
    with pytest.raises(CheckpointError) as raised:
        load(str(path))
    assert time.monotonic() - start < 10
    message = str(raised.value)
    assert "\n" not in message and str(path) in message and says in message, message
    assert message.startswith(f"checkpoint {path} refused: "), message  # not "corrupt": it was refused


def test_the_shared_reference_bomb_is_a_few_hundred_bytes():
    assert len(_shared_bomb()) < 500


_MEMORY = """
import pickle, resource, sys
sys.path.insert(0, {root!r})
from paddlevideo.utils.safe_pickle import CheckpointTooComplex, check_checkpoint_bytes
def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
bombs = pickle.loads(sys.stdin.buffer.read())
refused, before = 0, peak_mib()
for data in bombs:
    try:
        check_checkpoint_bytes(data)
    except CheckpointTooComplex:
        refused += 1
    print(len(data), peak_mib() - before, file=sys.stderr)
print(refused, peak_mib() - before)
"""


@pytest.mark.slow  # a subprocess building 4 MB bombs
def test_memory_stays_bounded_while_bombs_are_refused():
    # Also 4 MB files of 2.1 million objects and of 2.1 million memo references: refused before being built.
    bombs = [data for data, _ in BOMBS.values()] + [
        pickle.dumps([{} for _ in range(2_100_000)], protocol=4), pickle.dumps([_BIG] * 2_100_000, protocol=4)]
    proc = subprocess.run([sys.executable, "-c", _MEMORY.format(root=ROOT)], input=pickle.dumps(bombs),
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    refused, growth_mib = map(int, proc.stdout.split())
    assert refused == len(bombs)
    assert growth_mib < 200, f"peak memory grew by {growth_mib} MiB (bytes, growth): {proc.stderr.decode()}"


def test_a_checkpoint_ten_times_resnet50_in_tensors_still_loads(tmp_path):
    # A ResNet-50 TSN .pdparams holds 268 entries (98 MB: 3,390 objects, 1,332 memo references, 3 levels);
    # its Momentum .pdopt 160. Over ten times as many tensors load unchanged.
    import paddle
    state = {f"backbone.layer{i}.weight": paddle.full([4, 3], float(i)) for i in range(3200)}
    state["LR_Scheduler"] = {"last_epoch": 3, "last_lr": 0.01, "boundaries": [10, 20], "values": [0.1, 0.01]}
    path = str(tmp_path / "big.pdparams")
    paddle.save(state, path)
    loaded = load(path)
    assert len(loaded) == 3201 and float(loaded["backbone.layer3199.weight"][0, 0]) == 3199.0
    assert loaded["LR_Scheduler"]["boundaries"] == [10, 20]
