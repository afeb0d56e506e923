"""dbt's target folder of the running build, and what a moved checkout leaves in it.

dbt's partial parse (``<target>/partial_parse.msgpack``) keeps the absolute paths of the
folder the project was parsed in, and dbt does not notice when the checkout has moved: a
build of a moved or renamed checkout would load its seeds from the old folder. The folder
each parse was made in is written beside it (:data:`CHECKOUT_FILE`); a parse made elsewhere
is removed (``make run`` does this before dbt starts, so the build simply parses again).
"""

from __future__ import annotations

import os
from pathlib import Path

from segmentation.serving.publish.area import PublishError

CHECKOUT_FILE = "segmentation_checkout.txt"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def dbt_target_folder() -> Path:
    """The target folder of this dbt process (``--target-path``, DBT_TARGET_PATH or
    ``target`` in the project)."""
    from dbt.flags import get_flags

    flags = get_flags()
    target = Path(str(getattr(flags, "TARGET_PATH", None) or "target"))
    return target if target.is_absolute() else dbt_project_folder() / target


def dbt_project_folder() -> Path:
    from dbt.flags import get_flags

    return Path(os.path.realpath(str(getattr(get_flags(), "PROJECT_DIR", None) or ".")))


def forget_parse_of_moved_checkout(target: Path, project: Path, unrecorded_is_moved: bool = False) -> bool:
    """Remove a partial parse that ``target`` holds of the project in another folder (or,
    with ``unrecorded_is_moved``, of a folder not recorded); whether there was one.
    Records ``project`` as the folder of the parse in ``target``."""
    marker = target / CHECKOUT_FILE
    here = os.path.realpath(project)
    before = marker.read_text().strip() if marker.is_file() else (None if unrecorded_is_moved else here)
    moved = before != here and (target / PARTIAL_PARSE_FILE).exists()
    if moved:
        (target / PARTIAL_PARSE_FILE).unlink()
    target.mkdir(parents=True, exist_ok=True)
    marker.write_text(here + "\n")
    return moved


def check_parse_of_this_checkout(target: Path, project: Path) -> None:
    """Stop a dbt command whose partial parse was made of the project in another folder
    (a moved checkout: dbt kept that folder's paths), having removed that parse."""
    before = (target / CHECKOUT_FILE).read_text().strip() if (target / CHECKOUT_FILE).is_file() else None
    if forget_parse_of_moved_checkout(target, project):
        raise PublishError(
            f"this project was parsed at {before}, and dbt's partial parse in {target} kept that folder's paths "
            f"(the checkout has moved to {os.path.realpath(project)}). That parse is removed now: run the command "
            "again (make run removes it by itself)."
        )


if __name__ == "__main__":  # make run: python -m segmentation.serving.publish.dbt_target <target folder>
    import sys

    if forget_parse_of_moved_checkout(Path(sys.argv[1]), Path.cwd(), unrecorded_is_moved=True):
        print(f"the checkout has moved since dbt last parsed it into {sys.argv[1]}: dbt parses it again")
