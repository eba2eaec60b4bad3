"""The deterministic seed of the Graph API emulator: people, pages, stories, comments,
conversations and the numbers behind insights.

Everything comes from one ``random.Random(SEED)`` and fixed instants, so two emulators
(or two resets) hold byte-for-byte the same data. The seed's clock stops at
:data:`SEED_NOW`; what is added later (published posts, control-API additions) is dated
by the emulator's running clock, which never runs behind it.
"""
from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from .model import Comment, Conversation, Message, Page, Person, Post, World

SEED = 20261101
#: The instant the seeded history ends (every seeded timestamp is before it).
SEED_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

#: The one app the emulator knows: its id and secret are what sandbox mode configures.
APP_ID = "438291047563210"
APP_SECRET = "9d3f6c2a51b84e07a1c5e8f0b2d47a93"
APP_NAME = "Streamdesk (sandbox)"

ALL_TASKS = ("ANALYZE", "ADVERTISE", "MESSAGING", "MODERATE", "CREATE_CONTENT", "MANAGE")
EDITOR_TASKS = ("ANALYZE", "ADVERTISE", "MESSAGING", "MODERATE", "CREATE_CONTENT")
MODERATOR_TASKS = ("ANALYZE", "ADVERTISE", "MESSAGING", "MODERATE")
ANALYST_TASKS = ("ANALYZE", "ADVERTISE")

#: People who can log in through the OAuth dialog (the first one is the default).
PEOPLE = (
    ("10158372947561023", "Alex Rivera", "alex.rivera@example.com"),
    ("10223948576610234", "Sam Taylor", "sam.taylor@example.com"),
    ("10119283746501928", "Jordan Lee", "jordan.lee@example.com"),
)

#: (id, name, username, category, fans, story count, visitor posts, roles {person: tasks})
PAGES = (
    ("104729384756102", "Bluebird Coffee", "bluebirdcoffee", "Coffee Shop", 12840, 230, 30,
     {"10158372947561023": ALL_TASKS, "10223948576610234": EDITOR_TASKS}),
    ("108374650192837", "Riverside Bikes", "riversidebikes", "Bicycle Shop", 5310, 60, 8,
     {"10158372947561023": ANALYST_TASKS, "10223948576610234": ALL_TASKS}),
    ("112938475610293", "Northwind Books", "northwindbooks", "Book Store", 2270, 40, 5,
     {"10158372947561023": MODERATOR_TASKS}),
    # Public pages nobody seeded manages: unauthorized streams (competitors).
    ("100482736450917", "Acme Outdoor Gear", "acmeoutdoor", "Sporting Goods Store", 48210, 180, 0, {}),
    ("101938475620394", "Globex Coffee Company", "globexcoffee", "Coffee Shop", 91544, 160, 0, {}),
    ("109283746501827", "Blue Bottle Bakery", "bluebottlebakery", "Bakery", 3120, 20, 0, {}),
    # No username: reachable only by id (profile.php?id=…, /pages/Name/ID).
    ("113847562910384", "Corner Deli of Springfield", None, "Deli", 640, 12, 0, {}),
)

FIRST = ("Maria", "James", "Aisha", "Chen", "Lukas", "Sofia", "Mateo", "Priya", "Noah", "Emma",
         "Yuki", "Omar", "Léa", "Tomasz", "Zoe", "Kwame", "Ingrid", "Diego", "Hana", "Ravi")
LAST = ("García", "Smith", "Okafor", "Wang", "Müller", "Rossi", "Silva", "Patel", "Johnson",
        "Dubois", "Tanaka", "Haddad", "Nowak", "Nielsen", "Mensah")

