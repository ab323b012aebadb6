"""Our own templated requests: the training data the public corpora lack (in-car commands,
assistant control, persona switches, and the things a car can't do said the way drivers say
them). Phrasings are built from parts, and the parts from general word lists, never from
sentences of the evaluation sets.

`generate(rng)` yields (text, label); the label set is `training.LABELS`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TypeVar

from .slots import CATEGORIES, CUISINES

# --- parts ---------------------------------------------------------------------------------

PLACE_NAMES = [
    "Beanstalk Coffee",
    "Luigi's Trattoria",
    "Golden Wok",
    "Harbor Burger",
    "Sakura Sushi",
    "Town Center Mall",
    "Mercy General Hospital",
    "Grand Plaza Hotel",
    "Voltpoint Charging Hub",
    "Stanford Shopping Center",
    "the Computer History Museum",
    "Golden Gate Park",
    "Union Square",
    "Fisherman's Wharf",
    "the Ferry Building",
    "Oracle Park",
    "Santa Monica Pier",
    "the Space Needle",
    "Pike Place Market",
    "Central Park",
    "Times Square",
    "the Art Institute",
    "Navy Pier",
    "Lincoln Center",
    "Dolores Park",
    "Palo Alto High School",
    "the public library",
    "City Hall",
    "the train station",
    "the stadium",
    "the zoo",
    "the beach",
    "the office",
    "work",
    "my office",
    "grandma's house",
    "my mom's place",
    "Jessica's house",
    "the Hilton",
    "the Marriott downtown",
    "Costco",
    "Home Depot",
    "Best Buy",
    "the Apple Store",
    "Target",
    "Walmart",
    "IKEA",
    "the dentist's office",
    "the gym",
    "Lake Tahoe",
    "Yosemite",
    "Napa Valley",
    "Big Sur",
    "San Francisco",
    "Los Angeles",
    "Sacramento",
    "Portland",
    "Seattle",
    "Denver",
    "Chicago",
    "Boston",
    "New York",
    "Austin",
    "Phoenix",
    "Reno",
    "Las Vegas",
    "San Diego",
    "Oakland",
    "Mountain View",
    "San Jose",
    "Berkeley",
    "Fresno",
    "Santa Cruz",
    "Monterey",
    "SFO",
    "JFK",
    "LAX",
    "San Jose airport",
    "the airport",
    "Oakland International Airport",
    "1600 Amphitheatre Parkway",
    "221 Baker Street",
    "42 Elm Street",
    "500 Market Street",
    "10 Downing Street",
    "350 Fifth Avenue",
    "1 Infinite Loop",
    "77 Massachusetts Avenue",
    "the corner of Main and 5th",
    "Highway 1",
    "Chef Chu's",
    "Round Table",
    "Four Seasons",
    "Trader Joe's",
    "Whole Foods on Castro",
    "Philz Coffee",
    "Blue Bottle",
    "the Shell on 3rd",
]
# Invented place names and addresses, so the model learns that "navigate to <anything>" is a
# request whatever the name is made of.
_NAME_PARTS = [
    "river",
    "lake",
    "maple",
    "oak",
    "pine",
    "sunset",
    "harbor",
    "hill",
    "valley",
    "cedar",
    "golden",
    "silver",
    "north",
    "west",
    "park",
    "bay",
    "ocean",
    "willow",
    "elm",
    "spring",
    "meadow",
    "stone",
    "bridge",
    "mill",
    "king",
    "royal",
    "grand",
    "central",
    "union",
    "liberty",
    "summit",
    "brook",
    "green",
    "blue",
    "red",
    "fox",
    "eagle",
    "lincoln",
    "madison",
    "jackson",
    "cherry",
    "rose",
    "sierra",
    "vista",
]
_NAME_ENDS = [
    "side",
    "view",
    "crest",
    "wood",
    "field",
    "dale",
    "ton",
    "ridge",
    "point",
    "gate",
    "land",
    "vale",
    "haven",
    "port",
    "ford",
    "wick",
    "burg",
    "",
]
_PLACE_TYPES = [
    "Inn",
    "Hotel",
    "Plaza",
    "Center",
    "Mall",
    "Diner",
    "Cafe",
    "Market",
    "Garage",
    "Park",
    "Station",
    "Library",
    "Clinic",
    "Tower",
    "Square",
    "Hall",
    "Theater",
    "School",
    "Church",
    "Stadium",
    "Gym",
    "Bakery",
    "Bistro",
    "Motel",
    "Lodge",
    "Bar",
    "Grill",
    "Museum",
    "Arena",
    "Marina",
    "Depot",
    "Outlet",
    "Kitchen",
    "",
]
_SURNAMES = [
    "Smith's",
    "Garcia's",
    "Nguyen's",
    "Patel's",
    "Murphy's",
    "Rossi's",
    "Kim's",
    "Johnson's",
    "O'Brien's",
    "Schmidt's",
    "Tanaka's",
    "Lopez's",
]
_STREETS = ["Street", "Avenue", "Road", "Boulevard", "Lane", "Drive", "Way", "Court", "Place"]


def invented_place(rng: random.Random) -> str:
    """A place name or street address nobody wrote down: "Willowcrest Inn", "42 Cedar Lane"."""
    kind = rng.random()
    word = (_pick(rng, _NAME_PARTS) + _pick(rng, _NAME_ENDS)).title()
    if kind < 0.45:
        return f"{word} {_pick(rng, _PLACE_TYPES)}".strip()
    if kind < 0.6:
        return f"{_pick(rng, _SURNAMES)} {_pick(rng, _PLACE_TYPES) or 'Place'}"
    if kind < 0.85:
        return f"{rng.randint(1, 9999)} {word} {_pick(rng, _STREETS)}"
    return (
        f"{_pick(rng, _NAME_PARTS).title()} {_pick(rng, _NAME_PARTS).title()} "
        f"{_pick(rng, _PLACE_TYPES)}".strip()
    )


HOME = [
    "home",
    "my house",
    "my place",
    "my friend's house",
    "my friend's place",
    "my home",
    "my parents' house",
    "my sister's place",
]

CATEGORY_PHRASES: dict[str, list[str]] = {
    "charger": [
        "charger",
        "charging station",
        "supercharger",
        "EV charger",
        "fast charger",
        "place to charge",
        "place to plug in",
        "charging spot",
    ],
    "gas_station": [
        "gas station",
        "petrol station",
        "place to get gas",
        "fuel station",
        "Chevron",
        "Shell station",
        "filling station",
        "Valero",
    ],
    "coffee": [
        "coffee shop",
        "cafe",
        "Starbucks",
        "coffee place",
        "tea house",
        "place for coffee",
        "coffee or tea place",
        "espresso bar",
        "boba place",
    ],
    "restaurant": [
        "restaurant",
        "place to eat",
        "fast food place",
        "diner",
        "burger joint",
        "food court",
        "McDonald's",
        "pizza place",
        "Chinese restaurant",
        "taco truck",
        "sushi bar",
        "steakhouse",
        "Italian restaurant",
        "Thai restaurant",
        "Indian restaurant",
        "sandwich shop",
        "food place",
    ],
    "grocery": [
        "grocery store",
        "supermarket",
        "Safeway",
        "Whole Foods",
        "Trader Joe's",
        "market",
        "farmers market",
        "place to buy groceries",
    ],
    "shopping": [
        "mall",
        "shopping center",
        "outlet",
        "clothing store",
        "shoe store",
        "department store",
        "bookstore",
        "hardware store",
        "electronics store",
    ],
    "parking": [
        "parking garage",
        "parking lot",
        "place to park",
        "parking spot",
        "parking space",
        "car park",
        "garage",
    ],
    "hotel": [
        "hotel",
        "motel",
        "place to stay",
        "place to sleep",
        "inn",
        "hostel",
        "lodge",
        "bed and breakfast",
    ],
    "hospital": ["hospital", "emergency room", "urgent care", "clinic", "ER", "doctor"],
    "pharmacy": ["pharmacy", "drugstore", "CVS", "Walgreens", "chemist"],
    "rest_stop": ["rest stop", "rest area", "restroom", "bathroom", "toilet"],
    "bank": ["bank", "ATM", "cash machine", "credit union"],
    "airport": ["airport"],
}
_PLURAL = {
    "pharmacy": "pharmacies",
    "place to eat": "places to eat",
    "place to stay": "places to stay",
    "place to park": "places to park",
}
CUISINE_WORDS = sorted({w for words in CUISINES.values() for w in words[:2]})

NEAR = [
    "",
    "",
    "",
    " nearby",
    " near me",
    " around here",
    " close by",
    " in the area",
    " near here",
    " close to me",
    " on this side of town",
    " around me",
    " in town",
]
POLITE = [
    "",
    "",
    "",
    "please ",
    "car, ",
    "hey car ",
    "can you ",
    "could you ",
    "okay ",
    "hey ",
    "um ",
    "would you ",
]
TAIL = ["", "", "", " please", " now", " thanks", " right now", " for me", " asap"]
ROUTE_PREF = [
    "",
    "",
    "",
    "",
    " and avoid heavy traffic",
    " avoiding traffic",
    " using the fastest route",
    " by the quickest route",
    " and avoid tolls",
    " with no highways",
    " avoiding all heavy traffic",
    " the fastest way",
]
LIMIT = [
    "",
    "",
    "",
    " within 3 miles",
    " within two miles",
    " within 10 km",
    " less than 3 miles away",
    " in a 5 mile radius",
    " within walking distance",
]

PERSONA_NAMES = [
    # The shipped cast and the kinds of characters designers write.
    "the storyteller",
    "storyteller",
    "unhinged",
    "the unhinged one",
    "kids storyteller",
    "the therapist",
    "therapist",
    "the assistant",
    "assistant",
    "the trivia game",
    "kids trivia",
    "romantic",
    "the romantic one",
    "argumentative",
    "the argumentative one",
    "conspiracy",
    "the conspiracy theorist",
    "meditation",
    "motivation",
    "the coach",
    "captain nova",
    "the pirate persona",
    "grandpa joe",
    "sherlock",
    "professor owl",
    "the comedian persona",
    "luna",
    "the narrator",
    "the poet character",
    "chef remy",
    "the tour guide persona",
    "zen master",
    "sergeant stone",
    "the butler character",
    "aunt mabel",
    "merlin",
    "detective dee",
    "ziggy",
    "the grumpy one",
    "sunny",
    "the sarcastic one",
    "nova",
    "the quiz master",
    "doctor who",
    "coach carter",
]
MEDIA = [
    "some jazz",
    "my playlist",
    "the radio",
    "classical music",
    "rock",
    "hip hop",
    "the news podcast",
    "my audiobook",
    "the next song",
    "country music",
    "the beatles",
    "taylor swift",
    "something upbeat",
    "love songs",
    "a history podcast",
    "the latest episode",
    "chill music",
    "relaxing music",
    "the road trip playlist",
    "npr",
    "a podcast about history",
    "some kids songs",
    "my favorite album",
    "the soundtrack",
    "spotify",
    "the morning show",
    "lofi beats",
    "meditation music",
    "a bedtime story audiobook",
    "the top 40",
    "metal",
    "a true crime podcast",
    "a comedy special",
    "sad songs",
    "happy songs",
]
TIMES = [
    "6 am",
    "7:30",
    "seven thirty tomorrow",
    "noon",
    "5 pm",
    "eight in the morning",
    "half past six",
    "ten minutes",
    "an hour",
    "monday at 9",
    "tomorrow morning",
]
PEOPLE = [
    "mom",
    "dad",
    "john",
    "my boss",
    "sarah",
    "the team",
    "my wife",
    "my husband",
    "alex",
    "my sister",
    "grandma",
    "tom",
    "the office",
    "my friend",
]
TOPICS = [
    "dragons",
    "the ocean",
    "space travel",
    "a lost dog",
    "pirates",
    "a haunted house",
    "a robot who learns to paint",
    "my day",
    "life",
    "the meaning of life",
    "cats",
    "the weather on mars",
    "a brave knight",
    "friendship",
    "the moon",
    "a time traveler",
]
LOOKUPS = [
    "the capital of France",
    "the speed of light",
    "the population of Tokyo",
    "who invented the telephone",
    "how tall Mount Everest is",
    "the boiling point of water",
    "the tallest building in the world",
    "how tire pressure works",
    "what the turtle symbol means",
    "how to open the charge port",
    "when the museum opens",
    "the opening hours of the library",
    "how long charging takes",
    "the price of gold",
    "the score of the giants game",
    "the history of the golden gate bridge",
    "how to change a flat tire",
    "what a regenerative brake is",
    "the exchange rate for euros",
    "the definition of serendipity",
]
CITIES = [
    "Palo Alto",
    "San Francisco",
    "Denver",
    "Seattle",
    "Boston",
    "Chicago",
    "Miami",
    "New York",
    "London",
    "Tokyo",
    "Paris",
    "Austin",
    "here",
    "town",
    "the city",
]
WHEN = [
    "today",
    "tomorrow",
    "this weekend",
    "tonight",
    "on friday",
    "next week",
    "this afternoon",
    "right now",
    "in the morning",
    "on monday",
]
LANDMARKS = ["mount everest", "the amazon river", "timbuktu", "the great wall", "atlantis"]
SETTINGS_WORDS = ["celsius", "fahrenheit", "kilometers", "miles", "eastern time", "spanish"]
WEBSITES = ["youtube", "the bbc website", "reddit", "my bank website", "the app store"]
DISHES = [
    "lasagna",
    "pancakes",
    "chicken curry",
    "banana bread",
    "tacos",
    "pizza dough",
    "fried rice",
    "a cake",
    "mac and cheese",
    "sushi rolls",
    "chili",
    "soup",
]
FAMOUS = [
    "taylor swift",
    "the president",
    "elon musk",
    "shakespeare",
    "beyonce",
    "einstein",
    "the queen",
    "lebron james",
]
ADJECTIVES = [
    "funny",
    "serious",
    "nice",
    "polite",
    "patient",
    "brief",
    "creative",
    "honest",
    "cheerful",
    "quiet",
    "weird",
    "chill",
    "kind",
    "gentle",
]
EVENTS = [
    "christmas",
    "my birthday",
    "the weekend",
    "summer",
    "the concert",
    "paris",
    "the olympics",
    "disneyland",
    "the wedding",
    "new year",
    "japan",
    "college",
]
WEATHER_WORDS = [
    "rain",
    "snow",
    "be sunny",
    "be windy",
    "be foggy",
    "be hot",
    "be cold",
    "storm",
    "hail",
    "be cloudy",
    "drizzle",
    "freeze",
    "be humid",
]


_T = TypeVar("_T")


def _pick(rng: random.Random, items: list[_T]) -> _T:
    return items[rng.randrange(len(items))]


def _plural(phrase: str) -> str:
    if phrase in _PLURAL:
        return _PLURAL[phrase]
    if phrase.endswith(("s", "sh", "ch")):
        return phrase + "es"
    if phrase.endswith("y") and not phrase.endswith(("ay", "ey", "oy")):
        return phrase[:-1] + "ies"
    return phrase + "s"


def _category(rng: random.Random) -> str:
    category = _pick(rng, sorted(CATEGORY_PHRASES))
    return _pick(rng, CATEGORY_PHRASES[category])


# --- generators per label --------------------------------------------------------------------


def _start(rng: random.Random) -> str:
    verbs = [
        "take me to",
        "navigate to",
        "drive to",
        "directions to",
        "get me to",
        "let's go to",
        "head to",
        "i want to go to",
        "route to",
        "bring me to",
        "how do i get to",
        "show me the way to",
        "i need to get to",
        "go to",
        "give me directions to",
        "set the destination to",
        "start navigation to",
        "drive me to",
        "plot a route to",
        "find a route to",
        "we're going to",
        "i'd like to go to",
        "can we go to",
        "guide me to",
        "take us to",
        "what's the best way to get to",
        "get directions to",
        "navigate me to",
        "i need directions to",
        "find me the way to",
        "where is",
        "where's",
        "what's the address of",
        "give me the address of",
        "how far is it to",
        "show me",
        "find",
        "locate",
    ]
    place = invented_place(rng) if rng.random() < 0.5 else _pick(rng, PLACE_NAMES + HOME)
    if rng.random() < 0.05:
        return _pick(
            rng,
            [
                "where do i live",
                "what's my home address",
                "where is my home",
                "where does my friend live",
                "what is my address",
                "where is my friend's house",
            ],
        )
    return (
        _pick(rng, POLITE)
        + _pick(rng, verbs)
        + " "
        + place
        + _pick(rng, ROUTE_PREF)
        + _pick(rng, TAIL)
    )


def _home(rng: random.Random) -> str:
    """Home and friends' places: said as places, questions and bare requests."""
    place = _pick(
        rng,
        [
            "home",
            "my house",
            "my place",
            "my home",
            "my friend's house",
            "my friend's place",
            "my friends house",
            "my apartment",
            "my parents' house",
            "my sister's place",
            "my buddy's house",
        ],
    )
    where = place.replace("my ", "", 1) if place != "home" else "home"
    forms = [
        f"take me {place}" if place == "home" else f"take me to {place}",
        f"directions to {place}",
        f"navigate to {place}",
        f"how do i get to {place}",
        f"get me {place}" if place == "home" else f"get me to {place}",
        f"i need to get to {place}",
        f"what's the address of {place}",
        f"where is {place}",
        "what is my address",
        "where do i live",
        "where does my friend live",
        f"give me the address of {place}",
        f"route to {place}",
        f"let's go to {place}",
        f"head to {place}",
        f"i want to go to {place}",
        f"show me {place} on the map",
        f"how far is {place}",
        f"find {place}",
        f"the way to {place}",
        f"drive {place}" if place == "home" else f"drive to {place}",
        f"back to {place}",
        f"{place} please",
        f"go to {where}",
    ]
    return _pick(rng, POLITE) + _pick(rng, forms) + _pick(rng, ROUTE_PREF) + _pick(rng, TAIL)


