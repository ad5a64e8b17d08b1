"""Many-to-many: predict the next character of English prose, learnt from the Python standard library's own
documentation (its docstrings), so the corpus ships with every CPython and needs no download.

The corpus is gathered the same way on every CPython 3.11: a fixed, sorted list of pure-Python modules that
every build has, read from their source files (not imported, so nothing a running program changes reaches
it); for each, the module's docstring, then its public top-level classes and functions in name order, each
class followed by its public methods in name order (definitions inside ``if`` or ``try`` blocks, which may
depend on the platform, are skipped); first occurrence of a text only. Lines that are code rather than prose
are dropped (interactive examples starting ``>>>`` or ``...``, and indented blocks: code samples and literal
blocks). The text is then normalised character by character:

    c  ->  lower(c)   if lower(c) is one character of the vocabulary
    c  ->  '□'        otherwise (U+25A1 WHITE SQUARE, the unknown token: it never occurs in English text)

after every run of whitespace became one space. The vocabulary is space, a-z, 0-9, the punctuation
``. , ; : ' " ! ? ( ) -`` and the unknown token. A model that reads typed text folds it the same way
(:data:`VOCAB`, one character for each typed one, so positions stay where they were typed).

Training reads windows of the text, x_t = c_t, and scores the prediction of c_{t+1} at every step:

    L = -(1/T) sum_t log softmax(y_t)[c_{t+1}]

Held out: every tenth block of BLOCK characters is never trained on; the metric (next-character accuracy)
is measured on windows inside those blocks.
"""

from __future__ import annotations

import ast
import re
import string
import sysconfig
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from core.config import NetworkConfig
from core.tasks.base import Batch, NetworkAdapter, Sample, Task, Vocab, token_model_config

#: The token every character outside the vocabulary becomes (U+25A1 WHITE SQUARE).
UNKNOWN = "\u25a1"
PUNCTUATION = ".,;:'\"!?()-"
ALPHABET = (" ", *string.ascii_lowercase, *string.digits, *PUNCTUATION, UNKNOWN)

#: Pure-Python modules present in every CPython 3.11 build, whatever the platform, that define the same public
#: names everywhere (so no module that defines some only when an optional extension such as ssl is built, e.g.
#: ftplib's FTP_TLS). Sorted; changing this list changes the corpus (and so the trained preset).
MODULES = (
    "abc",
    "argparse",
    "ast",
    "base64",
    "bdb",
    "calendar",
    "cmd",
    "code",
    "codecs",
    "collections",
    "colorsys",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "difflib",
    "dis",
    "doctest",
    "email.message",
    "email.utils",
    "enum",
    "filecmp",
    "fnmatch",
    "fractions",
    "functools",
    "getopt",
    "gettext",
    "glob",
    "graphlib",
    "heapq",
    "hmac",
    "html.parser",
    "http.cookiejar",
    "inspect",
    "ipaddress",
    "json",
    "json.decoder",
    "json.encoder",
    "linecache",
    "logging",
    "logging.handlers",
    "mailbox",
    "numbers",
    "optparse",
    "pathlib",
    "pdb",
    "pickle",
    "pickletools",
    "pprint",
    "queue",
    "quopri",
    "random",
    "reprlib",
    "sched",
    "secrets",
    "shlex",
    "statistics",
    "string",
    "tarfile",
    "textwrap",
    "threading",
    "timeit",
    "tokenize",
    "trace",
    "traceback",
    "types",
    "typing",
    "unittest.case",
    "unittest.mock",
    "urllib.parse",
    "uuid",
    "warnings",
    "wave",
    "weakref",
    "xml.dom.minidom",
    "xml.etree.ElementTree",
    "zipfile",
)

BLOCK = 1000  # characters per train/held-out block
HELD_OUT_EVERY = 10  # every tenth block is held out
WHITESPACE = re.compile(r"\s+")
#: Lines that are not prose: interactive examples, and indented blocks (code samples, literal blocks).
CODE_LINE = re.compile(r"^(\s|>>>|\.\.\.)")


#: The vocabulary every English model reads: typed text is folded into it (Vocab.fold, character by character,
#: so the folded text has the typed text's length and positions).
VOCAB = Vocab(list(ALPHABET), fold_case=True, unknown=UNKNOWN)


Definition = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
Documented = ast.Module | Definition


def source_path(module_name: str) -> Path:
    """The standard library's source file of ``module_name`` (a package's ``__init__.py``)."""
    base = Path(sysconfig.get_path("stdlib"), *module_name.split("."))
    package = base / "__init__.py"
    return package if package.is_file() else base.with_suffix(".py")


