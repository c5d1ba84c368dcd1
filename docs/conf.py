"""Sphinx configuration for gnet's documentation (Sphinx + furo + MyST).

CI builds it with ``sphinx-build -W``: every warning is an error, so a page
left out of every toctree, a broken cross-reference or a docstring that is not
valid reStructuredText fails the build.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gnet  # noqa: E402

project = "gnet"
author = "the gnet developers"
copyright = "the gnet developers"
release = gnet.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "requirements.txt"]

myst_enable_extensions = ["colon_fence", "deflist"]
# Headings get anchors, so pages can link to a section: [text](page.md#anchor).
myst_heading_anchors = 4

html_theme = "furo"
html_title = f"gnet {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {
    "members": True,
    # Every public name is listed, with its signature even where it has no
    # docstring of its own yet.
    "undoc-members": True,
    "show-inheritance": True,
}

# Node's camelCase spellings are aliases of the snake_case names (the same
# objects, made by gnet/_aliases.py); the reference says so once, on its
# index page, instead of listing every alias a second time.
_CAMEL = re.compile(r"^[a-z][a-z0-9]*[A-Z]")


def _skip_camel_case_aliases(
    app: Any, what: str, name: str, obj: Any, skip: bool, options: Any
) -> bool | None:
    if _CAMEL.match(name.rsplit(".", 1)[-1]):
        return True
    return None


def _is_alias(name: str) -> bool:
    return bool(_CAMEL.match(name))


# Public modules that ``import gnet`` does not load (optional dependencies, or
# not needed by every program).
_OPTIONAL_MODULES = (
    "gnet.logs",
    "gnet.metrics.prometheus",
    "gnet.metrics.otel",
    "gnet.metrics.http",
    "gnet.systemd",
    "gnet.gunicorn",
    "gnet.proxy_protocol",
    "gnet.tls",
)


def _public_modules() -> list[ModuleType]:
    """gnet, each submodule that gnet exports (``gnet.errors``, ...), and the optional ones."""
    exported = [getattr(gnet, name) for name in gnet.__all__]
    optional = [importlib.import_module(name) for name in _OPTIONAL_MODULES]
    return [gnet] + [m for m in exported if inspect.ismodule(m)] + optional


def _resolve(fullname: str) -> Any:
    parts = fullname.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise LookupError(fullname)


def _check_every_public_name_is_documented(app: Any, env: Any) -> None:
    """Warn (an error under -W) about a public name the reference leaves out.

    Public: each name in the ``__all__`` of gnet and of the submodules it
    exports but the camelCase aliases, and each public attribute that a
    gnet class defines. A name counts as documented wherever its object is
    (``gnet.AbortError`` is documented as ``gnet.errors.AbortError``).
    """
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    documented: set[int] = set()
    members: set[tuple[int, str]] = set()
    for fullname in env.get_domain("py").objects:
        parent, _, member = fullname.rpartition(".")
        try:
            documented.add(id(_resolve(fullname)))
            owner = _resolve(parent) if parent else None
        except (LookupError, AttributeError):
            continue
        if inspect.isclass(owner):
            # A member documented on a class (Socket, with its mixins'
            # members inherited) counts for the class that defines it.
            for klass in owner.__mro__:
                if member in vars(klass):
                    members.add((id(klass), member))
    missing = []
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if _is_alias(name) or inspect.ismodule(obj):
                continue
            if id(obj) not in documented:
                missing.append(f"{module.__name__}.{name}")
            if not inspect.isclass(obj):
                continue
            for klass in obj.__mro__:
                # A base from a private module (gnet.metrics._tracking) is not public API.
                if not klass.__module__.startswith("gnet") or "._" in klass.__module__:
                    continue
                for attr in vars(klass):
                    if attr.startswith("_") or _is_alias(attr):
                        continue
                    if (id(klass), attr) not in members:
                        missing.append(f"{klass.__module__}.{klass.__qualname__}.{attr}")
    for name in sorted(set(missing)):
        logger.warning("the API reference leaves out public name %s", name)


def setup(app: Any) -> None:
    app.connect("autodoc-skip-member", _skip_camel_case_aliases)
    app.connect("env-check-consistency", _check_every_public_name_is_documented)
