"""Before Qt starts on Linux: are the system libraries its xcb window plugin needs installed?

Without one of them Qt aborts with "Could not load the Qt platform plugin "xcb" … xcb-cursor0 or
libxcb-cursor0 is needed", whichever library is really missing. The launcher asks `ldd` which
libraries the plugin cannot find and prints the one `apt-get install` line that fixes it.
Standard library only, and PySide6 is found, never imported: this runs before Qt can load.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Library file -> the Debian / Ubuntu package that installs it (what libqxcb.so and the Qt
# libraries it loads link against, beyond the C library).
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libGLdispatch.so.0": "libglvnd0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libpng16.so.16": "libpng16-16",
    "libexpat.so.1": "libexpat1",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
    "libbrotlidec.so.1": "libbrotli1",
    "libbrotlicommon.so.1": "libbrotli1",
}
# What the README lists: the libraries a desktop without Qt apps most often lacks.
README_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0",
                   "libxcb-render-util0", "libxcb-shape0", "libxkbcommon-x11-0", "libegl1",
                   "libgl1", "libfontconfig1", "libdbus-1-3")

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def needs_check(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Only Linux with the xcb plugin (the default there): QT_QPA_PLATFORM=offscreen, wayland,
    … or another OS skip the check."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    return not chosen or chosen.split(":")[0].split(";")[0] == "xcb"


def xcb_plugin() -> Path | None:
    """PySide6's libqxcb.so, found without importing PySide6 (None when it is not there)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        plugin = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if plugin.exists():
            return plugin
    return None


def missing_libraries(ldd_output: str) -> list[str]:
    """The library files `ldd` says it could not find, in its order, each once."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def install_line(missing: list[str], *, root: bool | None = None) -> str:
    """The one command that installs the packages holding these libraries (Debian names)."""
    packages = list(dict.fromkeys(PACKAGES[lib] for lib in missing if lib in PACKAGES))
    if not packages:
        return ""
    root = (os.geteuid() == 0) if root is None and hasattr(os, "geteuid") else bool(root)
    return ("" if root else "sudo ") + "apt-get install -y " + " ".join(packages)


def problem(plugin: Path | None = None, ldd: str | None = None) -> str | None:
    """What to tell the user when Qt's xcb plugin cannot load here, or None when it can (or
    when it cannot be told: no PySide6, no ldd)."""
    plugin = plugin or xcb_plugin()
    ldd = ldd or shutil.which("ldd")
    if plugin is None or ldd is None:
        return None
    try:
        done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    missing = missing_libraries(done.stdout + done.stderr)
    if not missing:
        return None
    line = install_line(missing)
    unknown = [lib for lib in missing if lib not in PACKAGES]
    text = ("Credence cannot open its window: Qt's X11 (xcb) platform plugin needs system "
            f"libraries that are not installed: {', '.join(missing)}.\n")
    if line:
        text += f"Install them with:\n\n    {line}\n"
    if unknown:
        text += (f"\nFor {', '.join(unknown)}: `apt-file search NAME` names the package "
                 "that provides it.\n")
    text += ("\n(The batch commands and `python3 main.py test` need no window; "
             "QT_QPA_PLATFORM=offscreen skips this check.)")
    return text