def _find_nearby(rng: random.Random) -> str:
    thing = _category(rng)
    if rng.random() < 0.3:
        cuisine = _pick(rng, CUISINE_WORDS)
        thing = _pick(
            rng,
            [
                f"{cuisine} restaurant",
                f"{cuisine} food",
                f"{cuisine} place",
                cuisine,
                f"some {cuisine}",
                f"good {cuisine}",
            ],
        )
    many = _plural(thing)
    art = "an" if thing[0] in "aeiou" else "a"
    forms = [
        f"find {art} {thing}{{near}}",
        f"find me {art} {thing}",
        f"where's the nearest {thing}",
        f"nearest {thing}",
        f"the closest {thing}",
        f"i need {art} {thing}",
        f"is there {art} {thing}{{near}}",
        f"are there any {many}{{near}}",
        f"what {many} are{{near}}",
        f"show me {many}{{near}}",
        f"take me to the nearest {thing}",
        f"directions to the closest {thing}",
        f"navigate to {art} {thing}",
        f"where can i find {art} {thing}",
        f"i'm looking for {art} {thing}",
        f"look for {art} {thing}{{near}}",
        f"any {many}{{near}}",
        f"get me to {art} {thing}",
        f"locate {art} {thing}",
        f"i want to go to {art} {thing}",
        f"search for {many}{{near}}",
        f"give me the address of the nearest {thing}",
        f"we need {art} {thing}",
        f"{thing}{{near}}",
        f"{many}{{near}}",
        f"list the {many}{{near}}",
        f"how far is the nearest {thing}",
        f"which {thing} is closest",
        f"recommend {art} {thing}{{near}}",
        f"is there {art} {thing} on our way",
        f"route me to {art} {thing}",
        f"can you find {art} {thing}",
        f"find the closest {thing} to me",
        f"where is {art} {thing}{{near}}",
        f"i could use {art} {thing}",
        f"what is the nearby {thing}",
        f"search {many} near me",
        f"what's the nearest {thing}",
        f"address of the nearest {thing}",
        f"give me directions to {art} {thing}",
        f"find {many} in this area",
        f"{thing} around here",
    ]
    need = {
        "gas_station": [
            "i'm running low on gas",
            "we need gas",
            "i need to fill up",
            "the tank is almost empty",
            "where can i get gas",
        ],
        "charger": [
            "the battery is low",
            "i need to charge the car",
            "where can i charge",
            "i need to recharge",
        ],
        "restaurant": [
            "i'm hungry",
            "i'm starving",
            "somewhere to eat",
            "where can i get something to eat",
            "let's grab a bite",
            "i want to eat",
            "where should we eat",
        ],
        "hotel": [
            "somewhere to sleep tonight",
            "i need a place to stay tonight",
            "where can we spend the night",
        ],
        "parking": ["where can i park", "i need to park", "where do i park the car"],
        "rest_stop": ["i need a bathroom", "where's the nearest restroom"],
        "coffee": ["i need coffee", "i could use a coffee", "where can i get coffee"],
        "bank": [
            "i need cash",
            "i need to withdraw money",
            "where can i get cash",
            "i have to get some cash out",
            "we need to stop for cash",
        ],
        "pharmacy": ["i need to pick up a prescription", "i need some medicine"],
        "hospital": ["i need a doctor", "someone is hurt", "i need medical help"],
    }
    cuisine = _pick(rng, CUISINE_WORDS)
    need["cuisine"] = [
        f"find {cuisine}",
        f"{cuisine} please",
        f"get me some {cuisine}",
        f"find me {cuisine} nearby",
        f"any {cuisine} around here",
        f"where's good {cuisine}",
        f"{cuisine} near me",
    ]
    need["restaurant"] += [
        f"i'm desiring to eat {cuisine}",
        f"i feel like {cuisine}",
        f"i'm craving {cuisine}",
        f"where can i get {cuisine}",
        f"i want some {cuisine} food",
        f"let's get {cuisine}",
    ]
    need["home"] = []
    if rng.random() < 0.15:
        form = _pick(rng, need[_pick(rng, sorted(k for k in need if need[k]))])
    else:
        form = _pick(rng, forms)
    return (
        _pick(rng, POLITE)
        + form.replace("{near}", _pick(rng, NEAR))
        + _pick(rng, LIMIT)
        + _pick(rng, ROUTE_PREF)
        + _pick(rng, TAIL)
    )


