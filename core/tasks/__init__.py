"""Built-in training tasks, generated in code (no downloads). ``get_task(name, **options)`` builds one.

Each task module defines a :class:`~core.tasks.base.Task` subclass. The registry names the module and class
and imports them on first use, so that a model package (core.seq2seq) can build on core.tasks.base while its
own tasks are listed here without an import cycle.
"""

from __future__ import annotations

import importlib
from typing import Any

from core.tasks.base import Batch, NetworkAdapter, Sample, Task, Vocab

#: task name -> (module, class)
TASKS: dict[str, tuple[str, str]] = {
    "chars": ("core.tasks.chars", "NextCharTask"),
    "english": ("core.tasks.english", "EnglishTask"),
    "sentiment": ("core.tasks.sentiment", "SentimentTask"),
    "sine": ("core.tasks.sine", "SineForecastTask"),
    "adding": ("core.tasks.memory", "AddingTask"),
    "copy": ("core.tasks.memory", "CopyMemoryTask"),
    "points": ("core.tasks.points", "PointsTask"),
    "melody": ("core.tasks.melody", "MelodyTask"),
    "translation": ("core.tasks.translation", "TranslationTask"),
    "reverse": ("core.tasks.reverse", "ReverseTask"),
    "sentences": ("core.tasks.sentences", "SentencesTask"),
}


def task_class(name: str) -> type[Task]:
    if name not in TASKS:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    module, cls = TASKS[name]
    found = getattr(importlib.import_module(module), cls)
    if not (isinstance(found, type) and issubclass(found, Task)):
        raise TypeError(f"{module}.{cls} is not a Task")  # a wrong registry entry, not a caller's mistake
    return found


def get_task(name: str, **options: Any) -> Task:
    """A task instance; ``options`` are its constructor arguments (e.g. ``lag=50`` for the adding problem)."""
    return task_class(name)(**options)


def list_tasks() -> list[dict[str, Any]]:
    """Every task with its default options, described for the front end."""
    return [get_task(name).describe() for name in TASKS]


__all__ = ["TASKS", "Batch", "NetworkAdapter", "Sample", "Task", "Vocab", "get_task", "list_tasks",
           "task_class"]
