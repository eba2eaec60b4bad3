"""What Facebook requires: the permissions Streamdesk asks for, which ones an authorized
stream cannot do without, and which page tasks each interaction needs.
"""
from __future__ import annotations

#: Asked for in the login dialog (Graph API permissions, provider-apis A2).
SCOPES = (
    "pages_show_list",          # list the pages the person manages
    "business_management",      # pages owned through a Business Manager
    "pages_read_engagement",    # read the feed, comments, engagement
    "pages_read_user_content",  # visitor posts and people's comments
    "pages_manage_posts",       # publish and delete stories
    "pages_manage_engagement",  # comment, reply, like, hide, delete comments
    "read_insights",            # impressions and reach
    "pages_messaging",          # private messages
    "pages_manage_metadata",    # conversations (and webhooks)
)
#: What each permission enables, in words for the people who grant it.
PERMISSION_HELP = (
    ("pages_show_list", "list the pages you manage"),
    ("business_management", "see pages owned through a Business Manager"),
    ("pages_read_engagement", "read posts, comments and reactions"),
    ("pages_read_user_content", "read visitors' posts and people's comments"),
    ("pages_manage_posts", "publish and delete posts"),
    ("pages_manage_engagement", "comment, reply, like, hide and delete comments"),
    ("read_insights", "read impressions and reach"),
    ("pages_messaging", "read and answer private messages"),
    ("pages_manage_metadata", "read conversations and receive real-time updates"),
)
#: Every permission an authorized stream needs (business_management only matters for
#: Business-Manager pages, and Facebook lists those only when it is granted).
REQUIRED = tuple(p for p in SCOPES if p != "business_management")
PERMISSIONS = frozenset(SCOPES) | {"public_profile", "email"}
#: Each permission Streamdesk asks for, in Facebook's own words from the login dialog,
#: so a stream refused for one names it as the person saw it when granting.
LABELS = {
    "pages_show_list": "Show a list of the Pages you manage",
    "business_management": "Manage your business",
    "pages_read_engagement": "Read content posted on the Page",
    "pages_read_user_content": "Read user content on your Page",
    "pages_manage_posts": "Create and manage content on your Page",
    "pages_manage_engagement": "Manage comments on your Page",
    "read_insights": "Read Page insights",
    "pages_messaging": "Manage and access Page conversations in Messenger",
    "pages_manage_metadata": "Manage accounts, settings and webhooks for a Page",
}

#: The tasks a person can hold on a page; MANAGE marks an Admin.
ADMIN_TASK = "MANAGE"
TASK_LABELS = {
    "MANAGE": "full control (Admin)", "CREATE_CONTENT": "create content", "MODERATE": "moderate",
    "MESSAGING": "messaging", "ANALYZE": "insights", "ADVERTISE": "ads",
}

#: interaction → (any one of these tasks, permission it needs)
INTERACTION_RULES = {
    "publish": (("CREATE_CONTENT", "MANAGE", "MODERATE"), "pages_manage_posts"),
    "comment": (("MODERATE", "MANAGE"), "pages_manage_engagement"),
    "reply": (("MODERATE", "MANAGE"), "pages_manage_engagement"),
    "like": (("MODERATE", "MANAGE"), "pages_manage_engagement"),
    "hide": (("MODERATE", "MANAGE"), "pages_manage_engagement"),
    "delete": (("MODERATE", "MANAGE"), "pages_manage_engagement"),
    "delete_story": (("CREATE_CONTENT", "MANAGE", "MODERATE"), "pages_manage_posts"),
    "message": (("MESSAGING", "MODERATE", "MANAGE"), "pages_messaging"),
}

#: Page credentials carry the person's tasks on the page among their scopes, so that an
#: interaction can be refused before calling Facebook.
TASK_PREFIX = "task:"


def tasks_of(scopes: tuple[str, ...]) -> set[str] | None:
    """The page tasks recorded in a credential's scopes (None when none were recorded)."""
    tasks = {s[len(TASK_PREFIX):] for s in scopes if s.startswith(TASK_PREFIX)}
    return tasks or None