def _add_stop(rng: random.Random) -> str:
    thing = _pick(rng, [_category(rng), _pick(rng, PLACE_NAMES[:40]), invented_place(rng)])
    art = (
        ""
        if thing[0].isupper() or thing.startswith("the ")
        else ("an " if thing[0] in "aeiou" else "a ")
    )
    forms = [
        f"add a stop at {art}{thing}",
        f"stop at {art}{thing} on the way",
        f"let's stop at {art}{thing} first",
        f"can we stop by {art}{thing}",
        f"swing by {art}{thing} on the way",
        f"add {art}{thing} as a stop",
        f"make a stop at {art}{thing}",
        f"i want to stop at {art}{thing} along the way",
        f"add a detour to {art}{thing}",
        f"find {art}{thing} on the way",
        "we need to stop for gas on the way",
        "let's stop for coffee on the way",
        f"add a waypoint at {art}{thing}",
        f"put {art}{thing} on the route",
        f"stop by {art}{thing} before we get there",
        "pick up coffee on the way",
        f"a quick stop at {art}{thing}",
        f"also stop at {art}{thing}",
        f"on the way stop at {art}{thing}",
        f"add {art}{thing} to the route",
    ]
    return _pick(rng, POLITE) + _pick(rng, forms) + _pick(rng, TAIL)


