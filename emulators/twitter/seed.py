"""The deterministic seed: who exists on the emulated X and what they posted.

Everything is derived from a fixed random seed and from the moment of seeding ("now"):
the same people, texts, threads, metrics and messages every time, with timestamps (and
so snowflake ids) placed relative to now so that "the last 30 days" and "the last 7 days"
mean what they do on X.

* ``@acmecoffee`` — the owned account a person connects (120 tweets over ~90 days,
  threads, replies from customers, mentions, quotes, likes, direct messages).
* customers who reply, mention, quote, like and write DMs.
* ``@rivalroasters`` and ``@beanwire`` — public accounts with more than 150 tweets
  (unauthorized streams; only their 100 most recent can be tracked).
* ``@lockedlucy`` (protected) and ``@spambot9000`` (suspended) for the error paths.
"""
from __future__ import annotations

import random
from datetime import UTC, datetime

from .state import State, User

SEED = 20260104
DAY = 86400
HOUR = 3600

#: (username, name, account created, description, followers)
PEOPLE = [
    ("acmecoffee", "Acme Coffee", "2012-03-14", "Small-batch roasters. Support: DM us.", 18250),
    ("jane_doe", "Jane Doe", "2014-06-02", "Coffee first, questions later.", 412),
    ("bob_builds", "Bob Builder", "2016-09-21", "I fix things. Sometimes.", 1290),
    ("carla_m", "Carla Mendes", "2018-01-09", "Barista turned product manager.", 2210),
    ("dev_dan", "Dan the Dev", "2019-11-30", "Writes code, drinks espresso.", 845),
    ("mia_reads", "Mia Chen", "2020-04-17", "Books, beans and bikes.", 367),
    ("sam_eats", "Sam Park", "2021-07-05", "Food blogger in Lisbon.", 5120),
    ("rivalroasters", "Rival Roasters", "2011-05-20", "The other coffee people.", 40210),
    ("beanwire", "Bean Wire", "2013-02-11", "Coffee industry news, all day.", 98033),
    ("lockedlucy", "Lucy (protected)", "2017-08-08", "Private account.", 52),
    ("spambot9000", "Totally Real Deals", "2024-12-01", "", 3),
]

OWNER_TOPICS = [
    "Our {bean} single origin is back in stock", "New in the shop: {bean} espresso blend",
    "Brewing tip #{n}: rinse your paper filter first", "Weekend cupping session at our {city} roastery",
    "We are hiring a barista in {city}", "Latte art throwdown this Friday in {city}",
    "Roast day! {bean} is cooling in the trays", "Cold brew season starts now ({bean} edition)",
    "Tell us your favourite brew method for {bean}", "Shipping update #{n}: orders leave within 24h",
]
BEANS = ["Ethiopia Yirgacheffe", "Colombia Huila", "Kenya Nyeri", "Guatemala Antigua", "Brazil Cerrado",
         "Sumatra Mandheling", "Rwanda Huye", "Costa Rica Tarrazu", "Peru Cajamarca", "Yemen Mocha"]
CITIES = ["Lisbon", "Porto", "Berlin", "Leeds", "Austin", "Denver", "Lyon", "Ghent"]
REPLIES = [
    "Ordered two bags already!", "Does it work for a moka pot?", "Is this decaf friendly?",
    "My order #{n} has not arrived yet, can you check?", "Best roast I had this year.",
    "Any discount for subscribers?", "Can I pick it up in store?", "The grind was too fine this time.",
]
MENTIONS = [
    "Morning ritual with @acmecoffee beans, never disappoints", "Hey @acmecoffee do you ship to Canada?",
    "Shoutout to @acmecoffee for the fast support today", "@acmecoffee your website checkout is down?",
    "Trying the new blend from @acmecoffee tonight", "Who else is at the @acmecoffee cupping?",
]
RIVAL_TOPICS = ["Flash sale: {bean} {n}% off today", "Our {city} pop-up opens at 8",
                "New brewer guide #{n} is on the blog", "{bean}, roasted light, tasting notes inside"]
NEWS_TOPICS = ["Coffee prices update #{n}: arabica futures move again", "{city} cafe scene report #{n}",
               "Harvest report: {bean} yields look strong", "Interview #{n}: a roaster from {city}"]


def _date(value: str) -> float:
    return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()


def _fill(rng: random.Random, template: str, n: int) -> str:
    return template.format(bean=rng.choice(BEANS), city=rng.choice(CITIES), n=n)


