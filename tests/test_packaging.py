"""Packaging: desktop files validate, and an installed wheel finds its resources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DESKTOP = ROOT / "resources" / "desktop"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate not installed (apt: desktop-file-utils)")
def test_desktop_entry_validates():
    files = list(DESKTOP.glob("*.desktop"))
    assert files
    for f in files:
        proc = subprocess.run(["desktop-file-validate", str(f)], capture_output=True, text=True)
        assert proc.returncode == 0 and "error" not in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None,
                    reason="appstreamcli not installed (apt: appstream)")
def test_metainfo_validates():
    files = list(DESKTOP.glob("*.metainfo.xml"))
    assert files
    for f in files:
        proc = subprocess.run(["appstreamcli", "validate", "--no-net", str(f)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_installed_wheel_runs_outside_checkout(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(dist), str(ROOT)], check=True, cwd=tmp_path)
    wheel = next(dist.glob("nas_studio-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    # Dependencies come from the test venv (no second 5 GB torch install); the project
    # itself only from the wheel.
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # --ignore-installed: the test venv may hold the project itself (`pip install -e .`),
    # which pip sees through deps.pth and would call "already satisfied".
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                    "--no-deps", "--ignore-installed", str(wheel)], check=True)
    exe = env_dir / "bin" / "nas-studio"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(exe), *args], cwd=outside, env=env, capture_output=True,
                              text=True, timeout=300)

    version = run("--version")
    assert version.returncode == 0 and "nas-studio 0.1.0" in version.stdout, version.stderr
    where = subprocess.run(
        [str(py), "-c", "import engine, engine.paths as p; print(engine.__file__); "
         "print(p.resources_dir())"], cwd=outside, env=env, capture_output=True, text=True)
    engine_file, res_dir = where.stdout.split()
    assert str(env_dir) in engine_file, "engine imported from the checkout, not the wheel"
    res = Path(res_dir)
    assert (res / "desktop").is_dir() and list((res / "designs").glob("*.json"))
    assert list((res / "icons").glob("*.svg"))
    inspect = run("inspect", "efficientnet-b0", "--json")
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["params"] == 5_288_548
