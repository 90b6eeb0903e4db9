"""``typewriter_single`` as a task module: one ``type_letter(letter)`` tool (see ``task.py``)."""

from tasks.typewriter.task import DATASETS
from tasks.typewriter.task import build_single as build

__all__ = ["DATASETS", "build"]