TOPICS = {
    "Coffee Shop": ("our new Ethiopian single origin", "the autumn spice latte", "oat milk flat whites",
                    "the cold brew tap", "latte art Thursdays", "our espresso blend"),
    "Bicycle Shop": ("the spring tune-up special", "gravel bikes", "our Saturday group ride",
                     "e-bike test days", "tubeless conversions"),
    "Book Store": ("this month's book club pick", "signed first editions", "the poetry night",
                   "our children's story hour"),
    "Sporting Goods Store": ("the new trail runners", "ultralight tents", "our winter jackets",
                             "the climbing wall demo", "waterproof hiking boots", "the end-of-season sale"),
    "Bakery": ("sourdough Sundays", "the cardamom buns", "our gluten-free loaf"),
    "Deli": ("the pastrami on rye", "soup of the day"),
}
OPENERS = ("Say hello to {t}!", "Have you tried {t} yet?", "Back by popular demand: {t}.",
           "Fresh this week: {t}.", "We can't stop talking about {t}.", "Last chance for {t}!",
           "Behind the scenes of {t}.", "You asked, we listened — {t} is here.")
CLOSERS = ("See you soon.", "Tag a friend who needs this.", "Open 7am–7pm every day.",
           "Link in the comments.", "Which one is your favourite?", "")
REMARKS = ("Love this!", "When does it start?", "Is this available online?", "Great service last week, thanks!",
           "Do you ship abroad?", "Can't wait 😍", "The queue was long but worth it.",
           "Any vegan options?", "My order hasn't arrived yet, can someone help?", "👍",
           "Prices went up again?", "Best in town, no contest.", "Will you be open on the holiday?")
REPLIES = ("Thanks so much!", "Yes — from next Monday.", "Sorry to hear that, we've sent you a message.",
           "Agreed!", "Same question here.", "Ha, exactly.")
STATUS_TYPES = ("mobile_status_update", "added_photos", "shared_story", "added_video")
DM_FROM_FAN = ("Hi! Are you open tomorrow?", "I'd like to return an item I bought last week.",
               "Do you take group bookings?", "My order #{n} hasn't arrived.", "Thank you for the quick help!",
               "Is the event still on?", "Can I change my order?")
DM_FROM_PAGE = ("Hi! Yes, we are — see you there.", "Of course, could you send us your order number?",
                "We do — how many people?", "Sorry about that, we'll look into it right away.",
                "You're welcome!", "It is!", "Sure, what would you like to change?")


