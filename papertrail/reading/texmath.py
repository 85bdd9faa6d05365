"""TeX in titles and abstracts as MathML: a small converter for the subset arXiv
titles use (`$\\ln\\ln T$`, `$O(n^{2})$`, `$\\mathcal{L}_\\infty$`, `$\\frac{1}{2}$`).

Browsers render MathML Core natively (Chromium 109+, Firefox, Safari), so the
reading page and the static digest need no script and no font from elsewhere.
Every piece of text that reaches the output goes through `html.escape`: the
result is safe to insert as markup whatever the feed sent. What the converter
does not understand stays as its TeX source (escaped), never dropped.

Pure: no I/O, no third-party import.

May import: nothing of papertrail's beyond what the reading package may.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass

# $...$ (not $$), \( ... \): inline maths in feed text. A lone "$5" stays text.
# Pandoc's rule: no space just inside the dollars, no digit just after the closing one.
_INLINE = re.compile(r"\$(?![$\s])((?:\\\$|[^$])*?[^\s\\])\$(?!\d)|\\\((.+?)\\\)")
MAX_MATH = 400  # longer "maths" is more likely two dollar amounts: left as text

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ",
    "varepsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ",
    "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "varpi": "ϖ", "rho": "ρ", "varrho": "ϱ", "sigma": "σ", "varsigma": "ς",
    "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "ell": "ℓ", "hbar": "ℏ", "nabla": "∇", "partial": "∂", "infty": "∞", "emptyset": "∅",
    "aleph": "ℵ", "Re": "ℜ", "Im": "ℑ", "wp": "℘",
}  # fmt: skip
OPERATORS = {
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "neq": "≠", "ne": "≠", "approx": "≈",
    "sim": "∼", "simeq": "≃", "cong": "≅", "equiv": "≡", "propto": "∝", "ll": "≪", "gg": "≫",
    "times": "×", "cdot": "⋅", "cdots": "⋯", "ldots": "…", "dots": "…", "pm": "±", "mp": "∓",
    "div": "÷", "ast": "∗", "star": "⋆", "circ": "∘", "bullet": "∙", "oplus": "⊕",
    "otimes": "⊗", "in": "∈", "notin": "∉", "ni": "∋", "subset": "⊂", "subseteq": "⊆",
    "supset": "⊃", "supseteq": "⊇", "cup": "∪", "cap": "∩", "setminus": "∖", "wedge": "∧",
    "vee": "∨", "land": "∧", "lor": "∨", "neg": "¬", "forall": "∀", "exists": "∃",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒", "Leftarrow": "⇐",
    "leftrightarrow": "↔", "Leftrightarrow": "⇔", "mapsto": "↦", "iff": "⟺",
    "implies": "⟹", "mid": "∣", "parallel": "∥", "perp": "⊥", "langle": "⟨", "rangle": "⟩",
    "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "vert": "|", "Vert": "‖",
    "sum": "∑", "prod": "∏", "int": "∫", "oint": "∮", "bigcup": "⋃", "bigcap": "⋂",
    "prime": "′", "colon": ":", "lbrace": "{", "rbrace": "}", "{": "{", "}": "}",
    "|": "‖", "%": "%", "#": "#", "&": "&", "_": "_", "$": "$",
}  # fmt: skip
FUNCTIONS = frozenset(
    [
        "ln",
        "log",
        "exp",
        "sin",
        "cos",
        "tan",
        "sec",
        "csc",
        "cot",
        "sinh",
        "cosh",
        "tanh",
        "arcsin",
        "arccos",
        "arctan",
        "lim",
        "liminf",
        "limsup",
        "sup",
        "inf",
        "max",
        "min",
        "arg",
        "det",
        "dim",
        "ker",
        "deg",
        "gcd",
        "Pr",
        "mod",
    ]
)
SPACES = {",": "0.17em", ":": "0.22em", ";": "0.28em", "quad": "1em", "qquad": "2em", " ": "0.25em"}
# \mathbb{R} and friends: the letter styles MathML names with mathvariant.
FONTS = {
    "mathbb": "double-struck", "mathcal": "script", "mathscr": "script",
    "mathfrak": "fraktur", "mathbf": "bold", "boldsymbol": "bold-italic", "bm": "bold-italic",
    "mathrm": "normal", "mathsf": "sans-serif", "mathit": "italic", "mathtt": "monospace",
    "operatorname": "normal",
}  # fmt: skip
TEXTS = frozenset({"text", "textrm", "textit", "textbf", "textsf", "texttt", "mbox"})
ACCENTS = {"hat": "^", "widehat": "^", "tilde": "~", "widetilde": "~", "bar": "¯",
           "overline": "¯", "vec": "→", "dot": "˙", "ddot": "¨"}  # fmt: skip
IGNORED = frozenset({"left", "right", "big", "Big", "bigg", "Bigg", "displaystyle",
                     "limits", "nolimits", "!", "textstyle"})  # fmt: skip

_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([A-Za-z])|(\d+(?:\.\d+)?)|(\s+)|(.)", re.S)


class _Unsupported(Exception):
    """Something the subset does not cover: the maths stays as TeX text."""


@dataclass
class _Tok:
    kind: str  # cmd | letter | number | space | char
    text: str
    src: str  # as written


def _tokens(tex: str) -> list[_Tok]:
    out = []
    for m in _TOKEN.finditer(tex):
        cmd, letter, number, space, char = m.groups()
        if cmd is not None:
            out.append(_Tok("cmd", cmd, m[0]))
        elif letter is not None:
            out.append(_Tok("letter", letter, m[0]))
        elif number is not None:
            out.append(_Tok("number", number, m[0]))
        else:
            out.append(_Tok("space" if space is not None else "char", m[0], m[0]))
    return out


def _e(text: str) -> str:
    return html.escape(text, quote=True)


class _Parser:
    def __init__(self, tex: str) -> None:
        self.toks = _tokens(tex)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok | None:
        while self.i < len(self.toks) and self.toks[self.i].kind == "space":
            self.i += 1
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, *, raw: bool = False) -> _Tok:
        tok = self.toks[self.i] if raw and self.i < len(self.toks) else self.peek()
        if tok is None:
            raise _Unsupported("unexpected end")
        self.i += 1
        return tok

    def row(self, until: str | None = None) -> str:
        """Atoms (with their scripts) up to `until` ("}") or the end, as one mrow."""
        parts: list[str] = []
        while (tok := self.peek()) is not None:
            if until is not None and tok.kind == "char" and tok.text == until:
                self.i += 1
                return "<mrow>" + "".join(parts) + "</mrow>"
            if tok.kind == "char" and tok.text == "}":
                raise _Unsupported("unbalanced }")
            parts.append(self.scripted())
        if until is not None:
            raise _Unsupported("unclosed {")
        return "<mrow>" + "".join(parts) + "</mrow>"

    def group(self) -> str:
        """A {group} or a single atom: what ^, _ and \\frac take."""
        tok = self.peek()
        if tok is not None and tok.kind == "char" and tok.text == "{":
            self.i += 1
            return self.nested(lambda: self.row("}"))
        return self.atom()

    def nested(self, parse: Callable[[], str]) -> str:
        self.depth += 1
        if self.depth > 40:
            raise _Unsupported("too deep")
        try:
            return parse()
        finally:
            self.depth -= 1

    def raw_group(self) -> str:
        """The text of a {group}, unparsed (\\text{...})."""
        if self.take().text != "{":
            raise _Unsupported("expected {")
        level, out = 1, list[str]()
        while True:
            tok = self.take(raw=True)
            if tok.kind == "char" and tok.text in "{}":
                level += 1 if tok.text == "{" else -1
                if level == 0:
                    return "".join(out)
            out.append(tok.src)

    def scripted(self) -> str:
        base = self.atom()
        sub = sup = None
        while (tok := self.peek()) is not None and tok.kind == "char" and tok.text in "_^'":
            self.i += 1
            if tok.text == "'":
                sup = (sup or "") + "<mo>′</mo>"
            elif tok.text == "_":
                sub = self.group()
            else:
                sup = self.group()
        if sub and sup:
            return f"<msubsup>{base}{sub}{sup}</msubsup>"
        if sub:
            return f"<msub>{base}{sub}</msub>"
        if sup:
            return f"<msup>{base}{sup}</msup>"
        return base

    def atom(self) -> str:
        tok = self.take()
        if tok.kind == "letter":
            return f"<mi>{_e(tok.text)}</mi>"
        if tok.kind == "number":
            return f"<mn>{_e(tok.text)}</mn>"
        if tok.kind == "cmd":
            return self.command(tok.text)
        if tok.text == "{":
            return self.nested(lambda: self.row("}"))
        if tok.text in "}^_&":
            raise _Unsupported(f"unexpected {tok.text}")
        return f"<mo>{_e(tok.text)}</mo>"

    def command(self, name: str) -> str:
        if name in GREEK:
            return f"<mi>{GREEK[name]}</mi>"
        if name in OPERATORS:
            return f"<mo>{_e(OPERATORS[name])}</mo>"
        if name in FUNCTIONS:
            # TeX's thin space after an operator name ("ln ln T", not "lnlnT"): Chromium
            # draws the invisible function application (U+2061) with no width.
            return f'<mi>{name}</mi><mo rspace="0.1667em">\u2061</mo>'
        if name in SPACES:
            return f'<mspace width="{SPACES[name]}"></mspace>'
        if name in IGNORED:
            return "<mrow></mrow>"
        if name in ("frac", "dfrac", "tfrac"):
            return f"<mfrac>{self.group()}{self.group()}</mfrac>"
        if name == "sqrt":
            return f"<msqrt>{self.group()}</msqrt>"
        if name in TEXTS:
            return f"<mtext>{_e(self.raw_group())}</mtext>"
        if name in FONTS:
            return f'<mstyle mathvariant="{FONTS[name]}">{self.group()}</mstyle>'
        if name in ACCENTS:
            return f'<mover accent="true">{self.group()}<mo>{_e(ACCENTS[name])}</mo></mover>'
        raise _Unsupported(f"\\{name}")


def tex_to_mathml(tex: str) -> str | None:
    """`tex` (without its dollars) as an inline <math> element, or None when it uses
    something outside the subset (the caller then shows the TeX as text)."""
    if len(tex) > MAX_MATH:
        return None
    try:
        body = _Parser(tex).row()
    except _Unsupported:
        return None
    return f'<math display="inline"><semantics>{body}<annotation encoding="application/x-tex">{_e(tex)}</annotation></semantics></math>'


@functools.lru_cache(maxsize=4096)  # a page shows the same titles and abstracts again
def text_with_math(text: str) -> str:
    """Feed text as safe HTML: every character escaped, inline TeX as MathML where
    the converter understands it (else its source, escaped)."""
    out: list[str] = []
    pos = 0
    for m in _INLINE.finditer(text):
        tex = m.group(1) if m.group(1) is not None else m.group(2)
        mathml = tex_to_mathml(tex)
        if mathml is None:
            continue
        out.append(_text(text[pos : m.start()]))
        out.append(mathml)
        pos = m.end()
    out.append(_text(text[pos:]))
    return "".join(out)


_DASHES = re.compile(r"(?<=\w)(---?)(?=\w)")


def _text(text: str) -> str:
    """Text outside math, escaped; TeX's dashes between words (`Krichevsky--Trofimov`,
    `2019---2021`) as the en and em dashes they print ("--flag" is left alone)."""
    return _e(_DASHES.sub(lambda m: "\u2013" if m.group(1) == "--" else "\u2014", text))
