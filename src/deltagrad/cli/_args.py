"""Flags checked by the library's own validation, refused in the flag's words."""

from __future__ import annotations

import argparse

from .. import _validate


def checked(check, convert=int, **limits):
    """An argparse ``type`` that converts the text and applies a :mod:`deltagrad._validate`
    check, so a flag is refused in the flag's own words (``argument --epochs: must be a
    positive integer, got 0``)."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            kind = "an integer" if convert is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        try:
            return check(value, "value", "deltagrad", **limits)
        except _validate.InvalidArgument as err:
            raise argparse.ArgumentTypeError(f"{err.requirement}, got {text}") from None

    parse.__name__ = convert.__name__  # argparse names the type in some messages
    return parse


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows every option's default in ``--help`` (``(default: 200)``), except where there is
    none to show (``None``, a flag's ``False``) or the help text already says it."""

    def _get_help_string(self, action) -> str:
        text = action.help or ""
        default = action.default
        nothing = default is None or default is False or default is argparse.SUPPRESS
        if "default" in text or nothing or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)".lstrip()
