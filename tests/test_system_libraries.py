"""Before Qt starts, the launcher names the system libraries Qt's xcb plugin lacks and the one
apt-get line that installs them (instead of Qt's misleading "libxcb-cursor0 is needed")."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from ui import system_libraries as syslibs

# What `ldd libqxcb.so` printed on a fresh Debian 12 without the two libraries.
FRESH_DEBIAN = """\
\tlinux-vdso.so.1 (0x00007ffd5a1f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f2c1a000000)
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f2c19f70000)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f2c19f60000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f2c19f50000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f2c19f40000)
\tlibxcb-image.so.0 => /lib/x86_64-linux-gnu/libxcb-image.so.0 (0x00007f2c19f30000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2c19c00000)
"""


def test_the_missing_libraries_are_read_from_ldd_once_each_in_order():
    assert syslibs.missing_libraries(FRESH_DEBIAN) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert syslibs.missing_libraries(FRESH_DEBIAN.replace("not found", "/lib/x.so (0x1)")) == []


def test_the_install_line_names_the_debian_packages():
    missing = syslibs.missing_libraries(FRESH_DEBIAN)
    assert syslibs.install_line(missing, root=False) == \
        "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1"
    assert syslibs.install_line(missing, root=True) == "apt-get install -y libxcb-icccm4 libxcb-keysyms1"
    # libglib and libgthread come from one package: named once
    assert syslibs.install_line(["libglib-2.0.so.0", "libgthread-2.0.so.0", "libEGL.so.1"],
                                root=True) == "apt-get install -y libglib2.0-0 libegl1"
    assert syslibs.install_line(["libunheard-of.so.9"], root=True) == ""


def test_the_check_runs_only_for_xcb_on_linux():
    assert syslibs.needs_check({}, "linux")
    assert syslibs.needs_check({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not syslibs.needs_check({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not syslibs.needs_check({"QT_QPA_PLATFORM": "wayland"}, "linux")
    assert not syslibs.needs_check({}, "darwin")
    assert not syslibs.needs_check({}, "win32")


def fake_ldd(folder: Path, output: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ldd.out").write_text(output)
    script = folder / "ldd"
    script.write_text(f"#!/bin/sh\ncat '{folder / 'ldd.out'}'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_the_message_names_the_libraries_and_the_one_line(tmp_path: Path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"\x7fELF")
    text = syslibs.problem(plugin, str(fake_ldd(tmp_path / "bin", FRESH_DEBIAN)))
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in text
    assert re.search(r"^    (sudo )?apt-get install -y libxcb-icccm4 libxcb-keysyms1$", text, re.M)
    unknown = FRESH_DEBIAN + "\tlibunheard-of.so.9 => not found\n"
    assert "apt-file search" in syslibs.problem(plugin, str(fake_ldd(tmp_path / "b2", unknown)))
    all_there = FRESH_DEBIAN.replace("not found", "/lib/x.so (0x1)")
    assert syslibs.problem(plugin, str(fake_ldd(tmp_path / "b3", all_there))) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb plugin is Linux's")
def test_the_launcher_stops_before_qt_with_the_line(tmp_path: Path):
    """`python3 main.py demo` on a machine lacking the libraries: the message and the apt-get
    line, exit 1, no traceback, nothing built."""
    fake_ldd(tmp_path / "bin", FRESH_DEBIAN)
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(PATH=f"{tmp_path / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               CREDENCE_NO_BOOTSTRAP="1", CREDENCE_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), str(tmp_path / "p.credence")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "apt-get install -y libxcb-icccm4 libxcb-keysyms1" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "p.credence").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb plugin is Linux's")
def test_every_window_system_library_the_real_plugin_loads_has_its_package():
    """The table covers what this PySide6's xcb plugin really links (X, xcb, GL, fonts, D-Bus)."""
    plugin = syslibs.xcb_plugin()
    if plugin is None:
        pytest.skip("PySide6 has no xcb plugin here")
    done = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True)
    libs = re.findall(r"^\s*(\S+\.so[.\d]*)\s+=>", done.stdout, re.M)
    window_libs = [lib for lib in libs if re.match(
        r"lib(xcb|X11|Xau|Xdmcp|xkbcommon|EGL|GL|OpenGL|fontconfig|freetype|dbus)", lib)]
    assert len(window_libs) > 15
    assert [lib for lib in window_libs if lib not in syslibs.PACKAGES] == []
    assert set(syslibs.README_PACKAGES) <= set(syslibs.PACKAGES.values())
    readme = (ROOT / "README.md").read_text()
    assert all(package in readme for package in syslibs.README_PACKAGES)
