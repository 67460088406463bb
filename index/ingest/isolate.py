"""Read files in a separate process with a memory cap and a time limit, so that a hostile document (a
zip bomb, a PDF that never finishes) costs one skipped file, never the serving process.

`Reader.load(path, source)` sends the request (every path in it absolute: the worker runs in the package's
folder, not the caller's) to a worker (`python -m index.ingest.isolate`, started on first use and restarted after
a crash or a timeout) and returns its `LoadedDoc`, or raises `SkipFile` with the reason: the loader's own, "needs more than N MB of memory", "took longer than N s", or "the reader
crashed". The worker's address space is capped with RLIMIT_AS; OCR runs in its child, tesseract,
which inherits the cap. Messages are length-prefixed pickles over the worker's stdin/stdout.
"""
from __future__ import annotations

import dataclasses
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

from index.formats.limits import DEFAULT, ReadOptions
from index.types import LoadedDoc, SkipFile

_HEADER = struct.Struct("!Q")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class Reader:
    """Loads files through one worker process at a time; use as a context manager (or call `close`)."""

    def __init__(self, options: ReadOptions = DEFAULT):
        self.options = options
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def load(self, path: Path, source: str, ext: str | None = None, options: ReadOptions | None = None) -> LoadedDoc:
        """The file's `LoadedDoc` (read as type `ext`, default its extension; with `options` instead of the
        reader's, except for its memory cap and time limit), read in the worker; `SkipFile` with the reason
        when it cannot be."""
        proc = self._worker()
        try:
            _send(proc.stdin, (os.path.abspath(path), source, _absolute(options or self.options), ext))
            reply = _receive(proc.stdout, self.options.timeout + 5)
        except TimeoutError:
            self._kill()
            raise SkipFile(f"took longer than {self.options.timeout:g} s to read (QA_READ_TIMEOUT)") from None
        except (EOFError, OSError, pickle.UnpicklingError):
            raise SkipFile(self._crash_reason()) from None
        kind, value = reply
        if kind == "ok":
            return value
        raise SkipFile(value)

    def close(self) -> None:
        """Stop the worker (it also exits by itself when this process goes away)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _worker(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            env = dict(os.environ, OMP_THREAD_LIMIT="1", PYTHONPATH=os.pathsep.join(
                p for p in (_PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p))
            self._proc = subprocess.Popen([sys.executable, "-m", "index.ingest.isolate", str(self.options.memory_mb)],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, env=env, cwd=_PACKAGE_ROOT)
        return self._proc

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()

    def _crash_reason(self) -> str:
        proc, self._proc = self._proc, None
        code = proc.wait() if proc is not None else None
        if code is not None and code < 0 and -code in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT):
            return (f"the reader crashed ({signal.Signals(-code).name}); the file may need more than "
                    f"{self.options.memory_mb} MB of memory (QA_READ_MEMORY_MB) or be malformed")
        return f"the reader crashed (exit code {code})"


def _absolute(options: ReadOptions) -> ReadOptions:
    """`options` with a relative OCR program path made absolute: the worker runs in another folder."""
    if os.sep in options.tesseract and not os.path.isabs(options.tesseract):
        return dataclasses.replace(options, tesseract=os.path.abspath(options.tesseract))
    return options


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(stream, timeout: float | None):
    fd = stream.fileno()
    deadline = None if timeout is None else time.monotonic() + timeout
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    return pickle.loads(_read_exactly(fd, size, None))  # once the answer starts, it is finished


# --- the worker ----------------------------------------------------------------------------------------

def _cap_memory(megabytes: int) -> None:
    import resource

    limit = megabytes * 2**20
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard if hard != resource.RLIM_INFINITY and hard < limit
                                                    else limit))


def _answer(request) -> tuple[str, object]:
    from index.ingest.load import load

    path, source, options, ext = request
    try:
        return "ok", load(Path(path), source, options, ext)
    except SkipFile as why:
        return "skip", str(why)
    except MemoryError:
        return "skip", (f"needs more than {options.memory_mb} MB of memory to read (QA_READ_MEMORY_MB; "
                        "a decompression bomb?)")
    except RecursionError:
        return "skip", "too deeply nested to read"
    except Exception as exc:  # noqa: BLE001 (a parser bug costs one file)
        return "skip", f"failed to read: {type(exc).__name__}: {exc}"[:300]


def main(argv: list[str]) -> None:
    """Serve load requests from stdin until it closes. stdout carries only replies (prints go to stderr)."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _cap_memory(int(argv[0]))
    stdin = sys.stdin.buffer
    while True:
        try:
            request = _receive(stdin, None)
        except EOFError:
            return
        _send(out, _answer(request))


if __name__ == "__main__":
    main(sys.argv[1:])
