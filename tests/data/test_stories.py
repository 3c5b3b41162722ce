"""The embedded story grammar: deterministic, labelled, varied, grammatical where it is easy to check."""

import hashlib
import json
import re
from collections import Counter
from importlib.resources import files

from hf_clonelang.data.base_text import BaseCorpus, embedded_dataset
from hf_clonelang.data.stories import GRAMMAR_VERSION, TOPICS, grammar_version, stories, story


def test_story_is_a_pure_function_of_seed_and_index():
    assert story(3, 17) == story(3, 17)
    assert story(3, 17) != story(4, 17)
    assert list(stories(5, seed=3, start=10)) == [story(3, i) for i in range(10, 15)]


def test_every_topic_occurs_and_labels_match_topics():
    sample = list(stories(800, seed=0))
    counts = Counter(s["topic"] for s in sample)
    assert set(counts) == set(TOPICS)
    assert min(counts.values()) > 800 / len(TOPICS) / 2
    assert all(TOPICS[s["label"]] == s["topic"] for s in sample)


def test_vocabulary_and_length_are_rich_enough():
    sample = list(stories(2000, seed=1))
    words = Counter(w for s in sample for w in re.findall(r"[a-z]+", s["text"].lower()))
    assert len(words) > 500  # hundreds of distinct words
    lengths = [len(s["text"].split()) for s in sample]
    assert 60 < sum(lengths) / len(lengths) < 300
    assert len({s["text"] for s in sample}) == len(sample)
    assert all("\n\n" in s["text"] for s in sample)  # multi-paragraph plots


def test_pronouns_and_verbs_agree_with_the_character():
    for s in stories(400, seed=2):
        text = s["text"]
        intro = re.search(r"(?:little (\w+)|two friends) named ([A-Z]\w+(?: and [A-Z]\w+)?)", text)
        assert intro, text
        if intro.group(0).startswith("two friends"):
            assert not re.search(rf"\b{re.escape(intro.group(2))} (was|is|has|goes)\b", text), text
        # a/an agreement
        assert not re.search(r"\b[Aa] [aeiou]", text), text
        # no unfilled template parts
        assert "{" not in text and "[" not in text, text


def test_tense_is_kept_through_a_story():
    tenses = Counter()
    for s in stories(300, seed=4):
        text = s["text"].replace("This is a story about", "")  # the narrator's frame is present in any tense
        past = len(re.findall(r"\b(was|were|went|said|looked|found)\b", text))
        present = len(re.findall(r"\b(is|are|goes|says|looks|finds)\b", re.sub(r'"[^"]*"', "", text)))
        assert (past > 0) != (present > 0), text  # told in one tense: verbs of it, none of the other
        tenses["past" if past else "present"] += 1
    # each story draws its tense (a quarter of them present): both are common in 300 stories
    assert set(tenses) == {"past", "present"} and min(tenses.values()) >= 30, tenses


def test_embedded_dataset_has_class_labels():
    ds = embedded_dataset(50, seed=0)
    assert ds.features["label"].names == list(TOPICS)
    assert ds[7]["text"] == story(0, 7)["text"] and ds[7]["label"] == story(0, 7)["label"]


def test_grammar_version_is_the_hash_of_the_shipped_grammar_file():
    data = (files("hf_clonelang.data") / "stories_grammar.json").read_bytes()
    assert GRAMMAR_VERSION == hashlib.sha256(data).hexdigest()[:12] == grammar_version(data)
    assert BaseCorpus().grammar_version == GRAMMAR_VERSION  # the corpus cache identity follows the file
    grammar = json.loads(data)
    assert list(grammar["topics"]) == list(TOPICS) == list(grammar["plots"])
    # any edit of the grammar, even one word, gives a new version
    grammar["words"]["colors"].append("teal")
    changed = json.dumps(grammar, indent=1).encode()
    assert grammar_version(changed) != GRAMMAR_VERSION
    assert grammar_version(data.replace(b'"red"', b'"Red"')) != GRAMMAR_VERSION
    assert grammar_version(data) == GRAMMAR_VERSION  # and the hash is deterministic
