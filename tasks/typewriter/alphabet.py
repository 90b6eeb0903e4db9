"""``typewriter_26`` as a task module: one argument-less tool per letter (see ``task.py``)."""

from tasks.typewriter.task import DATASETS
from tasks.typewriter.task import build_alphabet as build

__all__ = ["DATASETS", "build"]
