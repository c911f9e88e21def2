"""predict.py checks its flags and its output path before the long work, and keeps printed results when
the JSON file cannot be written at the end."""
import errno

from test_predict import model, paddle_args, parse_results, predict  # noqa: F401  (module fixture)


def _refused(capsys, argv, needle):
    code, out, err = predict(capsys, argv)
    assert code == 2 and "Current video file" not in out, out
    lines = err.strip().splitlines()
    assert needle in lines[-1] and "Traceback" not in err, err


def test_bad_flag_values_are_refused(model, capsys):
    _refused(capsys, paddle_args(model, "--top_k", "-3"), "--top_k must be at least 1, got -3")
    _refused(capsys, paddle_args(model, "--cpu_threads", "-1"), "--cpu_threads must be at least 1, got -1")


def test_output_json_is_checked_before_predicting(model, tmp_path, capsys):
    _refused(capsys, paddle_args(model, "--output_json", str(tmp_path)), "is a folder; expected a file name")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    _refused(capsys, paddle_args(model, "--output_json", str(a_file / "out.json")), "is a file, not a folder")


def test_results_stand_when_the_json_cannot_be_written(model, tmp_path, capsys, monkeypatch):
    from paddlevideo.inference import api

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(api, "write_json", full_disk)
    code, out, err = predict(capsys, paddle_args(model, "--output_json", str(tmp_path / "r.json")))
    assert code == 2 and len(parse_results(out)) == 1
    assert err.strip().splitlines()[-1].endswith("r.json was not written: No space left on device")


def test_label_list_missing_a_class_is_refused(model, tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text("0 a\n1 b\n2 c\n")  # the model has 4 classes
    _refused(capsys, paddle_args(model, "--label_list", str(labels)), "lacks class 3, but the model has 4 classes")
