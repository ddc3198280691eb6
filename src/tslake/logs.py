"""One logging setup for every rule script: the rule's log file and stderr."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from tslake.config import ConfigError
from tslake.parts import PartError
from tslake.tushare_api import TushareError
from tslake.universe import ReferenceMissingError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
EXPECTED_ERRORS = (TushareError, ConfigError, ReferenceMissingError, PartError)


def setup_logging(log_file: str | Path | None = None, level: int = logging.INFO) -> None:
    """Send log records to stderr and, when given, to `log_file` (created with its folder)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    logging.basicConfig(level=level, format=FORMAT, handlers=handlers, force=True)
    # Record tracebacks of uncaught errors in the rule's log too.
    previous = sys.excepthook

    def log_uncaught(kind, value, traceback):  # type: ignore[no-untyped-def]
        if isinstance(value, EXPECTED_ERRORS):
            # A failure its message explains: one line, no traceback.
            logging.getLogger("tslake").error("%s", value)
            return
        logging.getLogger("tslake").critical(
            "未处理的错误：%s", value, exc_info=(kind, value, traceback)
        )
        previous(kind, value, traceback)

    sys.excepthook = log_uncaught
