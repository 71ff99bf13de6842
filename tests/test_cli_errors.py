"""Bad input gives one clear message and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sherpa_bench.harness.cli import app


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from sherpa_bench.harness.cli import main; main()", *args],
        capture_output=True, text=True, env=env,
    )  # fmt: skip


def test_missing_dis5k_names_the_path_and_how_to_set_it(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SHERPA_BENCH_DATA": str(tmp_path)}
    result = run_cli("run", "--method", "std-ft", "--finetune", "disk5k", "--runs-dir", str(tmp_path / "runs"), env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(tmp_path / "DIS5K") in result.stderr
    assert "SHERPA_BENCH_DATA" in result.stderr and "--data-root" in result.stderr
    assert "im" in result.stderr and "gt" in result.stderr  # the expected layout is drawn


def test_missing_dis5k_without_any_data_root_says_so(tmp_path):
    result = run_cli(
        "run", "--method", "std-ft", "--finetune", "disk5k", "--runs-dir", str(tmp_path), env={"PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "SHERPA_BENCH_DATA" in result.stderr


def test_unknown_method_suggests_the_nearest_name(tmp_path):
    result = CliRunner().invoke(app, ["run", "--method", "std-fx", "--runs-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "std-ft" in str(result.exception)


def test_unknown_method_from_the_console_entry_point_is_a_clean_error(tmp_path):
    result = run_cli("run", "--method", "sherpaa", "--runs-dir", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown method 'sherpaa'" in result.stderr


def test_bad_setting_syntax_is_refused(tmp_path):
    result = run_cli("run", "--set", "alpha", "--runs-dir", str(tmp_path))
    assert result.returncode == 2 and "KEY=VALUE" in result.stderr


def test_generalization_set_names_are_not_importable_top_level_modules(tmp_path):
    """`datasets` and `metrics` live inside sherpa_bench and must not shadow other packages."""
    import sherpa_bench

    repository = str(Path(sherpa_bench.__file__).resolve().parent)
    probe = "import importlib.util as u; print(u.find_spec('datasets'), u.find_spec('metrics'), u.find_spec('harness'))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0
    assert repository not in result.stdout


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--prompt", "boxes", "unknown prompt 'boxes'"),
        ("--train-prompt", "mix", "unknown prompt 'mix'"),
        ("--mask-output", "fourth", "unknown mask output 'fourth'"),
        ("--suite", "nature", "unknown suite 'nature'"),
        ("--precision", "fp8", "encoder precision must be one of fp32, bf16"),
        ("--attention", "flash", "encoder attention must be one of reference, sdpa"),
        ("--device", "gpu0", "unknown device 'gpu0'"),
    ],
)
def test_a_bad_evaluation_or_encoder_setting_is_refused_before_any_run(tmp_path, option, value, message):
    result = run_cli("run", "-f", "toy-thin", "--runs-dir", str(tmp_path), option, value)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr
    assert not list(tmp_path.glob("**/record.json"))
