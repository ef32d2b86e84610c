"""What may reach a log: never a secret in a URL, never clinical text, never a forged line.

Every log record, whoever logs it and whichever handler writes it (the console, a file,
an error tracker, pytest's caplog), is made safe once, as it is created (`install()`
wraps logging's record factory; `SafeLogFilter` does the same for a handler configured
in LOGGING, for records made before `install()`):

- invitation and password-reset tokens in request paths become `sha256:<12 hex>`, enough
  to match two lines about the same link, useless to open it (the request line that
  runserver logs, Django's "Not Found: /invitation/..." warning);
- carriage returns and line feeds in the message are escaped (`\\r`, `\\n`), so a value
  from a request cannot forge a second log line;
- an exception is logged as its type and its traceback's frames, without its message:
  messages carry values (a database error's DETAIL line, a ValueError quoting the text it
  could not read), and on this platform the values are people's care plans.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from types import TracebackType

WITHHELD = "(message withheld: it may contain personal data)"

# /invitation/<token>/ and /password-reset/<uidb64>/<token>/ (Django then redirects the
# latter to .../set-password/, which is no secret).
_TOKEN_PATHS = re.compile(
    r"(?P<prefix>/invitation/|/password-reset/[^/\s\"'?#]+/)"
    r"(?P<token>(?!set-password\b)[^/\s\"'?#]+)"
)


def _short_hash(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:12]


def redact_tokens(text: str) -> str:
    return _TOKEN_PATHS.sub(lambda m: m.group("prefix") + _short_hash(m.group("token")), text)


def escape_line_breaks(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _exception_text(exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
                    ) -> str:
    """The traceback (where it happened) and each exception's type, chained ones included;
    no exception's message."""
    lines: list[str] = []
    seen: set[int] = set()
    error: BaseException | None = exc_info[1]
    chain: list[BaseException] = []
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    for index, error in enumerate(reversed(chain)):
        if index:
            lines.append("\nDuring handling of the above exception, another exception "
                         "occurred (or it was the direct cause):\n\n")
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        kind = type(error)
        lines.append(f"{kind.__module__}.{kind.__qualname__}: {WITHHELD}\n")
    return "".join(lines).rstrip("\n")


def make_safe(record: logging.LogRecord) -> logging.LogRecord:
    """Make one record safe, in place (idempotent)."""
    if getattr(record, "_carecoord_safe", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: log what was meant, not an error about it
        message = f"{record.msg!r} (could not be formatted)"
    record.msg = escape_line_breaks(redact_tokens(message))
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = _exception_text(record.exc_info)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = WITHHELD
    record._carecoord_safe = True
    return record


class SafeLogFilter(logging.Filter):
    """`make_safe` as a logging filter, for LOGGING's handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        make_safe(record)
        return True


def install() -> None:
    """Make every record safe as it is created. Safe to call more than once."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_carecoord_safe_factory", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        return make_safe(current(*args, **kwargs))

    factory._carecoord_safe_factory = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
