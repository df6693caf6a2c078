"""Sphinx configuration for flask-kaleo's documentation (built with warnings as errors)."""

from __future__ import annotations

import importlib.metadata
import sys
import warnings
from pathlib import Path

from sqlalchemy.exc import SAWarning

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # autodoc imports flask_kaleo from the checkout

# autodoc reads the mixins' declared attributes off the unmapped classes, which is
# harmless for documentation but makes SQLAlchemy warn.
warnings.filterwarnings("ignore", "Unmanaged access of declarative attribute", SAWarning)

project = "flask-kaleo"
author = "flask-kaleo maintainers"
copyright = "flask-kaleo maintainers"
release = importlib.metadata.version("flask-kaleo")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# The hooks' callable types, documented on the API page under these names.
autodoc_type_aliases = {
    "Transport": "flask_kaleo.delivery.transport.Transport",
    "Enqueue": "flask_kaleo.core.hooks.Enqueue",
}
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "furo"
html_title = f"flask-kaleo {release}"
html_static_path = ["_static"]

# Every cross-reference must resolve, so a renamed API breaks the build. Targets in
# other projects cannot: the build runs offline, without intersphinx.
nitpicky = True
nitpick_ignore_regex = [
    ("py:class", r"(t|typing|datetime|dt|flask|enum|sqlalchemy|blinker)\..*"),
    ("py:class", r"Flask|SQLAlchemy|UserHook|TypeAliasForwardRef|U"),
    # Kaleo's type variables and bases (Generic[U]), which the API page does not show
    ("py:class", r"'?flask_kaleo\.(extension|maintenance|oversight|core\.hooks)\.[FMPTU]'?"),
    ("py:class", r"'?flask_kaleo\.core\.hooks\.(Users|HookDecorators|Enqueue)'?"),
    ("py:class", r"flask_kaleo\.(maintenance\.Maintenance|oversight\.Oversight)"),
    ("py:obj", r"flask_kaleo\.(extension|maintenance|oversight|core\.hooks)\.U"),
    ("py:(class|obj)", r"flask_kaleo\.core\.directory\.R"),  # Page[R]'s row type
    ("py:class", r"(contextlib|jinja2|markupsafe)\..*"),  # flask_kaleo.i18n's helpers
    ("py:class", r"AutogenContext|False"),  # render_item's Alembic hook signature
]