_FIXED: dict[str, list[str]] = {
    # Asking for directions without saying where: the router hands these to the persona.
    "navigation.start": [
        "navigate",
        "navigation",
        "directions",
        "start navigation",
        "give me directions",
        "i need directions",
        "open navigation",
        "navigate somewhere",
        "route",
        "take me",
    ],
    "navigation.cancel": [
        "cancel the route",
        "stop navigation",
        "end the trip",
        "clear the route",
        "stop the guidance",
        "cancel navigation",
        "forget the directions",
        "end navigation",
        "stop navigating",
        "cancel the trip",
        "clear the destination",
        "we're not going there anymore",
        "stop the route",
        "turn off navigation",
        "exit navigation",
        "never mind the directions",
        "remove the destination",
        "cancel my route",
        "i don't need directions anymore",
        "end route guidance",
        "stop giving me directions",
        "cancel the directions",
        "scrap the route",
        "drop the navigation",
    ],
    "navigation.eta": [
        "how long until we get there",
        "what's our eta",
        "when will we arrive",
        "how much longer",
        "are we there yet",
        "what time will we get there",
        "how long is the drive",
        "when do we get there",
        "how long will it take",
        "what's the arrival time",
        "how many minutes left",
        "how long to go",
        "when will we be there",
        "what time do we arrive",
        "how much time is left",
        "eta",
        "how long till we arrive",
        "how long before we get there",
        "will we make it by six",
        "how long is left on the trip",
        "time remaining",
        "when's our arrival",
        "how soon will we get there",
        "how long until the next stop",
    ],
    "navigation.distance": [
        "how far is it",
        "how many miles left",
        "how far to go",
        "distance remaining",
        "how far away are we",
        "how many kilometers to go",
        "how far is the destination",
        "how much farther",
        "how much further is it",
        "what's the distance left",
        "how far until we arrive",
        "how many miles to go",
        "how far are we from there",
        "how far to the destination",
        "remaining distance",
        "how far is the next stop",
    ],
    "navigation.where_am_i": [
        "where am i",
        "where are we",
        "what street is this",
        "what town are we in",
        "what's our location",
        "where are we right now",
        "what city is this",
        "which road are we on",
        "what's our current location",
        "tell me where we are",
        "what neighborhood is this",
        "where exactly are we",
        "what's the nearest town",
        "what highway is this",
        "whereabouts are we",
        "show my location",
    ],
    "control.stop": [
        "stop",
        "stop talking",
        "be quiet",
        "shut up",
        "enough",
        "silence",
        "quiet please",
        "that's enough",
        "stop it",
        "quiet",
        "pause",
        "hush",
        "stop please",
        "ok stop",
        "stop stop",
        "please be quiet",
        "zip it",
        "stop speaking",
        "no more talking",
        "mute",
        "mute yourself",
        "shh",
        "enough talking",
        "pause that",
        "stop that",
    ],
    "control.repeat": [
        "repeat that",
        "say that again",
        "what did you say",
        "come again",
        "pardon",
        "repeat please",
        "can you repeat that",
        "sorry what",
        "say again",
        "one more time",
        "i didn't hear you",
        "could you say that again",
        "what was that",
        "repeat the last thing",
        "huh what did you say",
        "repeat it",
        "again please",
        "i missed that",
    ],
    "control.louder": [
        "louder",
        "turn it up",
        "volume up",
        "speak up",
        "i can't hear you",
        "louder please",
        "turn the volume up",
        "increase the volume",
        "raise the volume",
        "a bit louder",
        "make it louder",
        "crank it up",
        "more volume",
        "turn up the volume",
        "talk louder",
        "pump up the volume",
        "volume higher",
        "can you be louder",
    ],
    "control.quieter": [
        "quieter",
        "turn it down",
        "volume down",
        "softer",
        "too loud",
        "quieter please",
        "turn the volume down",
        "lower the volume",
        "decrease the volume",
        "a bit quieter",
        "make it quieter",
        "less volume",
        "turn down the volume",
        "talk more quietly",
        "you're too loud",
        "reduce the volume",
        "volume lower",
        "not so loud",
    ],
    "control.cancel": [
        "never mind",
        "cancel",
        "forget it",
        "cancel that",
        "nevermind",
        "forget that",
        "scratch that",
        "ignore that",
        "don't worry about it",
        "no forget it",
        "never mind that",
        "cancel it",
        "oops never mind",
        "disregard that",
        "that's all",
    ],
}


