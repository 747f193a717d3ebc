"""A dependency-free progress bar for ``Trainer(verbose=True)``, one update per epoch.

In a terminal (a stream whose ``isatty()`` is true) the bar is one line rewritten in place
with ``\\r``; anywhere else (a Jupyter cell, a log file, a ``StringIO``) every epoch gets
its own line, so that nothing depends on how the reader treats a carriage return::

    [######--------------]  epoch 6/20  loss 0.4123  acc 0.8812  sat 0.12/0.80  0.11s
"""

from __future__ import annotations

import sys

__all__ = ["ProgressBar"]


class ProgressBar:
    """Epoch progress written to ``stream``.

    Parameters
    ----------
    total : int
        Epochs the run will reach (``Trainer.epochs``).
    stream : file-like, optional
        Where to write; default ``sys.stdout`` as it is when the bar is made (in Jupyter
        that is the cell's output).
    overwrite : bool, optional
        Rewrite one line with ``\\r`` (True) or write one line per epoch (False); default
        ``stream.isatty()``.
    width : int
        Characters of the bar itself.
    """

    def __init__(self, total, stream=None, *, overwrite=None, width=20):
        self.total = max(int(total), 0)
        self.stream = sys.stdout if stream is None else stream
        if overwrite is None:
            isatty = getattr(self.stream, "isatty", None)
            overwrite = bool(isatty()) if callable(isatty) else False
        self.overwrite = bool(overwrite)
        self.width = int(width)
        self._last_len = 0  # length of the line now on screen (overwrite mode)
        self._open = False  # a \r-line is on screen without its final newline

    def bar(self, done: int) -> str:
        """``[#####---------------]`` for ``done`` of ``total`` epochs."""
        filled = self.width if self.total == 0 else min(self.width, self.width * done // self.total)
        return "[" + "#" * filled + "-" * (self.width - filled) + "]"

    def update(self, done: int, text: str = ""):
        """Show ``done`` epochs finished, followed by ``text`` (the epoch's line)."""
        line = f"{self.bar(done)}  {text}".rstrip()
        if self.overwrite:
            pad = " " * max(0, self._last_len - len(line))  # clear what the longer last line left
            self.stream.write("\r" + line + pad)
            self._last_len, self._open = len(line), True
        else:
            self.stream.write(line + "\n")
        self._flush()

    def close(self):
        """End the bar's line (overwrite mode); safe to call twice."""
        if self._open:
            self.stream.write("\n")
            self._open = False
            self._flush()

    def _flush(self):
        flush = getattr(self.stream, "flush", None)
        if callable(flush):
            flush()

    def __repr__(self):
        mode = "overwrite" if self.overwrite else "lines"
        return f"ProgressBar(total={self.total}, {mode}, stream={type(self.stream).__name__})"
