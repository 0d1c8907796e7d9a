"""Text preparation for the relevance stage: folding titles and descriptions, stripping tags."""

from __future__ import annotations

import html
import re
import string
import unicodedata

# A title longer than this is not a title but a pasted text: its first words decide.
MAX_TITLE_CHARS = 300

_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "`": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
# "(m/w/d)", "m/f/d", "(H/F)", "F/H", "(all genders)", "(gn)": gender markers of DE/FR postings
# sit between the role and its qualifier ("Schichtleiter (m/w/d) Fertigung"); cut them out.
# Fixed-width pieces only: linear on any text (and titles are capped).
_GENDER = re.compile(
    r"\(?(?<![\w/])[mwfdhx] ?/ ?[mwfdhx](?: ?/ ?[mwfdhx])?(?![\w/])\)?|\((?:all genders|gn\*?)\)"
)
# "<[^<>]*>", not "<[^>]*>": a page of "<<<<" with no ">" must not make tag stripping quadratic.
_TAG = re.compile(r"<[^<>]*>")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold(text: str) -> str:
    """Lower-case `text`, strip accents ("Producción" -> "produccion") and unify punctuation.

    Beyond ASCII only letters and digits stay: "superviseur·e" is "superviseur e".
    """
    text = text.casefold()
    if text.isascii():  # most postings are: skip the per-character work
        # "`" is the one ASCII character _PUNCTUATION maps (a translate looks up every one)
        text = text.replace("`", "'") if "`" in text else text
    elif not (text := text.translate(_PUNCTUATION)).isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(
            ch if ch < "\x80" or ch.isalnum() else " "
            for ch in decomposed
            if not unicodedata.combining(ch)
        )
    # `re.sub(r"\s+", " ", text).strip()`: split() breaks on what \s matches (str.isspace)
    return " ".join(text.split())


def fold_title(title: str) -> str:
    """`fold` a job title (its first MAX_TITLE_CHARS characters) and drop its gender markers."""
    return " ".join(_GENDER.sub(" ", fold(title[:MAX_TITLE_CHARS])).split())


def html_to_text(markup: str) -> str:
    """Cheap tag stripping: good enough to look for words, not for display."""
    return html.unescape(_TAG.sub(" ", _drop_scripts(markup)))


def _drop_scripts(markup: str) -> str:
    # Scripts and styles are not words. A scan with str.find, linear: a regex ("<script.*?
    # </script>") rescans the rest of the page from every unclosed "<script".
    # ASCII upper case made lower, same length, so positions carry over (on ASCII markup what
    # str.lower does, without a translate's lookup per character)
    low = markup.lower() if markup.isascii() else markup.translate(_ASCII_LOWER)
    out: list[str] = []
    pos = 0
    following = {tag: low.find(f"<{tag}", pos) for tag in ("script", "style")}
    while True:
        found = [(at, tag) for tag, at in following.items() if at >= 0]
        if not found:
            break
        start, tag = min(found)
        close = low.find(f"</{tag}", start)
        end = low.find(">", close) if close >= 0 else -1
        if end < 0:  # unclosed: left as it is, like before, and nothing further to drop
            break
        out.append(markup[pos:start])
        out.append(" ")
        pos = end + 1
        # a tag not found again stays absent; one found before `pos` is looked for again
        following = {
            t: at if at < 0 or at >= pos else low.find(f"<{t}", pos) for t, at in following.items()
        }
    out.append(markup[pos:])
    return "".join(out)
