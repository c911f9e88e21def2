"""predict.py on the data users already have: a dataset root of class folders, a build_file_list.py list
with --data_prefix, and the top-1 accuracy of a labelled list."""
import os

import pytest

from conftest import write_video
from test_predict import model, paddle_args, parse_results, predict  # noqa: F401  (module fixture)


def make_tree(root):
    """``root/<class>/<clip>.avi`` for two classes, plus a non-video and an empty class folder."""
    for name, seed in (("b_class/x.avi", 1), ("a_class/z.mp4", 2), ("a_class/y.avi", 3)):
        os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
        write_video(os.path.join(root, name), num_frames=12, size=(48, 40), seed=seed)
    (root / "a_class" / "notes.txt").write_text("not a video")
    (root / "empty").mkdir()
    return root


def test_a_dataset_root_is_walked_in_order(tmp_path):
    from paddlevideo.inference.preprocess import collect_inputs
    root = make_tree(tmp_path / "videos")
    files, labels = collect_inputs(str(root))
    assert files == [str(root / "a_class" / "y.avi"), str(root / "a_class" / "z.mp4"), str(root / "b_class" / "x.avi")]
    assert labels is None
    os.symlink(root / "b_class", root / "c_linked")  # the same folder twice: listed once
    assert collect_inputs(str(root))[0] == files
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write_video(str(outside / "w.avi"), num_frames=12, size=(48, 40))
    os.symlink(outside, root / "d_linked")  # a linked class folder is followed
    assert collect_inputs(str(root))[0] == files + [str(root / "d_linked" / "w.avi")]


def test_a_symlink_loop_is_refused(tmp_path):
    from paddlevideo.inference.model import InferenceError
    from paddlevideo.inference.preprocess import collect_inputs
    root = make_tree(tmp_path / "videos")
    os.symlink(root, root / "a_class" / "back")
    with pytest.raises(InferenceError, match=r"back is a symbolic link loop"):
        collect_inputs(str(root))
    with pytest.raises(InferenceError, match=r"holds no video, in it or its subfolders"):
        collect_inputs(str(root / "empty"))


def test_list_format_prefix_and_labels(tmp_path):
    from paddlevideo.inference.model import InferenceError
    from paddlevideo.inference.preprocess import collect_inputs
    root = make_tree(tmp_path / "videos")
    listing = tmp_path / "val.list"
    listing.write_text("a_class/y.avi 0\n# a comment\n\nb_class/x.avi 1\n")
    files, labels = collect_inputs(str(listing), data_prefix=str(root))
    assert files == [str(root / "a_class" / "y.avi"), str(root / "b_class" / "x.avi")] and labels == [0, 1]
    listing.write_text("a_class/y.avi 0\nb_class/x.avi\n")  # a line without a label: no accuracy
    assert collect_inputs(str(listing), data_prefix=str(root))[1] is None
    with pytest.raises(InferenceError, match="--data_prefix applies to a list file"):
        collect_inputs(str(root / "a_class" / "y.avi"), data_prefix=str(root))
    listing.write_bytes(b"a_class/y\xff.avi 0\n")
    with pytest.raises(Exception, match=r"val.list:1: byte 0xff is not UTF-8"):
        collect_inputs(str(listing))


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_labelled_list_prints_top1_accuracy(model, tmp_path, capsys):  # noqa: F811
    root = make_tree(tmp_path / "videos")
    (root / "a_class" / "bad.avi").write_bytes(b"not a video")
    listing = tmp_path / "val.list"
    argv = paddle_args(model)
    argv[argv.index(model["video"])] = str(listing)
    listing.write_text("a_class/y.avi 0\nb_class/x.avi 1\n")
    code, out, err = predict(capsys, argv + ["--data_prefix", str(root)])
    assert code == 0, err
    predicted = parse_results(out)
    assert [p[0] for p in predicted] == [str(root / "a_class" / "y.avi"), str(root / "b_class" / "x.avi")]
    correct = sum(cls == label for (_, cls, _), label in zip(predicted, (0, 1)))
    assert out.splitlines()[-1] == f"top-1 accuracy: {correct / 2:.4f} ({correct} of 2 videos)"
    listing.write_text("a_class/y.avi 0\na_class/bad.avi 1\n")
    code, out, err = predict(capsys, argv + ["--data_prefix", str(root)])
    assert code == 2 and out.splitlines()[-1].endswith("of 1 videos; 1 failed, not counted)")
    argv[argv.index(str(listing))] = str(root)  # the dataset root itself
    code, out, _ = predict(capsys, argv)
    assert code == 2 and len(parse_results(out)) == 3 and "accuracy" not in out  # bad.avi failed; no labels


@pytest.mark.slow  # exports a small model (module fixture) and runs it
def test_tiny_clips_predict_with_the_default_decoder(model, tmp_path):  # noqa: F811
    """cv2 (training's decoder) is the default: 48x40 and 1x1 clips, which decord refuses, predict."""
    from paddlevideo import Predictor
    predictor = Predictor(model_file=model["pdmodel"], params_file=model["params"], use_gpu=False)
    assert "VideoDecoder(backend=cv2)" in predictor.preprocessor.describe()
    clips = [write_video(str(tmp_path / "small.avi"), num_frames=12, size=(48, 40)),
             write_video(str(tmp_path / "dot.avi"), num_frames=12, size=(1, 1))]
    results = predictor.predict(clips)
    assert [r["file"] for r in results] == clips and all(0 <= r["top_k"][0]["score"] <= 1 for r in results)