def stable_int(*parts: object, bits: int = 32) -> int:
    """A number derived from ``parts`` alone (not from the seed's random stream): used for
    values computed on demand, such as a page's insights on any date."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") % (1 << bits)


def build_world() -> World:
    """Build the seeded world from scratch (called at start and by the control API reset)."""
    rng = random.Random(SEED)
    world = World()
    for pid, name, email in PEOPLE:
        world.add(Person(id=pid, name=name, email=email, can_login=True))
    fans = []
    for _ in range(48):
        fan = Person(id=str(100000000000000 + rng.randrange(10**13, 10**14)),
                     name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", email=None)
        world.add(fan)
        fans.append(fan)
    for page_id, name, username, category, fans_count, stories, visitor, roles in PAGES:
        page = Page(id=page_id, name=name, username=username, category=category,
                    fan_count=fans_count, followers_count=int(fans_count * 1.07), roles=dict(roles))
        world.add(page)
        _seed_stories(world, rng, page, fans, stories, visitor)
        if roles:
            _seed_conversations(world, rng, page, fans)
    return world


def _seed_stories(world: World, rng: random.Random, page: Page, fans: list[Person],
                  count: int, visitor: int) -> None:
    # Walk back from SEED_NOW with irregular gaps, posting in daytime hours.
    at = SEED_NOW - timedelta(hours=rng.uniform(2, 20))
    topics = TOPICS[page.category]
    visitor_slots = set(rng.sample(range(count), visitor)) if visitor else set()
    big = {3: 150, 11: 34} if count >= 150 else {}  # a few stories with long comment threads
    for n in range(count):
        at -= timedelta(hours=rng.expovariate(1 / 30))
        at = at.replace(hour=rng.randint(7, 21), minute=rng.randint(0, 59), second=rng.randint(0, 59))
        local = str(10**15 + rng.randrange(10**15, 9 * 10**15))
        if n in visitor_slots:
            author = rng.choice(fans)
            message = rng.choice(REMARKS)
            status_type, story = "wall_post", None
        else:
            author = page
            message = " ".join(filter(None, (rng.choice(OPENERS).format(t=rng.choice(topics)), rng.choice(CLOSERS))))
            status_type = rng.choice(STATUS_TYPES)
            story = {"shared_story": f"{page.name} shared a link.",
                     "added_photos": f"{page.name} added {rng.randint(2, 6)} new photos.",
                     "added_video": f"{page.name} added a new video."}.get(status_type)
        post = Post(id=f"{page.id}_{local}", page_id=page.id, author_id=author.id, message=message,
                    story=story, status_type=status_type, created=at, updated=at,
                    shares=rng.choice((0, 0, 0, 1, 2, 5, 12, 40)) if author is page else 0,
                    reactions={"LIKE": rng.randint(0, 300), "LOVE": rng.randint(0, 60),
                               "HAHA": rng.randint(0, 10), "WOW": rng.randint(0, 8)})
        world.add(post)
        n_comments = big.get(n, rng.choice((0, 0, 0, 1, 1, 2, 3, 4, 6, 9, 14)))
        _seed_comments(world, rng, page, post, fans, n_comments)


def _seed_comments(world: World, rng: random.Random, page: Page, post: Post,
                   fans: list[Person], count: int) -> None:
    at = post.created
    post_local = post.id.split("_", 1)[1]
    for _ in range(count):
        at = min(at + timedelta(minutes=rng.expovariate(1 / 90)), SEED_NOW - timedelta(minutes=1))
        comment = Comment(id=f"{post_local}_{10**15 + rng.randrange(10**15)}", post_id=post.id,
                          parent_id=None, author_id=rng.choice(fans).id, message=rng.choice(REMARKS),
                          created=at.replace(microsecond=0))
        world.add(comment)
        post.updated = max(post.updated, comment.created)
        if rng.random() < 0.25:
            reply_at = comment.created
            for _ in range(rng.randint(1, 3)):
                reply_at = min(reply_at + timedelta(minutes=rng.randint(3, 600)), SEED_NOW - timedelta(seconds=30))
                author = page if rng.random() < 0.5 else rng.choice(fans)
                reply = Comment(id=f"{post_local}_{10**15 + rng.randrange(10**15)}", post_id=post.id,
                                parent_id=comment.id, author_id=author.id, message=rng.choice(REPLIES),
                                created=reply_at.replace(microsecond=0))
                world.add(reply)
                post.updated = max(post.updated, reply.created)
        if rng.random() < 0.1:
            comment.is_hidden = True


def _seed_conversations(world: World, rng: random.Random, page: Page, fans: list[Person]) -> None:
    count = {"104729384756102": 6}.get(page.id, 3)
    for c in range(count):
        fan = rng.choice(fans)
        psid = str(20000000000000000 + rng.randrange(10**15))
        convo = Conversation(id=f"t_{10**14 + rng.randrange(9 * 10**14)}", page_id=page.id,
                             psid=psid, person_id=fan.id)
        at = SEED_NOW - timedelta(days=rng.uniform(1, 60))
        n_messages = 120 if (page.id == "104729384756102" and c == 0) else rng.randint(2, 9)
        for m in range(n_messages):
            at += timedelta(minutes=rng.randint(1, 240))
            at = min(at, SEED_NOW - timedelta(minutes=n_messages - m))
            from_page = m % 2 == 1
            text = rng.choice(DM_FROM_PAGE if from_page else DM_FROM_FAN).format(n=rng.randint(1000, 9999))
            convo.messages.append(Message(
                id="m_" + hashlib.sha256(f"{convo.id}:{m}".encode()).hexdigest()[:40],
                created=at.replace(microsecond=0), from_page=from_page, text=text))
        world.add(convo)
