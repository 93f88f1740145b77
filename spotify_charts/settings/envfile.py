"""`.env`, read as data: `KEY=value` lines in the usual dotenv format (python-dotenv's parser), with
no expansion of any kind, so a value keeps its `$`, `#` and `$(...)` exactly as written.

The Makefile runs the product's commands after `eval`-ing what `python -m spotify_charts.settings.envfile`
prints: one `export KEY='value'` line per setting, shell-quoted, so the shell takes each value
literally. (make's own `include .env` read the file as Makefile source: `$(shell ...)` ran, `$$`
became `$`, and `#` started a comment.) A line that is not `KEY=value` stops the command, naming
the file and the line. Variables already set in the environment win over the file.

Plain module (no Dagster import).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from dotenv.parser import parse_stream

from spotify_charts.settings import SettingError

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """The file's settings in order; {} when there is no file. SettingError names a malformed line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingError(f"{path}: cannot be read ({exc})") from None
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        # (the line itself is never shown: it may hold a secret)
        if binding.error:
            raise SettingError(f"{path}, line {line}: not KEY=value (quote a value that holds spaces or quotes)")
        if binding.key is None:  # a blank or comment line
            continue
        if not NAME.fullmatch(binding.key):
            raise SettingError(f"{path}, line {line}: the name before '=' is not a variable name (letters, digits, _)")
        if binding.value is None:
            raise SettingError(f"{path}, line {line}: no '=' (write NAME= for an empty value)")
        values[binding.key] = binding.value
    return values


def exports(values: Mapping[str, str], environ: Mapping[str, str]) -> str:
    """`export` lines a shell can `eval`, each value single-quoted; the environment's own values win."""
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in values.items() if key not in environ)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else ".env"
    try:
        values = read_env_file(path)
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(exports(values, os.environ))
    return 0


if __name__ == "__main__":
    sys.exit(main())
