"""Twitter/X provider plugin (X API v2).

At this stage it only declares the service; its link, search, crawl, metrics and
interaction hooks arrive with the Twitter/X provider issue.
"""
from webapp.hookspecs import hookimpl
from webapp.values import Service

SERVICE = Service(
    name="twitter",
    label="X (Twitter)",
    private_messages=True,
    unauthorized_post_limit=100,
    default_api_url="https://api.x.com",
    default_auth_url="https://x.com/i/oauth2",
    handle_hint="Profile URL or @handle",
)


@hookimpl
def streamdesk_services():
    """Declare the X (Twitter) service."""
    return SERVICE
