"""The package's Trace: the server's own core.trace.Trace (every array (T, B, ...), time-major as PyTorch's
``batch_first=False``), plus the model it ran, PyTorch-shaped final states, exports and a picture.

    trace.layers[k][d].quantities()["h"]   (T, B, H) layer k, direction d (0 forward, 1 reverse)
    trace.quantity(k, d, "f")              (T, H) one quantity of sequence 0
    trace.at(t)                            every number of timestep t (one frame)
    trace.top, trace.logits, trace.probs   (T, B, D*H), (T, B, O), (T, B, O)
    trace.h_n, trace.c_n                   (L*D, B, H) as PyTorch's module returns them
    trace.to_json() / to_csv() / to_npz()  the bytes of POST /api/v1/trace/export for one sequence
    trace.show()                           a standalone HTML page of the unrolled network
    trace.show(serve=True)                 the live simulator on this model (a local server)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import numpy as np

from core import trace as core_trace
from unrolled.model import Model

if TYPE_CHECKING:
    from unrolled.serving import LocalServer


@dataclass
class Trace(core_trace.Trace):
    model: Model | None = None

    @classmethod
    def of(cls, trace: core_trace.Trace, model: Model) -> Trace:
        """The core trace ``trace`` (its arrays shared, not copied) with the model that made it."""
        return cls(**{f.name: getattr(trace, f.name) for f in fields(core_trace.Trace)}, model=model)

    @property
    def h_n(self) -> np.ndarray:
        """(L*D, B, H) each layer and direction's last hidden state, layer-major as PyTorch's h_n: a forward
        layer's at each sequence's own last element, a reverse layer's at the first."""
        return np.stack([lt.final_state()[0] for row in self.layers for lt in row])

    @property
    def c_n(self) -> np.ndarray | None:
        """(L*D, B, H) the LSTM's last cell states, as PyTorch's c_n; None for other cells."""
        if not self.config.has_cell_state:
            return None
        finals = [lt.final_state()[1] for row in self.layers for lt in row]
        return np.stack([c for c in finals if c is not None])

    def _model(self) -> Model:
        if self.model is None:  # only a Trace built by hand lacks it
            raise ValueError("this trace does not know its model; make it with unrolled.trace")
        return self.model

    def _one(self, b: int | None) -> Trace:
        if b is None:
            if self.batch_size != 1:
                raise ValueError(f"this trace holds a batch of {self.batch_size} sequences: pick one with b=")
            b = 0
        one = self.sequence(b)
        assert isinstance(one, Trace)
        return one

    def _export(self, fmt: str, precision: int | None, include: list[str] | None, b: int | None,
                path: str | os.PathLike[str] | None) -> bytes:
        from unrolled.exports import export_trace, trace_result

        data = export_trace(trace_result(self._one(b), self._model(), precision, include), fmt)
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def to_json(self, precision: int | None = None, include: list[str] | None = None, *, b: int | None = None,
                path: str | os.PathLike[str] | None = None) -> bytes:
        """The JSON the API exports for sequence ``b`` (needed only for a batch): numbers rounded to
        ``precision`` significant digits (4 by default, 17 for every float64 exactly), the quantities named by
        ``include`` (the API's field; by default every gate, the candidate, c and h). Written to ``path`` too
        when given."""
        return self._export("json", precision, include, b, path)

    def to_csv(self, precision: int | None = None, include: list[str] | None = None, *, b: int | None = None,
               path: str | os.PathLike[str] | None = None) -> bytes:
        """The API's CSV (``t,layer,direction,quantity,unit,value``, one row per number) for sequence ``b``."""
        return self._export("csv", precision, include, b, path)

    def to_npz(self, include: list[str] | None = None, *, b: int | None = None,
               path: str | os.PathLike[str] | None = None) -> bytes:
        """The API's NPZ (full precision, ``layer{k}/{direction}/{quantity}`` arrays) for sequence ``b``."""
        return self._export("npz", None, include, b, path)

    @overload
    def show(self, path: str | os.PathLike[str] | None = None, *, t: int = 0, b: int | None = None,
             open_browser: bool = True, serve: Literal[False] = False) -> Path: ...

    @overload
    def show(self, path: None = None, *, t: int = 0, b: int | None = None, open_browser: bool = True,
             serve: Literal[True]) -> LocalServer: ...

    def show(self, path: str | os.PathLike[str] | None = None, *, t: int = 0, b: int | None = None,
             open_browser: bool = True, serve: bool = False) -> Path | LocalServer:
        """Write a standalone HTML page of sequence ``b`` (no server, nothing fetched from elsewhere) with the
        unrolled network at step ``t`` and every number, open it in the browser unless ``open_browser`` is
        False, and return its path (a temporary file unless ``path`` is given).

        ``serve=True`` starts the live simulator on this trace's model instead (unrolled.serving: every view,
        gates and heatmaps included) and returns the running server; ``.url`` opens it, ``.stop()`` ends it."""
        one = self._one(b)
        if serve:
            if path is not None:
                raise ValueError("path= is for the standalone page; a served simulator writes no file")
            from unrolled.serving import serve as start

            return start(one, self._model(), t=t, open_browser=open_browser)
        from unrolled.page import show

        return show(one, t=t, path=path, open_browser=open_browser)