def _metrics(rng: random.Random, scale: int) -> dict:
    impressions = rng.randint(scale, scale * 20)
    return {
        "impressions": impressions, "retweets": rng.randint(0, scale // 10),
        "bookmarks": rng.randint(0, scale // 20), "base_likes": rng.randint(0, scale // 4),
        "link_clicks": rng.randint(0, impressions // 50), "profile_clicks": rng.randint(0, impressions // 80),
    }


def seed(state: State, now: float) -> None:
    """Fill an empty ``state`` with the seed, relative to ``now``."""
    rng = random.Random(SEED)
    users = {}
    for username, name, created, description, followers in PEOPLE:
        created_at = _date(created)
        user = User(
            id=str(state.ids.at(created_at)), username=username, name=name, created_at=created_at,
            description=description, followers_count=followers,
            following_count=rng.randint(20, 900), listed_count=followers // 90,
            like_count=rng.randint(50, 5000), protected=username == "lockedlucy",
            suspended=username == "spambot9000", verified=username in ("beanwire", "rivalroasters"),
            url=f"https://{username}.example" if username in ("acmecoffee", "rivalroasters") else "",
            location=rng.choice(CITIES),
        )
        state.users[user.id] = user
        users[username] = user
    state.owner_id = users["acmecoffee"].id
    owner = users["acmecoffee"]
    customers = [users[n] for n in ("jane_doe", "bob_builds", "carla_m", "dev_dan", "mia_reads", "sam_eats")]

    # The owned account: 120 tweets, one every ~18 hours, the newest an hour ago.
    own, texts = [], set()
    for i in range(120):
        at = now - HOUR - i * 18 * HOUR - rng.randint(0, 3600)
        text = _fill(rng, OWNER_TOPICS[i % len(OWNER_TOPICS)], 120 - i)
        if text in texts:  # X refuses duplicates: keep the seed free of them too
            text += f" (#{120 - i})"
        texts.add(text)
        own.append(state.add_tweet(owner.id, text, created_at=at, **_metrics(rng, 400)))
    # Self-threads: the owner continues three recent tweets.
    for k, parent in enumerate(own[2:5]):
        state.add_tweet(owner.id, f"(thread {k + 1}/2) More details below.", reply_to=parent.id,
                        created_at=parent.created_at + 300, **_metrics(rng, 80))

    # Customers reply to the 12 most recent tweets; some replies get answers and sub-replies.
    for i, parent in enumerate(own[:12]):
        for j in range(1 + (i % 3)):
            who = customers[(i + j) % len(customers)]
            text = "@acmecoffee " + _fill(rng, REPLIES[(i * 3 + j) % len(REPLIES)], 1000 + i * 10 + j)
            at = parent.created_at + (j + 1) * 900
            reply = state.add_tweet(who.id, text, reply_to=parent.id, created_at=at, **_metrics(rng, 20))
            state.likes.add((who.id, parent.id))
            if j == 0 and i % 2 == 0:
                answer = state.add_tweet(owner.id, f"@{who.username} Thanks, we are on it!", reply_to=reply.id,
                                         created_at=at + 600, **_metrics(rng, 30))
                if i % 4 == 0:
                    state.add_tweet(customers[(i + 3) % 6].id,
                                    f"@{who.username} @acmecoffee same here", reply_to=answer.id,
                                    created_at=at + 1500, **_metrics(rng, 10))
                state.likes.add((owner.id, reply.id))

    # Standalone mentions over the last ~20 days (stories of the owned stream).
    for i in range(12):
        who = customers[i % len(customers)]
        text = MENTIONS[i % len(MENTIONS)] + f" ({i + 1})"
        state.add_tweet(who.id, text, created_at=now - 2 * HOUR - i * 40 * HOUR, **_metrics(rng, 40))
    # Quotes of the owner's tweets: three mention the owner (so they are mentions), one does not.
    for i, quoted in enumerate(own[1:5]):
        who = customers[(i + 2) % len(customers)]
        text = ("Look at this from @acmecoffee" if i < 3 else "Not sure about this one") + f" #{i + 1}"
        state.add_tweet(who.id, text, quote_of=quoted.id, created_at=quoted.created_at + 7200,
                        **_metrics(rng, 60))
    # A mention from the suspended account never shows up anywhere.
    state.add_tweet(users["spambot9000"].id, "@acmecoffee click here for free beans",
                    created_at=now - 5 * HOUR)

    # Public accounts with more than 150 tweets.
    rival = users["rivalroasters"]
    for i in range(160):
        state.add_tweet(rival.id, _fill(rng, RIVAL_TOPICS[i % len(RIVAL_TOPICS)], 160 - i),
                        created_at=now - 30 * 60 - i * 10 * HOUR, **_metrics(rng, 900))
    news = users["beanwire"]
    rival_recent = state.timeline(rival.id)[:10]
    for i in range(185):
        at = now - 20 * 60 - i * 6 * HOUR
        if i % 25 == 7:
            target = rival_recent[(i // 25) % len(rival_recent)]
            state.add_tweet(news.id, f"RT @rivalroasters: {target.text}", retweet_of=target.id,
                            created_at=max(at, target.created_at + 60), **_metrics(rng, 100))
        elif i % 25 == 13:
            target = rival_recent[(i // 25) % len(rival_recent)]
            state.add_tweet(news.id, "@rivalroasters Can we quote you on that?", reply_to=target.id,
                            created_at=max(at, target.created_at + 60), **_metrics(rng, 100))
        else:
            state.add_tweet(news.id, _fill(rng, NEWS_TOPICS[i % len(NEWS_TOPICS)], 185 - i),
                            created_at=at, **_metrics(rng, 2000))
    for i in range(6):
        state.add_tweet(users["lockedlucy"].id, f"Private thought number {i + 1}",
                        created_at=now - i * DAY - HOUR)

    # Direct messages: three conversations with the owner, plus one older than 30 days.
    threads = [
        (users["jane_doe"], ["Hi! My order has not arrived.", "Sorry to hear that, what is the order number?",
                             "It is #4411.", "Found it: it ships today. Tracking follows by mail."]),
        (users["bob_builds"], ["Do you sell gift cards?", "Yes, in the shop under Gifts.", "Great, thanks!"]),
        (users["carla_m"], ["Would you host a cupping for our team?", "We would love to: how many people?"]),
    ]
    for k, (customer, lines) in enumerate(threads):
        start = now - (k * 3 + 1) * DAY
        for n, line in enumerate(lines):
            sender, recipient = (customer, owner) if n % 2 == 0 else (owner, customer)
            state.add_dm(sender.id, recipient.id, line, created_at=start + n * 1800)
    state.add_dm(users["mia_reads"].id, owner.id, "Hello from last season!", created_at=now - 45 * DAY)