def _switch(rng: random.Random) -> str:
    name = _pick(rng, PERSONA_NAMES)
    forms = [
        f"switch to {name}",
        f"let me talk to {name}",
        f"put {name} on",
        f"can i talk to {name}",
        f"change to {name}",
        f"i want to talk to {name}",
        f"switch persona to {name}",
        f"change persona to {name}",
        f"bring back {name}",
        f"be {name}",
        f"{name} mode please",
        f"talk like {name}",
        f"become {name}",
        f"give me {name}",
        f"can i speak to {name}",
        f"swap to {name}",
        f"i'd like to speak with {name}",
        f"switch over to {name}",
        f"go to {name} mode",
        f"turn on {name} mode",
        f"activate {name}",
        f"use the {name} persona",
        f"switch the persona to {name}",
        f"change your personality to {name}",
        f"put {name} back on",
        f"let {name} take over",
        f"i want {name} back",
        f"change the voice to {name}",
        f"pretend to be {name}",
        f"you are now {name}",
        f"let me speak with {name}",
        f"switch characters to {name}",
        f"{name} please",
        f"can we have {name}",
        f"time for {name}",
        f"i'd rather talk to {name}",
        f"hand me over to {name}",
    ]
    return _pick(rng, POLITE[:6]) + _pick(rng, forms)


