"""Guided lessons along the course's syllabus, in its order: each lesson is a few steps, each step a few
sentences beside one live simulator state (see app.lessons.model).

``LESSONS`` is the course in order; ``find(slug)`` looks one up.
"""

from __future__ import annotations

from app.lessons import rnn_basics, seq2seq, training
from app.lessons.model import Lesson, Live, Step

LESSONS: tuple[Lesson, ...] = (*rnn_basics.LESSONS, *training.LESSONS, *seq2seq.LESSONS)
_BY_SLUG = {lesson.slug: lesson for lesson in LESSONS}


def find(slug: str) -> Lesson | None:
    return _BY_SLUG.get(slug)


def neighbours(lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
    """The lessons before and after ``lesson`` in the course."""
    k = LESSONS.index(lesson)
    return (LESSONS[k - 1] if k else None, LESSONS[k + 1] if k + 1 < len(LESSONS) else None)


__all__ = ["LESSONS", "Lesson", "Live", "Step", "find", "neighbours"]
