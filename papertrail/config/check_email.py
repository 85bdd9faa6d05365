"""The `email:` section of feeds.yml (`papertrail digest --email`, `fetch --email`): the
settings, and their checks as a mixin of the config checker (it uses the checker's
`error`, `items`, `mapping`, `string`, `integer`, `number` and `string_list`).

The password is never in the file: `password_env` names an environment variable
that holds it, else the system keyring is asked (service "papertrail", the
username). A `password:` key is an error that says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from papertrail.config.nodes import _BAD, _is_null, _unknown_key

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
LOOPBACK = ("localhost", "127.0.0.1", "::1")
KEYRING_SERVICE = "papertrail"
_KEYS = (
    "host", "port", "security", "username", "password_env", "from", "to", "subject",
    "ca_file", "timeout",
)  # fmt: skip
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class EmailSettings:
    """Where and how the digest is mailed."""

    host: str
    sender: str  # the `from:` address, display name allowed
    to: tuple[str, ...]
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none (loopback hosts only)
    username: str | None = None  # no login when absent
    password_env: str | None = None  # the environment variable holding the password
    subject: str | None = None  # default: the digest's title
    ca_file: str | None = None  # a CA bundle to trust (a server with its own certificate)
    timeout: float = 30.0


def _address(value: str) -> bool:
    name, addr = parseaddr(value)
    return bool(addr) and "@" in addr and not any(c in value for c in "\r\n")


class EmailChecks:
    error: Any
    items: Any
    mapping: Any
    string: Any
    integer: Any
    number: Any
    string_list: Any

    def email(self, node: Node) -> EmailSettings | None:
        if _is_null(node) or not self.mapping(node, "email", "a mapping (host, from, to, …)"):
            return None
        assert isinstance(node, MappingNode)
        values: dict[str, object] = {}
        for name, knode, vnode in self.items(node, "email"):
            key = f"email.{name}"
            if name == "password":
                self.error(knode, key, _NO_PASSWORD)
            elif name not in _KEYS:
                self.error(knode, key, _unknown_key(name, _KEYS))
            else:
                values[name] = self._email_value(name, vnode, key)
        if any(v is _BAD for v in values.values()):
            return None
        return self._email_settings(node, values)

    def _email_value(self, name: str, node: Node, key: str) -> object:
        if name == "port":
            return self.integer(node, key, 1, 65535)
        if name == "timeout":
            return self.number(node, key, 0, True)
        if name == "to":
            if isinstance(node, ScalarNode):
                value = self.email_address(node, key)
                return _BAD if value is _BAD else (value,)
            return self.string_list(node, key, self.email_address)
        if name == "from":
            return self.email_address(node, key)
        value = self.string(node, key)
        if value is _BAD:
            return _BAD
        if name == "security" and value not in SECURITY:
            return self.error(node, key, f"'{value}' is not one of {', '.join(SECURITY)}")
        if name == "password_env" and not _ENV_NAME.match(str(value)):
            return self.error(
                node, key, f"'{value}' is not an environment variable name (e.g. SMTP_PASSWORD)"
            )
        return value

    def email_address(self, node: Node, key: str) -> object:
        value = self.string(node, key)
        if value is _BAD:
            return _BAD
        if not _address(str(value)):
            return self.error(node, key, f"'{value}' is not an e-mail address")
        return value

    def _email_settings(self, node: Node, values: dict[str, object]) -> EmailSettings | None:
        missing = [k for k in ("host", "from", "to") if k not in values]
        if missing:
            self.error(node, "email", f"missing {', '.join(missing)} (see the README, 'E-mail')")
            return None
        security = str(values.get("security", "starttls"))
        host = str(values["host"])
        if security == "none" and host.lower() not in LOOPBACK:
            self.error(
                node,
                "email.security",
                f"'none' sends the digest (and any password) unencrypted to {host}: use starttls "
                "or ssl; 'none' is allowed only for a server on this machine (localhost)",
            )
            return None
        to = values["to"]
        assert isinstance(to, tuple)
        return EmailSettings(
            host=host,
            sender=str(values["from"]),
            to=to,
            port=int(values.get("port", DEFAULT_PORTS[security])),  # type: ignore[call-overload]
            security=security,
            username=_opt(values.get("username")),
            password_env=_opt(values.get("password_env")),
            subject=_opt(values.get("subject")),
            ca_file=_opt(values.get("ca_file")),
            timeout=float(values.get("timeout", 30.0)),  # type: ignore[arg-type]
        )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


_NO_PASSWORD = (
    "a password does not belong in feeds.yml (it is often shared or committed): remove it, "
    "then either set 'password_env: SMTP_PASSWORD' and export SMTP_PASSWORD=… where papertrail "
    f"runs, or store it in the system keyring: keyring set {KEYRING_SERVICE} YOUR_USERNAME"
)