def _weather(rng: random.Random) -> str:
    city, when = _pick(rng, CITIES), _pick(rng, WHEN)
    forms = [
        f"what's the weather in {city} {when}",
        f"will it {_pick(rng, WEATHER_WORDS)} {when}",
        f"weather forecast for {city}",
        f"what's the temperature {when}",
        f"is it going to {_pick(rng, WEATHER_WORDS)} in {city} {when}",
        f"do i need an umbrella {when}",
        f"how hot will it be {when}",
        f"what's the forecast {when}",
        f"how cold is it in {city}",
        f"check the weather {when}",
        f"is there snow on the pass {when}",
        f"what will the weather be like {when}",
        f"should i bring a jacket {when}",
        f"how's the weather looking in {city}",
        f"any storms coming {when}",
    ]
    return _pick(rng, POLITE) + _pick(rng, forms)


def _lookup(rng: random.Random) -> str:
    thing = _pick(rng, LOOKUPS)
    forms = [
        f"look up {thing}",
        f"search for {thing}",
        f"google {thing}",
        f"find out {thing}",
        f"tell me {thing}",
        f"can you look up {thing}",
        f"search the web for {thing}",
        f"i want to know {thing}",
        "what does the turtle light mean",
        "how do i open the frunk",
        "what is the capital of australia",
        "who wrote hamlet",
        "when was the eiffel tower built",
        "how many ounces in a pound",
        "what's the tire pressure supposed to be",
        "how does regenerative braking work",
        "what is a kilowatt hour",
        "who is the president of france",
        "how long does a supercharge take",
        "what time does the museum close",
        "when does the pharmacy open on sunday",
        "what's the speed limit on highway 101",
        "what does this warning light mean",
        "how do i turn on the fog lights",
        "what's the population of canada",
    ]
    if rng.random() < 0.35:
        dish = _pick(rng, DISHES)
        forms = [
            f"how do i make {dish}",
            f"what do i need to cook {dish}",
            f"ingredients for {dish}",
            f"give me a recipe for {dish}",
            "what can i cook for dinner tonight",
            "ideas for a healthy lunch",
            f"how long do i bake {dish}",
            f"what goes well with {dish}",
            "what movies are playing this weekend",
            "when is the next concert in town",
            "what's happening in town tonight",
            "any events this weekend",
            f"where was {_pick(rng, FAMOUS)} born",
            f"where does {_pick(rng, FAMOUS)} live",
            "how far is the moon from the earth",
            f"how far is {_pick(rng, CITIES[:12])} from {_pick(rng, CITIES[:12])}",
            "what's the distance between the sun and mars",
            f"where is {_pick(rng, LANDMARKS)}",
            f"what is the best {_pick(rng, DISHES)} in the world",
        ]
    return _pick(rng, POLITE) + _pick(rng, forms) + _pick(rng, TAIL[:4])


def _conversation(rng: random.Random) -> str:
    topic = _pick(rng, TOPICS)
    forms = [
        f"tell me a story about {topic}",
        "tell me a joke",
        "how are you",
        f"what do you think about {topic}",
        "i'm bored",
        "let's play a game",
        "i had a rough day",
        "good morning",
        "thank you",
        "thanks",
        "that's funny",
        f"tell me something about {topic}",
        "what's your favorite color",
        "i'm feeling stressed",
        "can you cheer me up",
        "sing me a song",
        "who are you",
        "what can you do",
        "i love you",
        "you're great",
        f"write a poem about {topic}",
        "give me a fun fact",
        "let's chat",
        "i'm tired",
        "do you like music",
        "what should we talk about",
        "hello",
        f"make up a story about {topic}",
        "i need some motivation",
        "tell me a riddle",
        "what's the meaning of life",
        "i'm nervous about my interview",
        "yes",
        "no",
        "okay",
        "sure",
        "maybe later",
        "that's interesting",
        "go on",
        "tell me more",
        "why",
        "really",
        "i don't know",
        "my kids are fighting in the back",
        f"tell me about {_pick(rng, MEDIA)}",
        f"what do you think of {_pick(rng, MEDIA)}",
        f"what's a good {_pick(rng, ['song', 'album', 'band', 'podcast'])} for "
        f"{_pick(rng, ['a road trip', 'the rain', 'a long drive', 'kids'])}",
        f"who sang {_pick(rng, ['yesterday', 'hey jude', 'thriller', 'that song'])}",
        f"tell me a fun fact about {_pick(rng, ['the beatles', 'jazz', 'mozart', 'rock'])}",
        f"what's your favorite {_pick(rng, ['song', 'band', 'movie', 'book'])}",
        f"where is {_pick(rng, PEOPLE)} right now",
        f"i miss {_pick(rng, PEOPLE)}",
        f"my {_pick(rng, ['car', 'phone', 'dog', 'cat'])} is acting weird",
        "cars",
        f"do you like {_pick(rng, ['cars', 'dogs', 'pizza', 'road trips', 'rain'])}",
        "let's talk about something else",
        "what did you mean by that",
        f"explain {topic} to a five year old",
        "give me a compliment",
        "i feel lonely",
        "help me think",
        "ask me a question",
        "quiz me on geography",
        "hi there",
        "bye",
        "goodnight",
        "what a beautiful day",
        "traffic is terrible",
        f"{_pick(rng, ['hello', 'hi', 'thanks', 'good to hear you', 'nice to talk'])} again",
        "here we go again",
        "it's raining again",
        "i forgot my wallet again",
        "this driver cut me off",
        "i'm so happy today",
        "guess what happened",
        f"be more {_pick(rng, ADJECTIVES)}",
        f"be {_pick(rng, ADJECTIVES)} for once",
        f"can you be {_pick(rng, ADJECTIVES)}",
        f"you are so {_pick(rng, ADJECTIVES)}",
        "where are you from",
        "where do you live",
        "how old are you",
        f"how many days until {_pick(rng, EVENTS)}",
        f"how long until {_pick(rng, EVENTS)}",
        f"i want to go to {_pick(rng, EVENTS)} someday",
        "i wish i could go to the moon",
        f"i'm going to {_pick(rng, EVENTS)} next month",
        f"we went to the {_pick(rng, ['beach', 'mall', 'zoo'])} yesterday",
        f"my {_pick(rng, PEOPLE)} loves the {_pick(rng, ['beach', 'mall', 'zoo'])}",
        "what's the date today",
        "what time is it",
        "what day is it",
        f"what time is it in {_pick(rng, CITIES[:11])}",
        "switch to the metric system",
        f"switch to {_pick(rng, SETTINGS_WORDS)}",
        f"can i have {_pick(rng, ['a minute', 'some advice', 'a hint', 'your opinion'])}",
        f"give me {_pick(rng, ['a hint', 'some advice', 'a break', 'ideas for dinner'])}",
        f"i need {_pick(rng, ['a hug', 'a vacation', 'advice', 'a new job', 'a minute'])}",
        f"how many {_pick(rng, ['miles', 'feet', 'meters'])} in a "
        f"{_pick(rng, ['kilometer', 'mile', 'marathon'])}",
        "i have to drive slowly in this rain",
        "the roads are wet so i'll drive carefully",
    ]
    return _pick(rng, POLITE[:5]) + _pick(rng, forms)


