"""One-line text: names and titles that end up in mail headers, letters and page titles.

A CR/LF (or another control character) in a region's, provider's or step's name can split a mail header and
makes the mail library refuse the message; such values are refused where they are typed (admin forms, the ladder
editor, the ``tenants/`` loader). Mail headers fold what still reaches them (``notifications.transports``).
"""

from __future__ import annotations

import re

# C0 and C1 control characters (tab, CR, LF, NUL, DEL ...) and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ONE_LINE_NL = "mag geen regelovergang, tab of ander stuurteken bevatten"


def control_character(value: object) -> str | None:
    """The first control character in ``value`` as ``U+000A``, or None (also for anything not a string)."""
    if not isinstance(value, str):
        return None
    found = CONTROL.search(value)
    return f"U+{ord(found.group()):04X}" if found else None
