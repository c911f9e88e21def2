"""The pipeline ops run with numpy and cv2 only: no Paddle, and decord / PyAV only when a backend asks."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# paddlevideo.loader's own __init__ imports the datasets (Paddle), so the script loads the pipelines
# package under an empty stand-in for it: what is measured is the pipelines' own imports.
SCRIPT = r"""
import os, sys, types
sys.path.insert(0, ROOT)
for blocked in ("paddle", "decord", "av", "PIL"):
    sys.modules[blocked] = None  # importing them now raises ImportError
import paddlevideo
loader = types.ModuleType("paddlevideo.loader")
loader.__path__ = [os.path.join(ROOT, "paddlevideo", "loader")]
sys.modules["paddlevideo.loader"] = loader
import numpy as np
from paddlevideo.loader.pipelines import Compose, Image2Array, Normalization, Sampler, Scale, TenCrop, VideoDecoder
from paddlevideo.loader.pipelines import MissingBackendError
pipeline = Compose([Scale(16, fixed_ratio=False, do_round=True, backend="cv2"), TenCrop(16), Image2Array(),
                    Normalization([0.5] * 3, [0.25] * 3)])
out = pipeline({"imgs": np.zeros((2, 24, 32, 3), np.uint8)})["imgs"]
assert out.shape == (20, 3, 16, 16), out.shape
try:
    VideoDecoder("decord")
except MissingBackendError as err:
    print("decord:", err)
loaded = sorted(m for m in ("paddle", "decord", "av", "PIL") if sys.modules.get(m) is not None)
print("loaded:", loaded)
"""


def test_pipelines_import_and_run_without_paddle_decord_pyav():
    result = subprocess.run([sys.executable, "-c", f"ROOT = {ROOT!r}\n" + SCRIPT], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "loaded: []" in result.stdout
    assert "pip install decord" in result.stdout