def _media(rng: random.Random) -> str:
    thing = _pick(rng, MEDIA)
    forms = [
        f"play {thing}",
        f"i want to listen to {thing}",
        f"put on {thing}",
        f"can you play {thing}",
        f"turn on {thing}",
        f"start {thing}",
        f"i'd like to hear {thing}",
        f"play me {thing}",
        f"shuffle {thing}",
        "skip this song",
        "next track",
        "pause the music",
        "resume the podcast",
        "skip to the next episode",
        "what song is this",
        "turn on the radio",
        f"put {thing} on",
        f"let's listen to {thing}",
        "change the station",
        "play something else",
        f"switch to {thing}",
        "like this song",
        "go back to the previous song",
        "play it again from the start",
        f"queue up {thing}",
        f"stream {thing}",
    ]
    return _pick(rng, POLITE[:6]) + _pick(rng, forms)


def _alarm(rng: random.Random) -> str:
    t = _pick(rng, TIMES)
    forms = [
        f"set an alarm for {t}",
        f"wake me up at {t}",
        f"set a timer for {t}",
        f"cancel my alarm for {t}",
        "what alarms do i have",
        f"is my alarm set for {t}",
        f"remind me to call {_pick(rng, PEOPLE)} at {t}",
        f"snooze for {t}",
        f"remove the alarm at {t}",
        f"do i have an alarm at {t}",
        f"change my alarm to {t}",
        f"set a reminder for {t}",
    ]
    return _pick(rng, POLITE[:6]) + _pick(rng, forms)


def _smart_home(rng: random.Random) -> str:
    forms = [
        "turn on the lights",
        "dim the living room lights",
        "dust the shelves",
        "start the vacuum",
        "turn off the kitchen lights",
        "lock the front door",
        "set the thermostat to 70",
        "open the garage door at home",
        "make me a coffee",
        "brew some coffee",
        "turn on the sprinklers",
        "set the lights to blue",
        "turn off the tv",
        "is the oven on",
        "vacuum the bedroom",
        "close the blinds",
        "turn the heating on at home",
        "switch off the lamp",
        "change the lights to night mode",
        "switch the lights to warm white",
        "turn on the smart plug",
        "start the robot vacuum in my house",
        "mop the kitchen floor",
        "activate the vacuum",
        "start the dishwasher",
        "turn on the coffee machine",
        "can i have a latte from the machine",
        "put the kettle on",
        "set the oven to 400",
        "activate night mode on the lights",
        "switch on the porch light",
    ]
    return _pick(rng, POLITE[:6]) + _pick(rng, forms)


def _messages(rng: random.Random) -> str:
    who = _pick(rng, PEOPLE)
    forms = [
        f"send a text to {who}",
        f"email {who}",
        "read my emails",
        f"call {who}",
        f"reply to {who}",
        f"send a message to {who} saying i'm late",
        "do i have any new messages",
        "check my inbox",
        "post on facebook",
        "tweet that i'm on my way",
        f"text {who} that i'll be there soon",
        f"did {who} email me",
        "read my last text",
        f"send {who} my location",
        "send an email to my friend",
        "call my friend",
    ]
    return _pick(rng, POLITE[:6]) + _pick(rng, forms)


def _calendar(rng: random.Random) -> str:
    who, t = _pick(rng, PEOPLE), _pick(rng, TIMES)
    forms = [
        f"what's on my calendar {_pick(rng, WHEN)}",
        f"schedule a meeting with {who}",
        "when is my next appointment",
        f"add a meeting at {t}",
        "what time is my dentist appointment",
        f"cancel my meeting with {who}",
        "am i free tomorrow",
        f"remind me about the party {_pick(rng, WHEN)}",
        "what's my schedule",
        f"move my {t} meeting",
        "when is my yoga class",
        "do i have anything today",
        f"book a lunch with {who}",
        f"when is {who}'s birthday",
        f"add {_pick(rng, ['the game', 'dinner', 'practice', 'a call', 'the party'])} to my "
        f"calendar",
        f"add a note to {_pick(rng, ['call mom', 'buy milk', 'pay rent'])}",
        f"put {_pick(rng, ['lunch', 'the meeting', 'a reminder'])} on my calendar for "
        f"{_pick(rng, WHEN)}",
        f"add an event at {_pick(rng, PLACE_NAMES[:30])} on friday",
        f"add {_pick(rng, PEOPLE)}'s party at {_pick(rng, PLACE_NAMES[:30])} to my calendar",
    ]
    return _pick(rng, POLITE[:6]) + _pick(rng, forms)


