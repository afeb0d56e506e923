"""The stable paths readers open: the published file and the exports folder, both links
through ``current``; and the check that refuses an ``export_path`` such a link cannot take."""

from __future__ import annotations

import os
from pathlib import Path

from segmentation.serving.publish.area import CURRENT, EXPORTS, TEMPORARY_SUFFIX, BuildArea, PublishError
from segmentation.serving.publish.files import ensure_link


def link_readers(area: BuildArea, export_path: str | os.PathLike | None = None) -> None:
    """The stable paths readers open: the published file and the exports folder (var
    ``export_path``, empty for the warehouse's own; None: the file only), both links
    through ``current`` (made once; switching ``current`` moves both)."""
    if area.current_build_id() is None:
        return
    ensure_link(area.published, Path(area.root.name) / CURRENT / area.published.name)
    if export_path is not None:
        exports = area.exports_folder(export_path)
        # Between real folders: the kernel follows '..' through links in the real tree.
        target = os.path.relpath(
            Path(os.path.realpath(area.root)) / CURRENT / EXPORTS, os.path.realpath(exports.parent)
        )
        ensure_link(exports, Path(target))


def check_export_path(area: BuildArea, export_path: str | os.PathLike) -> None:
    """Refuse an ``export_path`` the exports link cannot take, saying what to do (empty:
    the warehouse's own folder, :attr:`BuildArea.default_exports`)."""
    exports = area.exports_folder(export_path)
    root = Path(os.path.realpath(area.root))

    def refuse(why: str) -> None:
        raise PublishError(
            f"export_path {exports} {why}; nothing was published. Choose another folder with "
            f"--vars '{{export_path: ...}}' (empty, the default: {area.default_exports.name} beside the warehouse)."
        )

    if exports.is_symlink():
        pointed = Path(os.path.normpath(os.path.join(os.path.realpath(exports.parent), os.readlink(exports))))
        if pointed != root / CURRENT / EXPORTS:
            refuse(f"is a link to {os.readlink(exports)}, not to this warehouse's published exports")
        return
    real = Path(os.path.realpath(exports))
    if real == root or root in real.parents or real == Path(os.path.realpath(area.published)):
        refuse(f"is inside the warehouse's build folder {area.root}")
    if exports.is_dir():
        others = [path.name for path in exports.iterdir() if not path.name.endswith((".parquet", TEMPORARY_SUFFIX))]
        if others:
            refuse(
                f"is a folder with files other than Parquet exports ({', '.join(sorted(others)[:5])}) and the "
                "published exports are a link to the current build's folder: move those files away, or"
            )
    elif exports.exists():
        refuse("is a file, not a folder")
