"""README troubleshooting: the apt line names every package Qt's xcb plugin links against.

Each shared library that ``ldd`` resolves for PySide6's xcb plugin and the Qt libraries it
loads is mapped to its Debian package with ``dpkg -S``; all but the base system's must be
in the README's ``sudo apt install`` line.  Skipped where there is no ldd/dpkg.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASE = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "liblzma5", "liblz4-1",
        "libsystemd0", "libgcrypt20", "libgpg-error0", "libcap2", "libbsd0", "libmd0",
        "libpcre2-8-0", "libbrotli1", "libexpat1", "libpng16-16", "libselinux1",
        "libmount1", "libblkid1", "libffi8", "libuuid1", "libglvnd0", "libglx0", "libxau6",
        "libxdmcp6", "libcrypt1"}


def _readme_packages() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"sudo apt install (.*?)```", text, re.S)
    assert block, "no apt line in the README's troubleshooting"
    return set(block.group(1).replace("\\", " ").split())


@pytest.mark.skipif(not (shutil.which("ldd") and shutil.which("dpkg")),
                    reason="needs ldd and dpkg (Debian/Ubuntu)")
def test_the_readme_lists_every_package_the_xcb_plugin_needs():
    import PySide6

    qt = Path(os.path.dirname(PySide6.__file__)) / "Qt"
    files = [qt / "plugins" / "platforms" / "libqxcb.so",
             *[qt / "lib" / f"libQt6{m}.so.6" for m in ("XcbQpa", "Gui", "Widgets", "Core")]]
    libs: dict[str, str] = {}
    for f in files:
        if not f.exists():
            pytest.skip(f"{f.name} not in this PySide6 build")
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True).stdout
        for name, path in re.findall(r"^\s*(\S+) => (\S+)", out, re.M):
            if "PySide6" not in path and path != "not":
                libs[name] = path
    # one dpkg call for all: "pkg:arch: /path" per owned file (merged /usr: try both)
    queries = sorted({q for name, path in libs.items()
                      for q in (os.path.realpath(path), path, f"/lib/x86_64-linux-gnu/{name}")})
    res = subprocess.run(["dpkg", "-S", *queries], capture_output=True, text=True)
    owners = {line.split(": ", 1)[1].strip(): line.split(":")[0]
              for line in res.stdout.splitlines() if ": " in line}
    needed = set()
    for name, path in libs.items():
        owner = owners.get(os.path.realpath(path)) or owners.get(path) or next(
            (o for f, o in owners.items() if f.endswith("/" + name)), "")
        if owner:
            needed.add(owner)
    missing = sorted(needed - BASE - _readme_packages())
    assert not missing, f"README's apt line lacks {missing}"
