"""arXiv's TeX in a BibTeX field: math and the commands arXiv metadata uses kept,
everything else escaped (issue 18).

arXiv titles and abstracts are TeX source: ``$\\ln\\ln T$``, ``$\\textit{…}$``,
``Schr\\"odinger``, ``\\emph{…}``. Escaping all of it as literal text
(``\\$\\textbackslash{}ln…``) prints garbage in a paper; passing all of it
through breaks the bibliography on the first ``%``, ``&`` or custom macro. So:

* math (``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]``) is kept, in braces so that a
  style's change of case leaves it alone, with the commands
  of LaTeX and amsmath/amssymb; a command outside that set (an author's own
  macro such as ``\\msun``) is shown as its name (``\\backslash\\mathrm{msun}``)
  rather than left to stop LaTeX with "Undefined control sequence"; ``%``,
  ``&`` and ``#`` inside math are escaped;
* outside math, text-mode commands (``\\textit{…}``, ``\\emph{…}``, font
  switches such as ``{\\em …}``), accents (``\\"o``, ``\\'{e}``, ``\\v{s}``),
  special letters (``\\ss``, ``\\o``) and escaped specials (``\\&``, ``\\%``) are
  kept; any other command is escaped as text; ``&``, ``%``, ``#``, ``_`` and
  ``^`` are escaped; a brace that does not open or close a command's argument
  or a ``{\\em …}`` group is a literal brace (``\\textbraceleft{}``);
* the result's braces always balance (BibTeX counts every brace, escaped or
  not); when they would not, or math is left open, the whole field falls back
  to plain escaped text: never a broken entry.

Pure: strings in, strings out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["tex_field"]


# LaTeX2e + amsmath/amssymb commands that arXiv math uses (an arXiv-ish preamble
# loads amsmath and amssymb; the test document does too).
def _words(text: str) -> list[str]:
    return text.split()


MATH_COMMANDS = frozenset(
    _words("""
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu
    xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta
    Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega digamma varkappa
    pm mp times div cdot ast star circ bullet oplus ominus otimes oslash odot cap cup uplus
    sqcap sqcup vee wedge setminus wr diamond bigtriangleup bigtriangledown triangleleft
    triangleright lhd rhd unlhd unrhd amalg dagger ddagger ltimes rtimes
    le leq ge geq equiv models prec succ sim perp preceq succeq simeq mid ll gg asymp
    parallel subset supset approx bowtie subseteq supseteq cong neq ne smile sqsubseteq
    sqsupseteq doteq frown in ni notin propto vdash dashv lesssim gtrsim leqslant geqslant
    triangleq coloneq subsetneq supsetneq nleq ngeq nsim ncong lll ggg prec preceq
    leftarrow gets rightarrow to Leftarrow Rightarrow leftrightarrow Leftrightarrow mapsto
    hookleftarrow hookrightarrow longrightarrow Longrightarrow longleftarrow Longleftarrow
    longleftrightarrow Longleftrightarrow longmapsto uparrow downarrow Uparrow Downarrow
    updownarrow nearrow searrow swarrow nwarrow iff implies impliedby rightleftharpoons
    infty nabla partial forall exists nexists neg lnot emptyset varnothing Re Im aleph hbar
    ell wp prime surd top bot angle triangle backslash ldots cdots vdots ddots dots
    sum prod coprod int oint iint iiint bigcap bigcup bigsqcup bigvee bigwedge bigodot
    bigotimes bigoplus biguplus
    arccos arcsin arctan arg cos cosh cot coth csc deg det dim exp gcd hom inf ker lg lim
    liminf limsup ln log max min Pr sec sin sinh sup tan tanh argmax argmin
    hat check breve acute grave tilde bar vec dot ddot widehat widetilde overline underline
    overbrace underbrace overrightarrow overleftarrow
    frac dfrac tfrac sqrt binom tbinom dbinom mathrm mathbf mathit mathsf mathtt mathcal
    mathbb mathfrak boldsymbol bm text textrm textit textbf textsf texttt operatorname
    left right big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr quad qquad langle rangle
    lfloor rfloor lceil rceil lvert rvert lVert rVert vert Vert displaystyle textstyle
    scriptstyle scriptscriptstyle not stackrel overset underset colon cdotp circledast
    rm bf it cal sf tt mathop limits nolimits pmod bmod mod
    star lozenge blacksquare square checkmark dagger S P
    """)
)
# Text-mode commands taking one argument, and those taking none (arXiv abstracts'
# emphasis, font switches inside a group, logos, special letters).
TEXT_ARG_COMMANDS = frozenset(
    _words(
        "textit textbf textsc textsf texttt textrm textsl textup textmd emph underline mbox "
        "textsuperscript textsubscript"
    )
)
TEXT_COMMANDS = frozenset(
    _words(
        "em it bf rm sc sf tt sl ldots dots LaTeX TeX textendash textemdash "
        "ss o O l L ae AE oe OE aa AA i j"
    )
)
# \'e \"{o} \^\i … and the letter accents \v{s} \c c \u{g} …
_SYMBOL_ACCENT_RE = re.compile(r"\\[`'^\"~=.](?:\{\\?[A-Za-z]\}|\\[ij](?![A-Za-z])|[A-Za-z])")
_LETTER_ACCENT_RE = re.compile(r"\\[uvHckrbdt](?:\{\\?[A-Za-z]\}|\s+[A-Za-z](?![A-Za-z]))")
_MATH_RE = re.compile(
    r"\$\$(?P<d>(?:\\.|[^$\\])+?)\$\$"
    # inline math as pandoc reads it: no space just inside the dollars, no digit after
    # the closing one ("costs $10 and $20" is money, not math)
    r"|\$(?=[^\s$])(?P<i>(?:\\.|[^$\\])+?)(?<=\S)\$(?!\d)"
    r"|\\\((?P<p>.+?)\\\)|\\\[(?P<b>.+?)\\\]",
    re.S,
)
_COMMAND_RE = re.compile(r"\\([A-Za-z]+)")
# Unicode in math, as the command LaTeX knows it by (arXiv abstracts mix both).
_UNICODE_MATH = {
    **dict(zip("αβγδεζηθικλμνξπρστυφχψω", _words(
        r"\alpha \beta \gamma \delta \epsilon \zeta \eta \theta \iota \kappa \lambda "
        r"\mu \nu \xi \pi \rho \sigma \tau \upsilon \phi \chi \psi \omega"
    ), strict=True)),
    **dict(zip("ΓΔΘΛΞΠΣΥΦΨΩ", _words(
        r"\Gamma \Delta \Theta \Lambda \Xi \Pi \Sigma \Upsilon \Phi \Psi \Omega"
    ), strict=True)),
    **dict(zip("≤≥≠≈∞×·→←↔⇒∈∉⊂⊆∪∩±∓∼≃≅≡∑∏∫∂∇√ℓ∀∃∅′", _words(
        r"\le \ge \neq \approx \infty \times \cdot \to \leftarrow \leftrightarrow "
        r"\Rightarrow \in \notin \subset \subseteq \cup \cap \pm \mp \sim \simeq "
        r"\cong \equiv \sum \prod \int \partial \nabla \surd \ell \forall \exists "
        r"\emptyset \prime"
    ), strict=True)),
}  # fmt: skip
_UNICODE_MATH_RE = re.compile("[" + "".join(_UNICODE_MATH) + "]")
_TEXT_SPECIALS = {
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "$": r"\$",
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
}


class _Fallback(Exception):
    """The field cannot be kept as TeX safely: escape it as plain text instead."""


def tex_field(text: str, plain: Callable[[str], str]) -> str:
    """`text` (arXiv TeX, already one line) as a BibTeX field value; `plain` is the
    plain-text escaper used when the TeX cannot be kept safely."""
    if not any(c in text for c in "\\$&%#_^{}"):
        return plain(text)
    try:
        out = _field(text)
    except _Fallback:
        return plain(text)
    if out.count("{") != out.count("}") or _unbalanced(out):
        return plain(text)
    return out


def _unbalanced(s: str) -> bool:
    depth = 0
    for c in s:
        depth += (c == "{") - (c == "}")
        if depth < 0:
            return True
    return depth != 0


def _field(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _MATH_RE.finditer(text):
        out.append(_text(text[pos : m.start()]))
        out.append(_math(m))
        pos = m.end()
    out.append(_text(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------- math


def _math(m: re.Match[str]) -> str:
    body = next(g for g in m.groups() if g is not None)
    if _unbalanced(body) or not body.strip():
        raise _Fallback
    body = _COMMAND_RE.sub(_math_command, body)
    if not body.isascii():  # $α$: pdflatex knows no Unicode letters in math
        body = _UNICODE_MATH_RE.sub(lambda c: f"{_UNICODE_MATH[c[0]]} ", body)
    body = re.sub(r"(?<!\\)([%&#])", r"\\\1", body)
    # Braced: BibTeX styles change a title's case, but never inside a brace group
    # ("$\\ln\\ln T$" would become "$\\ln\\ln t$").
    if m.group("d") is not None or m.group("b") is not None:
        return f"{{$${body}$$}}" if m.group("d") is not None else f"{{\\[{body}\\]}}"
    return f"{{${body}$}}"


def _math_command(m: re.Match[str]) -> str:
    name = m.group(1)
    if name in MATH_COMMANDS:
        return m.group(0)
    return rf"\backslash\mathrm{{{name}}}"


# ---------------------------------------------------------------- text


def _text(s: str) -> str:
    """Text outside math: known commands and their groups kept, the rest escaped."""
    out: list[str] = []
    groups: list[bool] = []  # for each open brace: kept as a TeX group?
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            piece, i = _text_command(s, i, groups)
            out.append(piece)
        elif c == "{":
            kept = s.startswith("\\", i + 1) and _COMMAND_RE.match(s, i + 1) is not None
            groups.append(kept)
            out.append("{" if kept else _TEXT_SPECIALS["{"])
            i += 1
        elif c == "}":
            kept = groups.pop() if groups else False
            out.append("}" if kept else _TEXT_SPECIALS["}"])
            i += 1
        else:
            out.append(_TEXT_SPECIALS.get(c, c))
            i += 1
    if any(groups):
        raise _Fallback  # a TeX group left open
    return "".join(out)


def _text_command(s: str, i: int, groups: list[bool]) -> tuple[str, int]:
    """The command at s[i] (a backslash), as output, and where the text goes on."""
    nxt = s[i + 1 : i + 2]
    if nxt and nxt in "&%$#_{}":
        return s[i : i + 2], i + 2  # already escaped
    if nxt == "\\":
        return " ", i + 2  # a line break: a space in a one-line field
    if nxt and nxt in " ,-/@":
        return s[i : i + 2], i + 2  # control space, thin space, hyphenation, italic correction
    for accent in (_SYMBOL_ACCENT_RE, _LETTER_ACCENT_RE):
        if m := accent.match(s, i):
            return m.group(0), m.end()
    m = _COMMAND_RE.match(s, i)
    if m is None:
        return _TEXT_SPECIALS["\\"], i + 1
    name = m.group(1)
    if name in TEXT_ARG_COMMANDS and s.startswith("{", m.end()):
        groups.append(True)  # the argument's braces are the command's
        return m.group(0) + "{", m.end() + 1
    if name in TEXT_COMMANDS:
        return m.group(0), m.end()
    return _TEXT_SPECIALS["\\"] + name, m.end()
