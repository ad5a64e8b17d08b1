"""Static files compressed once per file and encoding, then served from memory.

Compressing a file on the fly costs the same CPU on every request although the file never changes between
them. Here the first request for a file in an encoding reads and compresses it (on the event loop: the files
are tens of kB, a fraction of a millisecond) and keeps the bytes under (path, encoding), valid while the file's
mtime and size are those it was made from; every later request sends them as they are.

Each representation has its own strong ETag, the file's ETag with the coding appended inside the quotes
(``"<md5 of mtime-size>-br"``), so that a cache holding the brotli bytes never revalidates them against the
gzip ones; If-None-Match and If-Modified-Since answer 304 as for the plain file. Every compressible file says
``Vary: Accept-Encoding``. Plain bytes are sent (as a FileResponse, streamed from disk, Range honoured) when
the client accepts no coding we offer, when it asks for a byte range (ranges count bytes of the plain file),
when the file is below the compression threshold, or when its type is not text-like.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.datastructures import Headers, State
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from app.http.compression import Codecs, compressible, negotiate

PathLike = str | os.PathLike[str]


class CompressedFiles:
    """The compressed bytes of each (file, encoding), remembered with the file's mtime and size at the time.

    Bounded by the files of the static directory times the encodings offered (a few hundred kB here)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], tuple[int, int, bytes]] = {}

    def get(self, path: str, stat: os.stat_result, encoding: str, codecs: Codecs) -> bytes:
        key, stamp = (path, encoding), (stat.st_mtime_ns, stat.st_size)
        entry = self.entries.get(key)
        if entry is not None and entry[:2] == stamp:
            return entry[2]
        body = codecs.compress(Path(path).read_bytes(), encoding)
        self.entries[key] = (*stamp, body)
        return body


class PrecompressedStaticFiles(StaticFiles):
    """StaticFiles whose text-like files go out compressed from memory (see the module docstring).

    The codecs, the threshold and the compressed bytes are the application's (``app.state.codecs``,
    ``settings.compress_min_bytes``, ``app.state.compressed_files``), read from the request's scope: the mount
    is made once, at import, for every application, and two applications may compress at different levels."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        request_headers = Headers(scope=scope)
        plain = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        if compressible(plain.media_type):
            plain.headers.add_vary_header("Accept-Encoding")
            state = scope["app"].state
            encoding = negotiate(request_headers.get("accept-encoding"))
            large = stat_result.st_size >= state.settings.compress_min_bytes
            if encoding is not None and large and status_code == 200 and "range" not in request_headers:
                return self._compressed(plain, str(full_path), stat_result, encoding, state, request_headers)
        if self.is_not_modified(plain.headers, request_headers):
            return NotModifiedResponse(plain.headers)
        return plain

    def _compressed(
        self,
        plain: FileResponse,
        path: str,
        stat_result: os.stat_result,
        encoding: str,
        state: State,
        request_headers: Headers,
    ) -> Response:
        headers = Headers(
            headers={
                "content-type": plain.headers["content-type"],
                "last-modified": plain.headers["last-modified"],
                "etag": f'{plain.headers["etag"][:-1]}-{encoding}"',
                "content-encoding": encoding,
                "vary": plain.headers["vary"],
            }
        )
        if self.is_not_modified(headers, request_headers):
            return NotModifiedResponse(headers)
        body = state.compressed_files.get(path, stat_result, encoding, state.codecs)
        return Response(body, headers=dict(headers))