def docstrings(module_name: str) -> list[str]:
    """The docstrings a module's source defines: the module's, then its public top-level classes and functions
    by name, each class followed by its public methods by name (``ast.get_docstring``, cleaned like
    ``inspect.getdoc``).

    Read from the source, not from the imported module, so that nothing a running program changes (a library
    that wraps ``inspect.getfile``, say) and no platform-dependent definition (those sit inside ``if`` and
    ``try`` blocks, which are skipped) reaches the corpus."""
    path = source_path(module_name)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise RuntimeError(
            f"the standard library's source of {module_name} is not installed: {exc}"
        ) from None
    nodes: list[Documented] = [tree]
    for top in _public_defs(tree.body):
        nodes.append(top)
        if isinstance(top, ast.ClassDef):
            nodes.extend(_public_defs(top.body))
    return [doc for node in nodes if (doc := ast.get_docstring(node, clean=True))]


def _public_defs(body: list[ast.stmt]) -> list[Definition]:
    """The classes and functions defined directly in ``body`` whose names are public, sorted by name."""
    defs = [node for node in body if isinstance(node, Definition) and not node.name.startswith("_")]
    return sorted(defs, key=lambda node: node.name)


def prose(doc: str) -> str:
    """A docstring without its code (see CODE_LINE), whitespace runs collapsed to one space."""
    kept = [line for line in doc.splitlines() if not CODE_LINE.match(line)]
    return WHITESPACE.sub(" ", " ".join(kept)).strip()


@lru_cache(maxsize=1)
def corpus() -> str:
    """The whole training text (lower case, vocabulary characters and UNKNOWN only), built once per process."""
    seen: set[str] = set()
    parts: list[str] = []
    for module_name in MODULES:
        for doc in docstrings(module_name):
            text = prose(doc)
            if text and text not in seen:
                seen.add(text)
                parts.append(text)
    return "".join(VOCAB.fold(ch) for ch in " ".join(parts))


class EnglishTask(Task):
    name = "english"
    vocab: Vocab
    title = "Next character of English"
    description = (
        "Many-to-many: read English one character at a time and guess the next one. Trained on the Python "
        "standard library's own documentation, lower-cased; other characters read as □."
    )
    shape = "many_to_many"
    metric = "accuracy"
    goal = "max"
    target = 0.55
    default_training = {"steps": 5000, "batch_size": 64, "lr": 0.01, "eval_every": 250, "eval_size": 256}

    def __init__(self, window: int = 48, hidden: int = 64) -> None:
        if not 2 <= window <= BLOCK - 1:
            raise ValueError(f"window must lie in [2, {BLOCK - 1}]")
        if not 1 <= hidden <= 1024:
            raise ValueError("hidden must lie in [1, 1024]")
        self.window = window
        self.hidden = hidden
        self.vocab = VOCAB

    # The corpus is read on first use only: describing the task or offering its samples needs none of it.
    @cached_property
    def ids(self) -> np.ndarray:
        return self.vocab.encode(corpus())

    @cached_property
    def _starts(self) -> tuple[np.ndarray, np.ndarray]:
        """Where training windows and held-out windows may start: a window of window + 1 characters lies in
        held-out blocks only or in training blocks only."""
        starts = np.arange(len(self.ids) - self.window)
        held_first = (starts // BLOCK) % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
        held_last = ((starts + self.window) // BLOCK) % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
        return starts[~held_first & ~held_last], starts[held_first & held_last]

    def options(self) -> dict[str, int]:
        return {"window": self.window, "hidden": self.hidden}

    def default_config(self) -> NetworkConfig:
        return token_model_config(self.vocab, "lstm", self.hidden)

    def adapter(self, config: NetworkConfig) -> NetworkAdapter:
        return NetworkAdapter(config, "cross_entropy")

    def _windows(self, starts: np.ndarray) -> Batch:
        windows = self.ids[starts[None, :] + np.arange(self.window + 1)[:, None]]  # (window + 1, B)
        return Batch(windows[:-1], windows[1:])

    def sample_batch(self, rng: np.random.Generator, batch_size: int) -> Batch:
        return self._windows(rng.choice(self._starts[0], batch_size))

    def eval_batch(self, rng: np.random.Generator, size: int) -> Batch:
        """Windows inside the held-out blocks, which training never reads."""
        return self._windows(rng.choice(self._starts[1], size))

    def samples(self) -> list[Sample]:
        """Short sentences (at most 40 characters, what the simulator draws)."""
        sentences = (
            "hello world, this is a test",
            "the quick brown fox jumps over the dog",
            "return the number of items in a list",
            "a network reads one letter at a time",
        )
        return [Sample(s, self.vocab.encode(s), s) for s in sentences]
