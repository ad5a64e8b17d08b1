"""What the "LSTM vs RNN" lesson says about the trained trio (core.evidence) holds for the shipped presets."""

from __future__ import annotations

import numpy as np
import pytest

from app.lessons import find
from app.lessons.trained import run_preset
from app.web import evidence
from core.presets import load_preset

LESSON = find("lstm-vs-rnn")


def test_every_step_uses_trained_weights():
    assert LESSON is not None
    for step in LESSON.steps:
        live = step.live
        assert live.preset in ("adding-lstm", "adding-rnn") or live.view_state().evidence == "adding"


def first_step_below(name: str, level: float) -> int | None:
    curve = load_preset(name).meta["curve"]
    return next((s for s, v in zip(curve["steps"], curve["loss"], strict=True) if v < level), None)


def test_step_1_the_loss_curves():
    assert min(load_preset("adding-rnn").meta["curve"]["loss"]) > 0.1  # never below the guessing level
    assert first_step_below("adding-gru", 0.05) <= 500  # "within a few hundred steps"
    assert 600 <= first_step_below("adding-lstm", 0.05) <= 1000  # "after about eight hundred"
    for name in ("adding-lstm", "adding-gru"):
        loss = load_preset(name).meta["curve"]["loss"]
        assert loss[-1] < 5e-3 * loss[0]  # "some three orders of magnitude lower"


def test_step_3_the_gradient_lines_on_the_default_sequence():
    shown = evidence.build("adding", LESSON.steps[2].live.view_state().seed)
    rnn, lstm, gru = (line.norms for line in shown.gradients.lines)
    assert rnn[0] / rnn[-1] < 1e-10  # "more than ten powers of ten"
    for gated in (lstm, gru):
        assert max(gated) / min(gated) < 5e2  # "within a couple of powers of ten"
        assert gated[0] > 1e6 * rnn[0]  # the try-it question's threshold


def test_step_4_the_lstm_keeps_the_first_marked_number_in_unit_14():
    live = LESSON.steps[3].live
    run = run_preset(live.preset, live.sample)
    marked = [t for t, label in enumerate(run.labels) if "✓" in label]
    assert marked == [18, 36] and live.t == 18
    assert float(run.output_label(39)) == pytest.approx(float(run.target), abs=0.03)
    q = run.trace.layers[0][0].quantities()
    c, f, i = q["c"][:, 0, 14], q["f"][:, 0, 14], q["i"][:, 0, 14]
    assert 0.35 < abs(c[18] - c[17]) < 0.65  # "jumps by about half"
    assert f[19:36].min() > 0.98 and i[19:36].max() < 0.02
    assert np.abs(c[19:36] - c[18]).max() < 0.1  # holds still until the second mark


def test_step_5_the_rnn_answers_about_the_same_whatever_the_numbers():
    answers = [float(run_preset("adding-rnn", k).output_label(39)) for k in range(3)]
    targets = [float(run_preset("adding-rnn", k).target) for k in range(3)]
    assert max(answers) - min(answers) < 0.02 < max(targets) - min(targets)
    assert all(abs(a - 0.9) < 0.05 for a in answers)
