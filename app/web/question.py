"""A predict-then-reveal question: a prompt, its choices, the answer read off a real trace, why, and the view that
shows it. Built by app.web.exercises (the trained English LSTM), app.web.keeps_question (trained cells compared)
and app.web.decoder_question (the trained encoder-decoder); asked by /exercises and by the lessons."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    number: int  # 1-based, as shown
    kind: str
    prompt: str
    choices: tuple[str, ...]
    answer: int  # index into choices
    why: str
    reveal: str  # the view (path and query) that shows the answer on the picture
    reveal_label: str

    def check(self, choice: int | None) -> bool | None:
        """Whether ``choice`` is right, or None while it is unanswered."""
        return None if choice is None else choice == self.answer
