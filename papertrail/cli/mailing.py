"""`--email` of `papertrail digest` and `papertrail fetch`: send the digest, say what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from papertrail import api
from papertrail.cli._base import guard

if TYPE_CHECKING:
    from papertrail.config import Paths
    from papertrail.reading.digest import Digest

# The digest could not be mailed (EX_UNAVAILABLE); it is saved in the outbox folder.
EXIT_MAIL = 69

EMAIL_HELP = (
    "Also send the digest by e-mail (text + HTML) as feeds.yml's email: section says. "
    f"Exit code {EXIT_MAIL} when it cannot be sent; the message is then kept in "
    "<database folder>/outbox/."
)


def send(ctx: click.Context, paths: Paths, digest: Digest) -> None:
    """Send `digest`; on failure say why and where it was kept, and exit with EXIT_MAIL."""
    try:
        sent = guard(api.send_digest, paths, digest)
    except api.MailNotSent as e:
        click.echo(f"Error: {e}", err=True)
        ctx.exit(EXIT_MAIL)
    click.echo(f"Sent “{sent.subject}” to {', '.join(sent.recipients)}.", err=True)
