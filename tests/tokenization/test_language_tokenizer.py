"""The interface both tokenizers share (`LanguageTokenizer`), and loading whichever a folder holds."""

import numpy as np
import pytest
from real_texts import EN_WORDS, FR_WORDS, paragraphs

from hf_clonelang import ClonedTokenizer, ConfigError, train_byte_level_bpe
from hf_clonelang.tokenization.joint_tokenizer import JointTokenizer
from hf_clonelang.tokenization.language_tokenizer import LanguageTokenizer, load_language_tokenizer


@pytest.fixture(scope="module")
def tokenizers():
    en = train_byte_level_bpe(paragraphs(EN_WORDS, 60).split("\n\n"), vocab_size=280)
    fr = train_byte_level_bpe(paragraphs(FR_WORDS, 60, seed=1).split("\n\n"), vocab_size=280)
    return ClonedTokenizer(en, num_languages=2), JointTokenizer([en, fr], mode="anchored", names=["en", "fr"])


def test_both_tokenizers_implement_the_interface_and_say_whether_they_are_parallel(tokenizers):
    cloned, joint = tokenizers
    assert isinstance(cloned, LanguageTokenizer) and isinstance(joint, LanguageTokenizer)
    assert cloned.parallel and not joint.parallel
    block = np.asarray(cloned("the fox ran", language=1)["input_ids"])
    assert not np.array_equal(cloned.to_language(block, 2), block)  # clones move into one another


def test_real_rows_stay_in_their_language_and_other_ids_are_refused(tokenizers):
    _, joint = tokenizers
    fr = np.asarray([joint("le renard courut", language=2)["input_ids"]])
    assert np.array_equal(joint.to_language(fr, 2), fr)  # the collator's step is the identity
    own_en = joint.ids_of(1)[~np.isin(joint.ids_of(1), joint.ids_of(2))]
    with pytest.raises(ConfigError, match=f"id {own_en[0]} is not in L2's vocabulary"):
        joint.to_language(own_en[:1], 2)
    described = joint.to_dict()
    assert described["languages"] == ["en", "fr"] and described["vocab_mode"] == "anchored"
    assert described["num_shared"] == joint.layout.num_shared and described["vocab_size"] == joint.vocab_size


def test_load_language_tokenizer_picks_the_kind_a_folder_holds(tokenizers, tmp_path):
    cloned, joint = tokenizers
    cloned.save_pretrained(tmp_path / "cloned")
    joint.save_pretrained(tmp_path / "joint")
    assert isinstance(load_language_tokenizer(tmp_path / "cloned"), ClonedTokenizer)
    again = load_language_tokenizer(tmp_path / "joint")
    assert isinstance(again, JointTokenizer) and again.names == ["en", "fr"] and again.vocab_size == joint.vocab_size
    assert again("le chat", language=2)["input_ids"] == joint("le chat", language=2)["input_ids"]
