"""A probabilistic grammar of short English stories: the project's embedded default corpus.

Each story has a main character (a child, an animal or a pair, so he / she / they and verb agreement vary), a
tense (past or present, kept for the whole story), a setting, and a plot of several stages drawn from one of
`TOPICS` — the story's class label. Names, objects and places chosen early come back later (a lost kite is found,
the friend met in the park is the one who helps), so a language model has long-range structure to learn and
keeps improving over a few million tokens. Story i is a pure function of (seed, i): any slice of the corpus can
be generated on its own.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

GRAMMAR_VERSION = "2"
"""Bumped whenever the grammar changes what it generates: cached corpora built from older stories are not reused."""

TOPICS = ("lost_item", "new_friend", "journey", "storm", "birthday", "rescue", "contest", "garden")
"""Class labels of the embedded stories (the plot type), in label-id order."""

# fmt: off
GIRLS = (
    "Lily Mia Emma Zoe Anna Rosa Ella Nora Ruby Lucy Sara Maya Ivy Grace Hannah Chloe Alice Clara Daisy "
    "Jenny Amy Julia Kate Molly Olive Sophie Tessa Wendy"
).split()
BOYS = (
    "Tom Ben Leo Sam Max Jack Noah Finn Oscar Hugo Luke Owen Eli Theo Adam Peter Dan Milo Jake Ryan Carl "
    "Felix Henry Ivan Jonah Kevin Liam Victor"
).split()
ANIMALS = (
    "fox rabbit bear mouse owl duck cat dog frog squirrel deer turtle hedgehog pig lamb goat horse bird "
    "kitten puppy wolf badger otter beaver goose hen mole raccoon"
).split()
PLACES = (
    "park forest beach garden farm river lake hill village school library market meadow cave castle "
    "bakery zoo playground pond field mountain island town barn bridge orchard harbor valley"
).split()
OBJECTS = (
    "ball kite hat book doll drum key shell box lantern map bell ring whistle basket umbrella blanket cup "
    "crayon jar boot coin feather stone necklace flute scarf kettle compass"
).split()
COLORS = (
    "red blue green yellow pink purple orange white black brown golden silver"
).split()
LOOKS = (
    "big small tiny shiny soft round heavy pretty funny strange old new"
).split()
TRAITS = (
    "brave kind shy curious happy clever quiet cheerful gentle busy careful friendly"
).split()
FOODS = (
    "apples cake cookies bread soup pie carrots berries honey cheese sandwiches pears muffins nuts corn "
    "pancakes plums"
).split()
KIN = (
    "mom dad grandma grandpa sister brother aunt uncle teacher neighbor"
).split()
SEEDS = (
    "beans carrots peas tomatoes sunflowers pumpkins roses strawberries onions daisies"
).split()
FOOD_ONE = (
    "an apple|a cookie|a slice of bread|a bowl of soup|a piece of pie|a carrot|a pear|a muffin|"
    "some berries|some honey|a sandwich|a plum"
).split("|")
TIMES = (
    "One morning|One evening|One sunny day|One summer day|One winter night|One rainy afternoon|"
    "Last spring|Early one day|On a windy day|One autumn morning|Long ago|One quiet night"
).split("|")
GAMES = (
    "tag|hide and seek|catch|ball|jump rope|chess|leapfrog|marbles"
).split("|")
CONTESTS = (
    "a race|a swimming race|a singing contest|a drawing contest|a spelling game|a jumping contest"
).split("|")

# Verbs: lemma -> (third person singular present, past). Regular forms are derived when missing.
_IRREGULAR = {
    "be": ("is", "was"), "have": ("has", "had"), "do": ("does", "did"), "go": ("goes", "went"),
    "see": ("sees", "saw"), "find": ("finds", "found"), "run": ("runs", "ran"), "come": ("comes", "came"),
    "make": ("makes", "made"), "take": ("takes", "took"), "give": ("gives", "gave"), "say": ("says", "said"),
    "think": ("thinks", "thought"), "feel": ("feels", "felt"), "sit": ("sits", "sat"), "get": ("gets", "got"),
    "know": ("knows", "knew"), "hold": ("holds", "held"), "fly": ("flies", "flew"), "grow": ("grows", "grew"),
    "swim": ("swims", "swam"), "sing": ("sings", "sang"), "build": ("builds", "built"), "leave": ("leaves", "left"),
    "lose": ("loses", "lost"), "bring": ("brings", "brought"), "hear": ("hears", "heard"), "meet": ("meets", "met"),
    "draw": ("draws", "drew"), "eat": ("eats", "ate"), "fall": ("falls", "fell"), "keep": ("keeps", "kept"),
    "sleep": ("sleeps", "slept"), "win": ("wins", "won"), "begin": ("begins", "began"), "tell": ("tells", "told"),
    "try": ("tries", "tried"), "cry": ("cries", "cried"), "hurry": ("hurries", "hurried"), "can": ("can", "could"),
    "wake": ("wakes", "woke"), "shine": ("shines", "shone"), "blow": ("blows", "blew"), "dig": ("digs", "dug"),
    "put": ("puts", "put"), "wear": ("wears", "wore"), "bake": ("bakes", "baked"), "hide": ("hides", "hid"),
    "stand": ("stands", "stood"), "spend": ("spends", "spent"), "climb": ("climbs", "climbed"),
    "carry": ("carries", "carried"), "stop": ("stops", "stopped"), "plan": ("plans", "planned"),
    "yip": ("yips", "yipped"),
    "hug": ("hugs", "hugged"), "clap": ("claps", "clapped"), "drop": ("drops", "dropped"),
    "wrap": ("wraps", "wrapped"), "water": ("waters", "watered"), "teach": ("teaches", "taught"),
    "beat": ("beats", "beat"), "mean": ("means", "meant"), "sweep": ("sweeps", "swept"), "feed": ("feeds", "fed"),
}
# fmt: on


def _verb(lemma: str, plural: bool, tense: str) -> str:
    third, past = _IRREGULAR.get(lemma, (None, None))
    if tense == "past":
        if lemma == "be":
            return "were" if plural else "was"
        if past is None:
            past = lemma + "d" if lemma.endswith("e") else lemma + "ed"
        return past
    if plural or lemma == "can":
        return "are" if lemma == "be" else lemma
    if third is None:
        third = lemma + "es" if lemma.endswith(("s", "sh", "ch", "x", "o")) else lemma + "s"
    return third


@dataclass
class _Char:
    name: str
    kind: str
    gender: str  # "m", "f" or "p" (a pair: they)

    @property
    def plural(self) -> bool:
        return self.gender == "p"

    def form(self, attr: str) -> str:
        table = {
            "subj": ("he", "she", "they"),
            "obj": ("him", "her", "them"),
            "pos": ("his", "her", "their"),
            "refl": ("himself", "herself", "themselves"),
            "i": ("I", "I", "we"),
            "my": ("my", "my", "our"),
            "me": ("me", "me", "us"),
            "am": ("am", "am", "are"),
        }
        return table[attr]["mfp".index(self.gender)]


def _character(rng: random.Random, avoid: str = "") -> _Char:
    roll = rng.random()
    if roll < 0.5:
        gender = rng.choice("mf")
        name = rng.choice([n for n in (BOYS if gender == "m" else GIRLS) if n != avoid])
        return _Char(name, "boy" if gender == "m" else "girl", gender)
    if roll < 0.85:
        animal = rng.choice(ANIMALS)
        gender = rng.choice("mf")
        name = rng.choice([n for n in (BOYS if gender == "m" else GIRLS) if n != avoid])
        return _Char(name, animal, gender)
    a, b = rng.sample([n for n in GIRLS + BOYS if n != avoid], 2)
    return _Char(f"{a} and {b}", "friends", "p")


# Template language: {C.attr} / {F.attr} character forms (name, kind, subj, obj, pos, refl, i, my, me, am;
# a capital first letter capitalises the form), {C:verb} / {F:verb} a verb agreeing with C or F in the story's
# tense, {Pl:verb} the same for a plural subject (they),
# {slot} a value chosen for the whole story, [a|b|c] a uniform choice. Sentences are capitalised automatically.
_TOKEN = re.compile(r"\{([CF])\.(\w+)\}|\{(C|F|Pl):(\w+)\}|\{(\w+)\}|\[([^\]]*)\]")

_OPENINGS = {
    "past": [
        "{time}, there {C:be} {intro}.",
        "{time}, {intro} {C:live} near the {place}.",
        "Once upon a time, there {C:be} {intro}.",
        "This is a story about {intro}.",
    ],
    "present": [
        "This is a story about {intro}.",
        "Meet {intro}.",
        "Today is a {weather} day, and {intro} {C:be} at the {place}.",
        "Here {C:live} {intro}, near the {place}.",
    ],
}
_DESCRIBE = [
    "{C.Subj} {C:be} very {trait} and {C:like} to play near the {place}.",
    "{C.Pos} favorite thing {it_is} a {look} {color} {obj}.",
    "Every day {C.subj} {C:play} with {C.pos} {kin}.",
    "{C.Name} {C:love} {foods} more than anything.",
    "The {place} {it_is} {weather} and the sky {it_is} [blue|gray|clear|bright].",
    "{C.Subj} {C:live} in a {C_home} near the {place} and {C:like} to eat {C_food}.",
    "Every morning {C.subj} {C:sound} {adv} outside {C.pos} {C_home}.",
]
_ENDINGS = [
    "From that day on, {C.name} {C:be} never {feeling_neg} again.",
    "That night, {C.subj} {C:sleep} with a big smile.",
    "{C.Subj} {C:feel} {feeling_pos} and {C:go} home to tell {C.pos} {kin}.",
    "It {it_was} the best day ever.",
    "And {C.subj} {C:remember} that day for a long time.",
]
_PLOTS = {
    "lost_item": [
        [
            "{C.Name} {C:have} a {look} {color} {obj} that {C.subj} {C:take} everywhere.",
            "{C.Name} {C:get} a {color} {obj} from {C.pos} {kin}, and {C.subj} {C:love} it.",
        ],
        [
            "One day {C.subj} {C:go} to the {place} and {C:play} for a long time.",
            "{C.Subj} {C:take} the {obj} to the {place} to show {C.pos} friends.",
        ],
        [
            "When {C.subj} {C:look} for the {obj}, it {it_was} gone!",
            "Then {C.subj} {C:see} that the {obj} {it_was} not there anymore.",
        ],
        [
            '"Oh no! Where is {C.my} {obj}?" {C:cry} {C.name}.',
            '"{C.I} lost {C.my} {obj}!" {C:say} {C.name}. "{C.I} {C.am} so {feeling_neg}."',
        ],
        [
            "{C.Subj} {C:look} under the [trees|benches|rocks|bushes] and behind the [fence|wall|gate|old barn].",
            "{C.Subj} {C:search} by the {place2} and near the {place3}, but the {obj} {it_was} not there.",
        ],
        [
            '{F.Name} the {F.kind} {F:come} by and {F:ask}, "Why are you {feeling_neg}?"',
            "Then {F.name}, a {trait} {F.kind}, {F:walk} over to help.",
        ],
        [
            "Together they {Pl:look} [everywhere|all around|for a long time].",
            "They {Pl:ask} everyone they {Pl:meet}, and they {Pl:check} every corner.",
        ],
        [
            (
                "At last {F.name} {F:find} the {obj} [under a leaf|in the tall grass|next to a stone|in a little hole|"
                "behind a tree]."
            ),
            (
                "Suddenly {C.name} {C:see} something {color} [under a bush|near the water|on a branch|in the "
                "sand]. It {it_was} the {obj}!"
            ),
        ],
        [
            '"Thank you, {F.name}!" {C:say} {C.name}. "You are a good friend."',
            "{C.Name} {C:hug} the {obj} and {C:thank} {F.name} again and again.",
        ],
    ],
    "new_friend": [
        [
            "{C.Name} {C:be} new in the {place} and {C:have} no friends.",
            "{C.Name} {C:feel} {feeling_neg} because nobody {it_wants} to play with {C.obj}.",
        ],
        [
            "{C.Subj} {C:sit} alone by the {place2} and {C:watch} the other children.",
            "Every day {C.subj} {C:walk} to the {place2} alone.",
        ],
        [
            "Then {C.subj} {C:see} {F.name}, a {trait} {F.kind} with a {color} {obj}.",
            "One day a {F.kind} named {F.name} {F:come} to the {place2} too.",
        ],
        [
            '"Hello," {F:say} {F.name}. "Do you want to play {game} with {F.me}?"',
            '"Hi! {F.My} name is {F.name}," {F:say} the {F.kind}. "Can {F.i} sit here?"',
        ],
        ["{C.Name} {C:be} {feeling_shy} at first, but {C.subj} {C:say} yes.", "{C.Name} {C:smile} and {C:nod}."],
        [
            "They {Pl:play} {game} until the sun {it_goes} down.",
            "They {Pl:share} {food_one} and {Pl:talk} about {foods} and {objs}.",
        ],
        [
            (
                "{F.Name} {F:show} {C.name} how to [draw a {animal}|build a {look} tower|sing a funny song|"
                "make a paper boat]."
            ),
            "{C.Name} {C:teach} {F.name} a new game with a {color} ball.",
        ],
        [
            '"Will you come back tomorrow?" {C:ask} {C.name}. "Yes!" {F:say} {F.name}.',
            "The next day {F.name} {F:come} back, and the day after that too.",
        ],
    ],
    "journey": [
        [
            "{C.Name} {C:want} to see the {dest} far away.",
            "{C.Pos} {kin} {it_tells} {C.obj} about a {look2} {dest} beyond the {place}.",
        ],
        [
            "{C.Subj} {C:pack} {food_one}, a {obj} and a warm {color} scarf.",
            "Early in the morning {C.subj} {C:put} {food_one} and a map in a bag.",
        ],
        [
            "{C.Name} {C:walk} past the {place} and over the {place2}.",
            "{C.Subj} {C:follow} a long path through the {place2}.",
        ],
        [
            "On the way {C.subj} {C:meet} {F.name} the {F.kind}, who {F:want} to come too.",
            "By the road {C.subj} {C:see} {F.name}, a {trait} {F.kind}, and they {Pl:walk} together.",
        ],
        [
            "Soon they {Pl:come} to a wide river with no bridge.",
            "Then the path {it_goes} up a steep hill, and they {Pl:be} very tired.",
        ],
        [
            "{F.Name} {F:find} a [log|boat|rope|row of stones] and they {Pl:cross} carefully.",
            "They {Pl:rest} under a tree, {Pl:eat} {foods}, and {Pl:go} on.",
        ],
        [
            "At last they {Pl:reach} the {dest}. It {it_was} even more {look2} than {C.name} {C:think}.",
            "When they {Pl:arrive} at the {dest}, {C.name} {C:clap} with joy.",
        ],
        [
            "They {Pl:watch} the [sun set|birds fly|boats sail|stars come out] and then {Pl:walk} home.",
            "After a while they {Pl:turn} back, tired and {feeling_pos}.",
        ],
    ],
    "storm": [
        [
            "{C.Name} {C:be} at the {place} with {C.pos} {kin} when the sky {it_turns} dark.",
            "It {it_was} a {weather} day, and {C.name} {C:play} in the {place}.",
        ],
        [
            "The wind {it_blows} hard and big drops of rain {rain_fall}.",
            "Suddenly there {it_was} thunder, and the rain {it_begins} to pour.",
        ],
        [
            '"Quick! {C.I} must find a dry place," {C:say} {C.name}.',
            "{C.Name} {C:run} to the {place2} to hide from the storm.",
        ],
        [
            "On the way {C.subj} {C:hear} a small voice. It {it_was} {F.name} the {F.kind}, wet and {feeling_neg}.",
            "Under a tree {C.subj} {C:find} {F.name}, a little {F.kind} who {F:be} cold and scared.",
        ],
        [
            "{C.Name} {C:share} {C.pos} {color} umbrella with {F.name}.",
            "{C.Name} {C:wrap} {F.name} in a warm blanket.",
        ],
        [
            "They {Pl:wait} together and {Pl:listen} to the rain on the roof.",
            "They {Pl:sing} songs so they {Pl:be} not afraid of the thunder.",
        ],
        [
            "After a long time the storm {it_stops} and the sun {it_shines} again.",
            "Soon the rain {it_stops}, and a big rainbow {it_appears} over the {place}.",
        ],
    ],
    "birthday": [
        [
            "Tomorrow {it_is} the birthday of {F.name} the {F.kind}.",
            "{C.Name} {C:know} that {F.name} {F:have} a birthday soon.",
        ],
        [
            "{C.Name} {C:want} to make a special gift for {F.obj}.",
            "{C.Subj} {C:plan} a surprise party in the {place}.",
        ],
        [
            "{C.Subj} {C:make} a {look} {gift} with {foods} and a {color} ribbon.",
            "{C.Subj} {C:work} all day on a {color} {gift} and {C:draw} a {animal} on it.",
        ],
        ["But then the {gift} {it_falls} into the mud!", "But the wind {it_blows} the {gift} into the {place2}."],
        [
            '"Oh no, what can {C.i} do now?" {C:say} {C.name}, and {C.subj} {C:feel} {feeling_neg}.',
            '{C.Name} {C:be} {feeling_neg}, but {C.pos} {kin} {it_says}, "Let us try again."',
        ],
        [
            "So {C.subj} {C:try} again, and this time it {it_was} even better.",
            "{C.Subj} {C:make} a new {gift}, even nicer than the first one.",
        ],
        [
            "At the party everyone {it_sings} and {F.name} {F:open} the gift.",
            "All the friends {Pl:come} to the {place}, and they {Pl:eat} cake and {Pl:play} {game}.",
        ],
        ['"This is the best birthday ever!" {F:say} {F.name}.', "{F.Name} {F:hug} {C.name} and {F:say} thank you."],
    ],
    "rescue": [
        [
            "{C.Name} {C:walk} by the {place} when {C.subj} {C:hear} a sad little cry.",
            "While {C.name} {C:play} near the {place}, something {it_moves} in the grass.",
        ],
        [
            "It {it_was} a baby {animal} stuck [in a tree|in the mud|under a branch|in a hole|on a rock in a river].",
            "A little {animal} {it_was} trapped [behind a fence|in a net|in a deep ditch|on a high wall].",
        ],
        [
            "{C.Name} {C:want} to help, but {C.subj} {C:be} too small to reach it.",
            "{C.Subj} {C:try} to help, but it {it_was} too hard alone.",
        ],
        [
            "{C.Subj} {C:run} to get {F.name} the {F.kind}, who {F:be} big and strong.",
            "{C.Subj} {C:call} {F.name}, and {F.name} {F:come} quickly with a [ladder|rope|long stick|basket].",
        ],
        [
            "Together they {Pl:pull} the little {animal} out, very carefully.",
            "{F.Name} {F:hold} the [ladder|rope|stick] and {C.name} {C:lift} the little {animal} out.",
        ],
        [
            "The baby {animal} {it_was} safe. They {Pl:give} it {food_one} and some water.",
            "They {Pl:carry} the {animal} back to its mother at the {place2}.",
        ],
        [
            "The mother {animal} {it_was} so {feeling_pos}, and she {it_thanks} them.",
            "The little {animal} {it_licks} {C.pos} hand to say thank you.",
        ],
    ],
    "contest": [
        [
            "There {it_is} {contest} at the {place}, and {C.name} {C:want} to win.",
            "Everyone in the {place} {it_talks} about {contest} on {day}.",
        ],
        [
            "Every day {C.subj} {C:practice} with {C.pos} {kin}.",
            "{C.Subj} {C:practice} in the morning and in the evening, even when {C.subj} {C:be} tired.",
        ],
        [
            "{F.Name} the {F.kind} also {F:want} to win, and {F.subj} {F:be} very good.",
            "{C.Pos} biggest rival {it_was} {F.name}, a fast and clever {F.kind}.",
        ],
        [
            "On the day of the contest {C.name} {C:feel} {feeling_shy}.",
            "When the contest {it_begins}, {C.pos} heart {it_beats} fast.",
        ],
        [
            "{C.Name} {C:do} {C.pos} best, but {F.name} {F:fall} down.",
            "In the middle, {F.name} {F:drop} {F.pos} {obj} and {F:stop}.",
        ],
        [
            "{C.Name} {C:stop} to help {F.name} up, and they {Pl:finish} together.",
            "{C.Name} {C:help} {F.name}, even if it {it_means} {C.subj} might lose.",
        ],
        [
            "Everyone {it_claps} for them, and the judge {it_gives} them both a {color} ribbon.",
            "{C.Name} {C:do} not win, but {C.subj} {C:feel} proud, and {F.name} {F:be} {C.pos} friend now.",
        ],
    ],
    "garden": [
        [
            "{C.Name} {C:want} to grow {seeds} in the {place}.",
            "In spring, {C.pos} {kin} {it_gives} {C.obj} a bag of seeds for {seeds}.",
        ],
        [
            "{C.Subj} {C:dig} small holes and {C:plant} the seeds in a long row.",
            "{C.Subj} {C:put} the seeds in the soil and {C:water} them every morning.",
        ],
        [
            "For many days nothing {it_grows}, and {C.name} {C:feel} {feeling_neg}.",
            "{C.Name} {C:wait} and {C:wait}, but {C.subj} {C:see} only brown soil.",
        ],
        [
            '{F.Name} the {F.kind} {F:say}, "Be patient. Plants need sun and time."',
            "{F.Name}, a {trait} {F.kind}, {F:tell} {C.obj} to keep going.",
        ],
        [
            "One morning {C.subj} {C:see} tiny green leaves in the soil!",
            "Then, after a warm rain, little green shoots {Pl:come} up.",
        ],
        ["By summer the {seeds} {it_were} big and {color}.", "Soon the {place} {it_was} full of {seeds}."],
        [
            "{C.Name} {C:share} the {seeds} with {F.name} and all the neighbors.",
            "{C.Name} and {F.name} {Pl:pick} the {seeds} and {Pl:make} a basket for every friend.",
        ],
    ],
}
# Stages that a story may leave out (the others carry the plot: what is lost must be found).
_OPTIONAL_STAGES = {
    "lost_item": {3, 4, 6},
    "new_friend": {1, 4, 6},
    "journey": {1, 2, 7},
    "storm": {2, 5},
    "birthday": {4, 7},
    "rescue": {2, 6},
    "contest": {1, 3},
    "garden": {2, 3},
}
_DEST = ["sea", "tall mountain", "old castle", "big city", "waterfall", "lighthouse", "island", "giant forest"]

# What each kind of character says, where it lives and what it likes to eat: a story's later sentences follow
# from the kind chosen in its first line, a long-range association for a model to learn.
# fmt: off
_FACTS = {
    "fox": ("bark", "den", "berries"), "rabbit": ("squeak", "burrow", "carrots"), "bear": ("growl", "cave", "honey"),
    "mouse": ("squeak", "hole", "cheese"), "owl": ("hoot", "tree", "seeds"), "duck": ("quack", "pond", "bread"),
    "cat": ("meow", "basket", "fish"), "dog": ("bark", "kennel", "bones"), "frog": ("croak", "pond", "flies"),
    "squirrel": ("chatter", "tree", "nuts"), "deer": ("bellow", "forest", "leaves"),
    "turtle": ("yawn", "pond", "lettuce"),
    "hedgehog": ("snuffle", "hedge", "worms"), "pig": ("oink", "pen", "apples"), "lamb": ("bleat", "field", "grass"),
    "goat": ("bleat", "barn", "hay"), "horse": ("neigh", "stable", "oats"), "bird": ("chirp", "nest", "seeds"),
    "kitten": ("meow", "basket", "milk"), "puppy": ("yip", "kennel", "bones"), "wolf": ("howl", "den", "stew"),
    "badger": ("grunt", "den", "worms"), "otter": ("squeak", "river", "fish"), "beaver": ("squeak", "lodge", "twigs"),
    "goose": ("honk", "pond", "grass"), "hen": ("cluck", "coop", "corn"), "mole": ("sniff", "tunnel", "worms"),
    "raccoon": ("chatter", "tree", "plums"), "girl": ("laugh", "house", ""), "boy": ("laugh", "house", ""),
    "friends": ("laugh", "house", ""),
}
ADVERBS = (
    "quickly slowly happily quietly carefully softly proudly bravely gently loudly sadly cheerfully"
).split()
NUMBERS = "two three four five six seven eight nine ten eleven twelve".split()
THINGS = (
    "birds flowers boats clouds stones butterflies leaves shells stars apples bees ducks trees houses"
).split()
SPOTS = (
    "in the sky|by the road|on the water|in the field|near the fence|on the hill|under the bridge|in the garden"
).split("|")
EXCLAIM = (
    "Look at that!|How pretty!|What a day!|I can do it!|Wait for me!|This is fun!|Oh my!|Hooray!|Be careful!"
).split("|")
# fmt: on

# Detail sentences, sprinkled between plot stages: compositional and resampled at every use ({any_*}, {adv}).
_DETAILS = [
    (
        "Nearby, a {any_look} {any_animal} {it_was} [sleeping|eating|singing|playing|resting] [under a tree|by "
        "the water|on a rock|in the grass|behind the barn]."
    ),
    "{C.Name} {C:sound} {adv}.",
    "{F.Name} the {F.kind} {F:sound} {adv}.",
    "The sky {it_was} [blue|gray|pink|orange|clear] and the wind {it_was} [soft|cold|warm|strong].",
    "{C.Subj} {C:count} {num} {any_color} {things} {spot}.",
    "{C.Subj} {C:think} about {C.pos} {kin} and {C.pos} {C_home}.",
    '"{exclaim}" {C:say} {C.name} {adv}.',
    "On the way, {C.subj} {C:stop} to eat {any_food_one}.",
    "{C.Subj} {C:walk} {adv} past the {any_place}, where {num} {things} {it_were} {spot}.",
    "{C.Pos} {kin} {it_says} that the {any_place} {it_is} [far away|very old|full of {things}|quiet at night].",
    "{C.Subj} {C:look} at the {any_look} {any_color} {things} and {C:smile}.",
]


def _parse(template: str) -> list:
    parts, pos = [], 0
    for m in _TOKEN.finditer(template):
        if m.start() > pos:
            parts.append(template[pos : m.start()])
        if m.group(1):
            parts.append(("form", m.group(1), m.group(2)))
        elif m.group(3):
            parts.append(("verb", m.group(3), m.group(4)))
        elif m.group(5):
            parts.append(("slot", m.group(5)))
        else:
            parts.append(("choice", [_parse(c) for c in m.group(6).split("|")]))
        pos = m.end()
    if pos < len(template):
        parts.append(template[pos:])
    return parts


_COMPILED_OPENINGS = {tense: [_parse(t) for t in ts] for tense, ts in _OPENINGS.items()}
_COMPILED_DESCRIBE = [_parse(t) for t in _DESCRIBE]
_COMPILED_ENDINGS = [_parse(t) for t in _ENDINGS]
_COMPILED_DETAILS = [_parse(t) for t in _DETAILS]
_COMPILED_PLOTS = {topic: [[_parse(t) for t in stage] for stage in stages] for topic, stages in _PLOTS.items()}

# Subject-less verbs used in templates ("it_was", "it_blows", ...): (lemma, plural) for the story's tense.
_IT_VERBS = {
    "it_was": ("be", False),
    "it_were": ("be", True),
    "it_is": ("be", False),
    "it_blows": ("blow", False),
    "it_begins": ("begin", False),
    "it_turns": ("turn", False),
    "it_stops": ("stop", False),
    "it_shines": ("shine", False),
    "it_appears": ("appear", False),
    "it_falls": ("fall", False),
    "it_says": ("say", False),
    "it_sings": ("sing", False),
    "it_moves": ("move", False),
    "it_thanks": ("thank", False),
    "it_licks": ("lick", False),
    "it_talks": ("talk", False),
    "it_beats": ("beat", False),
    "it_means": ("mean", False),
    "it_claps": ("clap", False),
    "it_gives": ("give", False),
    "it_grows": ("grow", False),
    "it_goes": ("go", False),
    "it_tells": ("tell", False),
    "it_wants": ("want", False),
    "rain_fall": ("fall", True),
}


_FRESH = {
    "any_look": LOOKS,
    "any_color": COLORS,
    "any_animal": ANIMALS,
    "any_place": PLACES,
    "any_food_one": FOOD_ONE,
    "adv": ADVERBS,
    "num": NUMBERS,
    "things": THINGS,
    "spot": SPOTS,
    "exclaim": EXCLAIM,
}


class _Story:
    """One story's choices and the renderer of its templates."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tense = "past" if rng.random() < 0.75 else "present"
        self.c = _character(rng)
        first = self.c.name.split(" and ")[0]
        self.f = _character(rng, avoid=first)
        while self.f.plural or self.f.name in self.c.name:
            self.f = _character(rng, avoid=first)
        places = rng.sample(PLACES, 3)
        self.slots = {
            "time": rng.choice(TIMES),
            "place": places[0],
            "place2": places[1],
            "place3": places[2],
            "obj": rng.choice(OBJECTS),
            "objs": rng.choice(OBJECTS) + "s",
            "look": rng.choice(LOOKS),
            "look2": rng.choice(["beautiful", "wonderful", "big", "bright", "quiet", "magical"]),
            "color": rng.choice(COLORS),
            "trait": rng.choice(TRAITS),
            "kin": rng.choice(KIN),
            "foods": rng.choice(FOODS),
            "food_one": rng.choice(FOOD_ONE),
            "animal": rng.choice(ANIMALS),
            "weather": rng.choice(["sunny", "windy", "cloudy", "warm", "cold", "bright"]),
            "feeling_pos": rng.choice(["happy", "proud", "glad", "excited", "calm"]),
            "feeling_neg": rng.choice(["sad", "scared", "worried", "lonely", "upset"]),
            "feeling_shy": rng.choice(["shy", "nervous", "scared", "unsure"]),
            "game": rng.choice(GAMES),
            "dest": rng.choice(_DEST),
            "seeds": rng.choice(SEEDS),
            "contest": rng.choice(CONTESTS),
            "gift": rng.choice(["cake", "card", "hat", "kite", "book", "box"]),
            "day": rng.choice(["Monday", "Tuesday", "Friday", "Saturday", "Sunday"]),
        }
        for who, char in (("C", self.c), ("F", self.f)):
            _, home, food = _FACTS[char.kind]
            self.slots[f"{who}_home"] = home
            self.slots[f"{who}_food"] = food or self.slots["foods"]
        c = self.c
        trait = self.slots["trait"]
        article = "an" if trait[0] in "aeiou" else "a"
        self.slots["intro"] = (
            f"two friends named {c.name}" if c.plural else f"{article} {trait} little {c.kind} named {c.name}"
        )

    def render(self, parts: list) -> str:
        out = []
        for p in parts:
            if isinstance(p, str):
                out.append(p)
            elif p[0] == "form":
                out.append(self._form(self.c if p[1] == "C" else self.f, p[2]))
            elif p[0] == "verb":
                who = None if p[1] == "Pl" else self.c if p[1] == "C" else self.f
                lemma = _FACTS[who.kind][0] if p[2] == "sound" and who is not None else p[2]
                out.append(_verb(lemma, True if who is None else who.plural, self.tense))
            elif p[0] == "slot":
                out.append(self._slot(p[1]))
            else:
                out.append(self.render(self.rng.choice(p[1])))
        return "".join(out)

    @staticmethod
    def _form(char: _Char, attr: str) -> str:
        low = attr.lower()
        value = char.name if low == "name" else char.kind if low == "kind" else char.form(low)
        return value[0].upper() + value[1:] if attr[0].isupper() else value

    def _slot(self, name: str) -> str:
        if name in self.slots:
            return self.slots[name]
        if name in _FRESH:  # resampled at every mention
            return self.rng.choice(_FRESH[name])
        lemma, plural = _IT_VERBS[name]
        return _verb(lemma, plural, self.tense)

    def sentence(self, parts: list) -> str:
        text = self.render(parts)
        return text[0].upper() + text[1:] if text and text[0].isalpha() else text


