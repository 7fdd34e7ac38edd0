"""The examples and the README's quick start keep working."""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run(code_or_path):
    args = [sys.executable, str(code_or_path)] if isinstance(code_or_path, pathlib.Path) else \
        [sys.executable, "-c", code_or_path]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_tensor_basics_example_runs():
    out = _run(ROOT / "examples" / "tensor_basics.py")
    assert "NumPy sees the in-place update" in out


def test_readme_quick_start_runs():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## Quick start\n\n```python\n(.*?)```", readme, re.S).group(1)
    out = _run(code)
    assert out.splitlines()[0] == "(128, 10) tensor([1., 1., 1.])"


def test_readme_training_example_learns():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## Training, PyTorch style\n.*?```python\n(.*?)```", readme, re.S).group(1)
    out = _run(code)
    assert float(out.split()[-1]) > 0.85, out


def test_linear_regression_example_recovers_the_line():
    out = _run(ROOT / "examples" / "linear_regression.py").split()
    weight, bias = float(out[1]), float(out[3])
    assert abs(weight - 3) < 0.05 and abs(bias + 2) < 0.05, out


def test_binary_classifier_example_learns():
    out = _run(ROOT / "examples" / "binary_classifier.py").split()
    assert float(out[-1]) > 0.9, out


def test_cnn_example_learns():
    out = _run(ROOT / "examples" / "cnn_shapes.py").split()
    assert float(out[-1]) > 0.9, out


def test_sequence_classifier_example_learns():
    out = _run(ROOT / "examples" / "sequence_classifier.py").split()
    assert float(out[-1]) > 0.85, out


def test_keras_linear_regression_example_reaches_least_squares():
    out = _run(ROOT / "examples" / "keras" / "linear_regression.py").split()
    least_squares, model = float(out[-4]), float(out[-1])
    assert model <= 1.05 * least_squares, out


def test_keras_binary_classifier_example_learns():
    out = _run(ROOT / "examples" / "keras" / "binary_classifier.py").split()
    assert float(out[-1]) > 0.9, out


def test_keras_digits_cnn_example_learns():
    out = _run(ROOT / "examples" / "keras" / "digits_cnn.py").split()
    assert float(out[-1]) > 0.9, out


def test_readme_keras_example_learns():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"## Training, Keras style\n.*?```python\n(.*?)```", readme, re.S).group(1)
    out = _run(code)
    assert float(out.split()[-1]) > 0.9, out


def test_keras_sine_forecast_example_beats_repeating_the_last_value():
    out = _run(ROOT / "examples" / "keras" / "sine_forecast.py").split()
    last_value, lstm = float(out[-5]), float(out[-1])
    assert lstm < 0.03 and lstm < 0.25 * last_value, out
