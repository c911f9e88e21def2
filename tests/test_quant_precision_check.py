"""benchmarks/precision_check.py: the CPU flags it names and the precision it recommends from measurements."""
import os
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
precision_check = pytest.importorskip("precision_check")


def test_features_line_names_amx_bf16_and_vnni(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    line = precision_check.features_line(precision_check.cpu_flags(str(cpuinfo)))
    assert line == ("AVX2 yes, AVX-512 yes, AVX512-BF16 yes, AMX-BF16 no, AMX-INT8 no, AVX512-VNNI yes, "
                    "AVX-VNNI no")
    assert precision_check.cpu_flags(str(tmp_path / "absent")) == frozenset()


@pytest.mark.parametrize("rows, choice", [
    ({"fp32": {"seconds": 3.0}, "bf16": {"seconds": 1.3, "same_top1": True},
      "int8": {"seconds": 1.0, "same_top1": True}},
     "int8 (3.00x fp32 on this CPU): quantize the export"),
    ({"fp32": {"seconds": 3.0}, "bf16": {"seconds": 3.6, "same_top1": True}, "int8": {"error": "no model"}},
     "fp32 (no other precision"),
    ({"fp32": {"seconds": 3.0}, "bf16": {"seconds": 1.5, "same_top1": True},
      "int8": {"seconds": 1.0, "same_top1": False}},
     "bf16 (2.00x fp32 on this CPU): predict with --precision bf16"),
    ({"fp32": {"seconds": 3.0}, "bf16": {"seconds": 2.9, "same_top1": True}}, "fp32 (no other precision"),
])
def test_recommends_the_fastest_precision_that_keeps_top1_and_gains_10_percent(rows, choice):
    assert precision_check.recommend(rows).startswith(choice)