_AN = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")


def story(seed: int, index: int) -> dict:
    """Story ``index`` of the corpus with ``seed``: ``{"text", "label", "topic"}``."""
    rng = random.Random(seed * 1_000_003 + index)
    s = _Story(rng)
    label = rng.randrange(len(TOPICS))
    topic = TOPICS[label]
    sentences = [s.sentence(rng.choice(_COMPILED_OPENINGS[s.tense]))]
    for parts in rng.sample(_COMPILED_DESCRIBE, rng.randint(1, 3)):
        sentences.append(s.sentence(parts))
    paragraphs = [" ".join(sentences)]
    stages = _COMPILED_PLOTS[topic]
    body: list[str] = []
    for i, stage in enumerate(stages):
        if i in _OPTIONAL_STAGES[topic] and rng.random() < 0.25:  # plots vary in length
            continue
        body.append(s.sentence(rng.choice(stage)))
        if rng.random() < 0.4:
            body.append(s.sentence(rng.choice(_COMPILED_DETAILS)))
        if len(body) >= 3 and rng.random() < 0.35:
            paragraphs.append(" ".join(body))
            body = []
    body.append(s.sentence(rng.choice(_COMPILED_ENDINGS)))
    paragraphs.append(" ".join(body))
    text = _AN.sub(r"\1n ", "\n\n".join(paragraphs))  # "a orange door" -> "an orange door"
    return {"text": text, "label": label, "topic": topic}


def stories(num_stories: int, seed: int = 0, start: int = 0) -> Iterator[dict]:
    """Stories ``start .. start+num_stories-1`` of the corpus with ``seed``."""
    for i in range(start, start + num_stories):
        yield story(seed, i)
