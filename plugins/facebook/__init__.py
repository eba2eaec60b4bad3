"""Facebook provider plugin (Graph API).

At this stage it only declares the service; its link, search, crawl, metrics and
interaction hooks arrive with the Facebook provider issue.
"""
from webapp.hookspecs import hookimpl
from webapp.values import Service

SERVICE = Service(
    name="facebook",
    label="Facebook",
    private_messages=True,
    # Graph API: for pages you do not manage only updates to the 100 most recent posts.
    unauthorized_post_limit=100,
    default_api_url="https://graph.facebook.com/v25.0",
    default_auth_url="https://www.facebook.com/v25.0",
    handle_hint="Page URL or @handle",
)


@hookimpl
def streamdesk_services():
    """Declare the Facebook service."""
    return SERVICE
