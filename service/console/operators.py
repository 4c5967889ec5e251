"""The operators' pages (push, disclosures) are the city's: a bank's session is refused them
whatever its scopes, as the API refuses banks the feed and the disclosure record."""

from collections.abc import Awaitable, Callable

from fastapi import Request

from service.console.session import ConsoleSession, ScopeMissing, require_scope


def platform_scope(scope: str) -> Callable[[Request], Awaitable[ConsoleSession]]:
    """A page dependency: require_scope(scope), and a bank's session is refused (403)."""
    with_scope = require_scope(scope)

    async def platform_session(request: Request) -> ConsoleSession:
        session = await with_scope(request)
        if session.bank_id is not None:
            raise ScopeMissing(scope)
        return session

    return platform_session