def _lists(rng: random.Random) -> str:
    item = _pick(rng, ["milk", "eggs", "bread", "coffee", "batteries", "dog food", "gas"])
    forms = [
        f"add {item} to my shopping list",
        "what's on my to do list",
        f"remove {item} from the list",
        "read my shopping list",
        "create a new list",
        f"put {item} on the grocery list",
        "clear my to-do list",
    ]
    return _pick(rng, POLITE[:6]) + _pick(rng, forms)


def _orders(rng: random.Random) -> str:
    food = _pick(
        rng,
        [
            "pizza",
            "chinese food",
            "sushi",
            "a burger",
            "thai food",
            "takeout",
            "coffee",
            "groceries",
        ],
    )
    forms = [
        f"order {food}",
        f"order me {food}",
        f"get {food} delivered",
        f"can you order {food} for pickup",
        "where's my food order",
        f"buy {food} online",
        f"i want to order {food}",
        "track my package",
        "reorder my last purchase",
        f"does the restaurant deliver {food}",
        f"where is my {food} order",
        f"track my {food} delivery",
        f"how long until my {food} arrives",
        f"is my {food} order on the way",
        f"order {food} from the closest place",
        f"i need {food} delivered asap",
        f"find my {food} order",
        f"did the {food} place get my order",
    ]
    return _pick(rng, POLITE[:6]) + _pick(rng, forms)


def _transport(rng: random.Random) -> str:
    city = _pick(rng, CITIES[:12])
    forms = [
        f"book a train ticket to {city}",
        f"when is the next train to {city}",
        "call me an uber",
        f"get me a taxi to {city}",
        f"book a flight to {city}",
        f"what time does the bus leave for {city}",
        "how much is a ticket",
        f"order a lyft to {city}",
        "is my flight on time",
        "how is the traffic to work",
        "how's traffic on the way home",
        f"go to {_pick(rng, WEBSITES)}",
        f"open {_pick(rng, ['the uber app', 'google maps', 'the website', 'netflix'])}",
    ]
    return _pick(rng, POLITE[:6]) + _pick(rng, forms)


# Ordinary words that are also persona names ("coach", "quiz", "assistant", "romantic"),
# used in requests that are not switches, so a name alone never makes one.
NAME_WORDS = [
    "coach",
    "quiz",
    "assistant",
    "therapist",
    "romantic",
    "storyteller",
    "narrator",
    "debate",
    "therapy",
    "romance",
    "meditation",
    "motivation",
    "trivia",
    "stories",
    "counselor",
    "listener",
    "default",
    "comedian",
    "poet",
    "pirate",
    "wizard",
    "detective",
    "captain",
    "chef",
    "butler",
    "robot",
    "sunny",
    "echo",
    "nova",
]


def _name_word_elsewhere(rng: random.Random) -> tuple[str, str]:
    w = _pick(rng, NAME_WORDS)
    forms = [
        ("search.lookup", f"what does {w} mean"),
        ("search.lookup", f"what is a good {w}"),
        ("search.lookup", f"how do i become a {w}"),
        ("search.lookup", f"best {w} books"),
        ("search.lookup", f"who is the most famous {w}"),
        ("search.lookup", f"good {w}s"),
        ("search.lookup", f"define {w}"),
        ("search.lookup", f"{w} definition"),
        ("out_of_scope.media", f"play {w} music"),
        ("out_of_scope.media", f"play the {w} playlist"),
        ("out_of_scope.media", f"i want to listen to {w} stories"),
        ("out_of_scope.media", f"play the {w} podcast"),
        ("out_of_scope.media", f"put on some {w} songs"),
        ("conversation", f"my {w} said hi"),
        ("conversation", f"i talked to my {w} today"),
        ("conversation", f"the {w} was great"),
        ("conversation", f"i love {w}"),
        ("conversation", f"{w} and {_pick(rng, ['fare', 'tea', 'friends', 'family'])}"),
        ("out_of_scope.calendar", f"when is my {w} appointment"),
        ("out_of_scope.calendar", f"add a {w} session to my calendar"),
        ("out_of_scope.transport", f"book a {w} ticket"),
    ]
    return _pick(rng, forms)


GENERATORS = {
    "navigation.start": (_start, 900),
    "navigation.start ": (_home, 300),
    "navigation.find_nearby": (_find_nearby, 1400),
    "navigation.add_stop": (_add_stop, 500),
    "persona.switch": (_switch, 900),
    "search.weather": (_weather, 400),
    "search.lookup": (_lookup, 400),
    "conversation": (_conversation, 500),
    "out_of_scope.media": (_media, 500),
    "out_of_scope.alarm": (_alarm, 250),
    "out_of_scope.smart_home": (_smart_home, 200),
    "out_of_scope.messages": (_messages, 200),
    "out_of_scope.calendar": (_calendar, 250),
    "out_of_scope.lists": (_lists, 100),
    "out_of_scope.orders": (_orders, 150),
    "out_of_scope.transport": (_transport, 150),
}


def generate(rng: random.Random) -> Iterator[tuple[str, str]]:
    """Our templated requests, deduplicated, in a reproducible order for a seeded `rng`."""
    for key, (make, count) in GENERATORS.items():
        label = key.strip()  # two generators may make one label ("navigation.start ")
        seen: set[str] = set()
        for _ in range(count * 3):
            if len(seen) >= count:
                break
            text = " ".join(make(rng).split())
            if text not in seen:
                seen.add(text)
                yield text, label
    seen_pairs: set[tuple[str, str]] = set()
    for _ in range(900):
        pair = _name_word_elsewhere(rng)
        if pair not in seen_pairs:
            seen_pairs.add(pair)
            yield pair[1], pair[0]
    for label, texts in _FIXED.items():
        for text in texts:
            yield text, label
            for prefix in ("please ", "car ", "hey "):
                yield prefix + text, label
    # Category names alone are requests too ("Gas station."), except home and friend.
    for category, words in CATEGORIES.items():
        if category not in ("home", "friend"):
            for word in words[:3]:
                yield word, "navigation.find_nearby"
