"""The Training view in Chromium: a short run streams its curve and finishes, Stop ends a long run, the task
picker updates the page, a trained network or encoder-decoder opens on its stored weights, a11y and reflow."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def points(page, n: int) -> int:
    return len((page.get_attribute(f"#train-live svg.chart >> nth={n} >> polyline", "points") or "").split())


def test_short_run_streams_its_curve_and_finishes(server, page, axe, screenshot, until):
    page.goto(server + "/train?task=reverse")
    page.fill("#t-steps", "120")
    page.fill("#t-seed", "1")
    page.click("#t-start")
    page.wait_for_url("**/train?task=reverse&seed=1&steps=120&job=*")
    until(page, "document.querySelector('#training').dataset.state === 'done'", 60000)
    until(page, "document.querySelector('#train-live .train-done') !== null", 10000)
    assert points(page, 0) >= 100  # one loss point per step (120 < the thinning budget)
    assert points(page, 1) >= 4  # the held-out metric every 25 steps
    assert "Finished after 120 steps" in page.inner_text("#train-status")
    links = page.locator("#train-live .train-done a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert links[0].startswith("/seq2seq?model=") and links[1] == "/seq2seq?preset=reverse"
    assert page.locator("#stop-form").is_hidden()
    page.click("#train-live details.numbers summary")
    assert page.locator("table.train-table tbody tr").count() >= 4
    screenshot(page, "training-reverse")
    assert axe(page) == []
    assert page.errors_seen == []


def test_curve_updates_while_running_and_stop_works(server, page, until):
    page.goto(server + "/train?task=chars&steps=2000&until=steps")  # past the target: a run long enough to stop
    page.click("#t-start")
    page.wait_for_url("**job=*")
    loss_points = "document.querySelector('#train-live svg.chart polyline').getAttribute('points').split(' ')"
    first = page.evaluate(loss_points + ".length")
    until(page, f"{loss_points}.length > {first} + 2", 30000)  # redrawn from the event stream
    assert page.get_attribute("#training", "data-state") == "running"
    page.click("#t-stop")
    until(page, "document.querySelector('#training').dataset.state === 'done'", 30000)
    until(page, "document.querySelector('#train-status').textContent.includes('stopped on request')", 10000)
    assert page.errors_seen == []


def test_task_picker_and_narrow_screen(server, browser, axe, screenshot):
    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(server + "/train")
    page.select_option("#t-task", "translation")
    page.wait_for_url("**/train?task=translation")
    assert "Translate English to French" in page.inner_text("#t-about")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, "training-320")
    assert axe(page) == []
    context.close()


def test_train_an_rnn_then_step_through_it(server, page, axe, screenshot, until):
    page.goto(server + "/train?task=adding")
    assert page.input_value("#t-cell") == "lstm"  # the task's default model, until another is chosen
    page.select_option("#t-cell", "rnn")
    page.fill("#t-hidden", "8")
    page.fill("#t-steps", "60")
    page.click("#t-start")
    page.wait_for_url("**/train?task=adding&steps=60&job=*&cell=rnn&hidden=8&layers=1")
    until(page, "document.querySelector('#training').dataset.state === 'done'", 60000)
    until(page, "document.querySelector('#t-step-through') !== null", 10000)
    assert "Model: RNN, hidden size 8, 1 layer." in page.inner_text("#training")
    screenshot(page, "training-adding-rnn")
    assert axe(page) == []
    page.click("#t-step-through")
    page.wait_for_url("**/?model=*")
    assert "adding (trained)" in page.inner_text("#model")
    assert page.locator("#f-cell").is_disabled() and page.input_value("#f-cell") == "rnn"
    assert page.input_value("#f-hidden") == "8"
    assert ";" in page.input_value("#f-input")  # the adding problem's two numbers per step
    steps = page.locator("#sim [data-t]").evaluate_all("els => new Set(els.map(e => e.dataset.t)).size")
    assert steps == 10
    page.locator("body").press("ArrowRight")
    until(page, "new URL(location.href).searchParams.get('t') === '1'")
    assert "model=" in page.url
    screenshot(page, "stored-model-unrolled")
    assert axe(page) == []
    # Its embed form shows the same model.
    summary = page.locator("details.share summary")
    summary.click()
    src = page.locator("#share-snippet").input_value().split('src="', 1)[1].split('"', 1)[0]
    page.goto(src.replace("&amp;", "&"))
    assert "Trained model “adding (trained)”" in page.inner_text("body")
    assert page.errors_seen == []


def test_train_reverse_then_step_through_the_stored_encoder_decoder(server, page, axe, screenshot, until):
    page.goto(server + "/train?task=reverse")
    page.fill("#t-hidden", "12")
    page.fill("#t-steps", "60")
    page.click("#t-start")
    page.wait_for_url("**job=*")
    until(page, "document.querySelector('#training').dataset.state === 'done'", 60000)
    until(page, "document.querySelector('#t-step-through') !== null", 10000)
    assert "in the Seq2Seq view" in page.inner_text("#train-live .train-done")
    page.click("#t-step-through")
    page.wait_for_url("**/seq2seq?model=*")
    model_id = page.url.split("model=", 1)[1][:64]
    assert "reverse (trained)" in page.inner_text("#s-stored")
    assert page.inner_text("#s-vocab") == "Letters it knows: a b c d e f g h"
    assert page.input_value("#s-hidden") == "12" and page.locator("#s-hidden").is_disabled()
    page.fill("#s-input", "abcde")
    page.press("#s-input", "Enter")
    until(page, "document.querySelector('.s2x-source').textContent === 'abcde'")
    assert f"model={model_id}" in page.url
    # What the page decoded is what the API decodes with the stored weights (tests/app compares it to core).
    api = page.request.post(server + "/api/v1/seq2seq/trace", data={
        "weights": {"source": "stored", "id": model_id},
        "source": {"text": "abcde", "tokenizer": "chars"},
        "top_k": 5,
    }).json()
    written = [w for w in api["output"]["labels"] if w != "<end>"]
    assert page.inner_text(".s2x-output") == ("".join(written) or "(nothing)")
    steps = page.locator("#sim [data-t]").evaluate_all("els => new Set(els.map(e => e.dataset.t)).size")
    assert steps == 5 + len(api["output"]["labels"])
    page.click("button[data-step='end']")
    until(page, f"document.querySelector('#sim').dataset.t === '{steps - 1}'")
    screenshot(page, "stored-seq2seq")
    assert axe(page) == []
    assert page.errors_seen == []


def test_a_run_queued_behind_a_full_worker_says_so_then_streams_when_a_slot_frees(browser, tmp_path, axe, until):
    from liveserver import live_server

    with live_server(str(tmp_path / "data"), UNROLLED_TRAINING_THREADS="1") as base:  # one run at a time
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        first, second = context.new_page(), context.new_page()
        first.goto(base + "/train?task=chars&steps=2000&until=steps")  # long enough to be stopped
        first.click("#t-start")
        first.wait_for_url("**job=*")
        second.goto(base + "/train?task=sine&steps=30")
        second.click("#t-start")
        second.wait_for_url("**job=*")
        assert second.get_attribute("#training", "data-state") == "queued"
        assert "Waiting for a free training slot" in second.inner_text("#train-status")
        assert second.locator("#t-stop").is_visible()  # a queued run can be called off too
        assert axe(second) == []
        job = first.get_attribute("#training", "data-job")
        assert first.locator("#t-stop").is_visible(), first.request.get(f"{base}/api/v1/training/{job}").json()
        first.click("#t-stop")  # its slot frees: the queued run starts there and streams to the end
        until(second, "document.querySelector('#training').dataset.state === 'done'", 60000)
        until(second, "document.querySelector('#train-status').textContent.includes('Finished after 30 steps')", 10000)
        context.close()
