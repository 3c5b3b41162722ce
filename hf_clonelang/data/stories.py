"""A probabilistic grammar of short English stories: the project's embedded default corpus.

Each story has a main character (a child, an animal or a pair, so he / she / they and verb agreement vary), a
tense (past or present, kept for the whole story), a setting, and a plot of several stages drawn from one of
`TOPICS` — the story's class label. Names, objects and places chosen early come back later (a lost kite is found,
the friend met in the park is the one who helps), so a language model has long-range structure to learn and
keeps improving over a few million tokens. Story i is a pure function of (seed, i): any slice of the corpus can
be generated on its own.

The grammar itself (word lists, templates, plots, irregular verbs, ...) is data: ``stories_grammar.json`` next to
this module. This module holds only the generator.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import Any


def grammar_version(data: bytes) -> str:
    """The version of a grammar file: the first 12 hex digits of the sha256 of its bytes."""
    return hashlib.sha256(data).hexdigest()[:12]


_GRAMMAR_BYTES = (files("hf_clonelang.data") / "stories_grammar.json").read_bytes()
_GRAMMAR: dict[str, Any] = json.loads(_GRAMMAR_BYTES)

GRAMMAR_VERSION = grammar_version(_GRAMMAR_BYTES)
"""Changes whenever the grammar file changes: cached corpora built from older stories are not reused."""

TOPICS: tuple[str, ...] = tuple(_GRAMMAR["topics"])
"""Class labels of the embedded stories (the plot type), in label-id order."""
if set(TOPICS) != set(_GRAMMAR["plots"]):
    raise ValueError(f"stories_grammar.json: topics {TOPICS} and plots {tuple(_GRAMMAR['plots'])} differ")

_WORDS: dict[str, list[str]] = _GRAMMAR["words"]
# Verbs: lemma -> (third person singular present, past). Regular forms are derived when missing.
_IRREGULAR = {lemma: (v["third"], v["past"]) for lemma, v in _GRAMMAR["irregular_verbs"].items()}
# What each kind of character says, where it lives and what it likes to eat: a story's later sentences follow
# from the kind chosen in its first line, a long-range association for a model to learn.
_FACTS = {kind: (v["sound"], v["home"], v["food"]) for kind, v in _GRAMMAR["facts"].items()}
# Subject-less verbs used in templates ("it_was", "it_blows", ...): (lemma, plural) for the story's tense.
_IT_VERBS = {slot: (v["lemma"], v["plural"]) for slot, v in _GRAMMAR["it_verbs"].items()}
# Slots resampled at every mention (details are compositional): slot -> word list.
_FRESH = {slot: _WORDS[name] for slot, name in _GRAMMAR["fresh_slots"].items()}
# Stages that a story may leave out (the others carry the plot: what is lost must be found).
_OPTIONAL_STAGES = {topic: frozenset(p["optional_stages"]) for topic, p in _GRAMMAR["plots"].items()}


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
        name = rng.choice([n for n in _WORDS["boys" if gender == "m" else "girls"] if n != avoid])
        return _Char(name, "boy" if gender == "m" else "girl", gender)
    if roll < 0.85:
        animal = rng.choice(_WORDS["animals"])
        gender = rng.choice("mf")
        name = rng.choice([n for n in _WORDS["boys" if gender == "m" else "girls"] if n != avoid])
        return _Char(name, animal, gender)
    a, b = rng.sample([n for n in _WORDS["girls"] + _WORDS["boys"] if n != avoid], 2)
    return _Char(f"{a} and {b}", "friends", "p")


# Template language: {C.attr} / {F.attr} character forms (name, kind, subj, obj, pos, refl, i, my, me, am;
# a capital first letter capitalises the form), {C:verb} / {F:verb} a verb agreeing with C or F in the story's
# tense, {Pl:verb} the same for a plural subject (they),
# {slot} a value chosen for the whole story, [a|b|c] a uniform choice. Sentences are capitalised automatically.
_TOKEN = re.compile(r"\{([CF])\.(\w+)\}|\{(C|F|Pl):(\w+)\}|\{(\w+)\}|\[([^\]]*)\]")


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


_COMPILED_OPENINGS = {tense: [_parse(t) for t in ts] for tense, ts in _GRAMMAR["openings"].items()}
_COMPILED_DESCRIBE = [_parse(t) for t in _GRAMMAR["describe"]]
_COMPILED_ENDINGS = [_parse(t) for t in _GRAMMAR["endings"]]
# Detail sentences, sprinkled between plot stages: compositional and resampled at every use ({any_*}, {adv}).
_COMPILED_DETAILS = [_parse(t) for t in _GRAMMAR["details"]]
_COMPILED_PLOTS = {
    topic: [[_parse(t) for t in stage] for stage in p["stages"]] for topic, p in _GRAMMAR["plots"].items()
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
        w = _WORDS
        places = rng.sample(w["places"], 3)
        self.slots = {
            "time": rng.choice(w["times"]),
            "place": places[0],
            "place2": places[1],
            "place3": places[2],
            "obj": rng.choice(w["objects"]),
            "objs": rng.choice(w["objects"]) + "s",
            "look": rng.choice(w["looks"]),
            "look2": rng.choice(w["looks2"]),
            "color": rng.choice(w["colors"]),
            "trait": rng.choice(w["traits"]),
            "kin": rng.choice(w["kin"]),
            "foods": rng.choice(w["foods"]),
            "food_one": rng.choice(w["food_one"]),
            "animal": rng.choice(w["animals"]),
            "weather": rng.choice(w["weather"]),
            "feeling_pos": rng.choice(w["feelings_pos"]),
            "feeling_neg": rng.choice(w["feelings_neg"]),
            "feeling_shy": rng.choice(w["feelings_shy"]),
            "game": rng.choice(w["games"]),
            "dest": rng.choice(w["destinations"]),
            "seeds": rng.choice(w["seeds"]),
            "contest": rng.choice(w["contests"]),
            "gift": rng.choice(w["gifts"]),
            "day": rng.choice(w["days"]),
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
