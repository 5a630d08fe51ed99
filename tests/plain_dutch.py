"""What people read must be plain Dutch (issue 18, point 3): ``leaks`` lists what in a page's, letter's or e-mail's
visible text is code rather than Dutch, ``visible_text`` turns HTML into the text a reader sees.

A leak is one of:

- a code key: a word with an underscore (``gesprek_direct``), or any of the ``known_keys`` passed in (the ladder's
  step, term and category keys, which may not contain an underscore: ``veiligheid``... are left out by the caller
  when they are also ordinary Dutch words);
- an English status word, as a whole word, lower case as the code writes them: ``ENGLISH_STATES``. The list holds
  the states the tables store (escalations, deadlines, measures, signals, notices, evidence) and only words that are
  not Dutch too: "open" is left out (it is Dutch: "3 open termijnen"), as are "met" (Dutch "with") and "active"
  in a Dutch word; "sent"/"failed"/... never occur in Dutch text;
- a Python literal: ``None``, ``True``, ``False`` as whole words;
- a raw id: ``provider:…``/``user:…``/``region:…`` prefixes, UUIDs, and hexadecimal runs of 8 or more characters
  holding at least one digit and one letter (so "dagdagdag" or a KvK number does not count);
  (a document's SHA-256 fingerprint, labelled "SHA-256", is shown on purpose and does not count);
- a file path ending in ``.toml``, ``.py`` or ``.html``;
- a reference to a source document: "seed 000", "bron:";
- a count that does not take its noun's number: "1 gemeenten", "1 dagen", or written around it: "2 ontvanger(s)";
- a date as a machine writes it: "2026-04-06" (or with a time); pages write "6 april 2026" (``nl_date``).

A web address (``https://…``, the links of plain-text mails) is not text to read and is left out.

``visible_text`` leaves out what a reader never sees (tags, scripts, styles, attribute values other than alt,
title, placeholder and aria-label) and what a page marks ``translate="no"``: a code the reader must type exactly,
such as the column name of a CSV file to upload.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["ENGLISH_STATES", "leaks", "visible_text"]

ENGLISH_STATES = frozenset({
    "closed", "pending", "sent", "failed", "missed", "suspended", "waiting", "active", "cancelled", "canceled",
    "delivered", "queued", "bounced", "expired", "accepted", "rejected", "draft", "superseded", "done", "overdue",
    "true", "false", "null", "none",
})  # fmt: skip

_WORD = re.compile(r"[A-Za-zÀ-ÿ0-9_]+")
_SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
_LITERAL = re.compile(r"\b(?:None|True|False)\b")
_RAW_ID = re.compile(r"\b(?:provider|user|region|escalation|ladder):[0-9a-fA-F-]{4,}")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_CHECKSUM = re.compile(r"SHA-256:?\s*[0-9a-fA-F]{64}\b")  # a document's fingerprint, labelled as such, is meant
_HEX = re.compile(r"\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b")
_PATH = re.compile(r"[\w./-]+\.(?:toml|py|html)\b")
_URL = re.compile(r"https?://\S+")  # a link to click in a plain-text mail may hold an id
_SOURCE = re.compile(r"\bseed\s+0\d*|\bbron:", re.I)
PLURALS = ("aanbieders", "brieven", "dagen", "documenten", "escalaties", "gebeurtenissen", "gemeenten", "maanden",
           "ontvangers", "personen", "regio's", "signalen", "stappen", "termijnen", "voorstellen", "weken",
           "werkdagen")  # fmt: skip
_ONE_PLURAL = re.compile(rf"(?<![\d.,])\b1 (?:{'|'.join(PLURALS)})\b")
_MAYBE_PLURAL = re.compile(r"\b\d+ \w+\((?:s|en)\)")  # a count written around ("2 ontvanger(s)"); not a title
# not inside a file name ("dossier-ZL-2026-0001-2026-12-08.pdf")
_ISO_DATE = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?![\w-])")


def leaks(visible_text: str, known_keys: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The pieces of ``visible_text`` that are code, ids, paths or source references instead of Dutch."""
    visible_text = _URL.sub(" ", visible_text)
    found: list[str] = []
    for pattern in (_RAW_ID, _UUID, _PATH, _SOURCE, _LITERAL, _ONE_PLURAL, _MAYBE_PLURAL):
        found += [m.group(0) for m in pattern.finditer(visible_text)]
    text = _RAW_ID.sub(" ", _UUID.sub(" ", _PATH.sub(" ", _CHECKSUM.sub(" ", visible_text))))
    found += [m.group(0) for m in _SNAKE.finditer(text)]
    found += [m.group(0) for m in _HEX.finditer(text)]
    found += [m.group(0) for m in _ISO_DATE.finditer(text)]
    keys = {k for k in known_keys if k}
    for word in _WORD.findall(text):
        if word in ENGLISH_STATES or word in keys:
            found.append(word)
    return found


# Elements inside a line of text; every other element (blocks, table cells, SVG text lines) separates words.
INLINE = frozenset({"a", "abbr", "b", "code", "em", "i", "mark", "q", "s", "small", "span", "strong", "sub", "sup",
                    "time", "u", "data", "bdi", "kbd"})  # fmt: skip


class _Text(HTMLParser):
    SKIP = frozenset({"script", "style", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.untranslated: list | None = None

    def handle_starttag(self, tag, attrs):
        if self.untranslated:
            self.untranslated[1] += tag == self.untranslated[0]
        elif ("translate", "no") in attrs:  # a code people must type exactly (a CSV column), marked as such
            self.untranslated = [tag, 1]
        if tag in self.SKIP:
            self.skipping += 1
        elif tag not in INLINE:
            self.parts.append("\n")
        # what a reader is shown of attributes: alt texts, titles, placeholders, aria labels
        for name, value in attrs:
            if name in {"alt", "title", "placeholder", "aria-label"} and value and not self.skipping:
                self.parts.append(f" {value} ")

    def handle_endtag(self, tag):
        if self.untranslated and tag == self.untranslated[0]:
            self.untranslated[1] -= 1
            if not self.untranslated[1]:
                self.untranslated = None
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag not in INLINE:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping and not self.untranslated:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text of ``html`` a reader sees: no tags, scripts, styles or attribute values (bar alt/title/labels)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return re.sub(r"[ \t]+", " ", "".join(parts for parts in parser.parts))
