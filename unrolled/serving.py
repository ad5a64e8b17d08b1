"""The live simulator on the caller's own model: the model goes into a model store in a temporary directory, the
server (app.main.create_app under uvicorn) runs in a background thread on a loopback port, and the URL opens
every view (unrolled network, gates, heatmaps) on the traced input, as ``/?model=<id>`` does for an uploaded
model. FastAPI and uvicorn are imported here only, when a server is asked for.

The pages read the input from the URL, as a person would type it: a model with a vocabulary gets its tokens
joined (characters, or words when a token is longer than one character), a vector model its numbers in
shortest round-trip form (``repr``), so the page computes exactly the trace's numbers. Token ids without a
vocabulary cannot be typed: pass ``vocab=``.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from core.trace import Trace
from unrolled.model import Model

STARTUP_SECONDS = 15.0


@dataclass
class LocalServer:
    """A running simulator: ``url`` opens the traced model on its input; :meth:`stop` shuts it down and deletes
    its temporary store."""

    url: str
    model_id: str
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _directory: tempfile.TemporaryDirectory[str] = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._directory.cleanup()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def typed_input(trace: Trace, model: Model) -> tuple[str, dict[str, Any]]:
    """(the input as the page's input field reads it, the meta stored with the model)."""
    if trace.tokens is None:
        rows = trace.inputs[:, 0]
        if rows.shape[1] == 1:
            return ", ".join(repr(float(v)) for v in rows[:, 0]), {}
        return "; ".join(" ".join(repr(float(v)) for v in row) for row in rows), {}
    if model.vocab is None:
        raise ValueError("the simulator's pages read typed tokens: pass vocab= (the name of each token id) to "
                         "serve a model that reads token ids, or use trace.show() for a standalone page")
    tokens = [model.vocab[int(k)] for k in trace.tokens[:, 0]]
    chars = all(len(token) == 1 for token in model.vocab)
    if not chars and any(not token or token.split() != [token] for token in tokens):
        raise ValueError("the tokens cannot be typed as words (a token is empty or holds a space)")
    meta = {"vocab": model.vocab, "tokenizer": "chars" if chars else "words"}
    return ("" if chars else " ").join(tokens), meta


def serve(trace: Trace, model: Model, *, t: int = 0, open_browser: bool = True) -> LocalServer:
    """Store ``model`` in a temporary store, start the simulator on a free loopback port in a background thread,
    open (unless ``open_browser`` is False) and return the page of sequence 0 of ``trace`` at step ``t``."""
    import uvicorn

    from app.main import create_app
    from app.settings import Settings
    from app.storage import open_database
    from app.storage.models import ModelStore

    text, meta = typed_input(trace, model)
    if model.output_labels is not None:
        meta["output_labels"] = model.output_labels
    directory = tempfile.TemporaryDirectory(prefix="unrolled-serve-")
    settings = Settings(data_dir=Path(directory.name), rate_limit_per_minute=0)
    model_id = ModelStore(open_database(settings.database)).put(model.config, model.params, meta)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))  # the system picks a free port; the socket is handed to uvicorn as it is
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            directory.cleanup()
            raise RuntimeError("the local simulator did not start")
        time.sleep(0.02)
    query = urlencode({"model": model_id, "input": text, "t": t})
    running = LocalServer(f"http://127.0.0.1:{port}/?{query}", model_id, server, thread, directory)
    if open_browser:
        webbrowser.open(running.url)
    return running
