"""ClonedTokenizer: id maps (property tests), tokenizer interface, persistence, standalone per-language tokenizers."""

import copy
import itertools
import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from hf_clonelang import SHARED, ClonedTokenizer, ConfigError
from hf_clonelang.tokenization import token_frequencies

TEXT = "Once upon a time, Lily and Tom found a shiny red kite near the river!"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_base_ids(tok):
    return np.array(sorted(tok.base.get_vocab().values()))


@SETTINGS
@given(
    n=st.integers(1, 6),
    fraction=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**16),
    share_specials=st.booleans(),
    data=st.data(),
)
def test_id_maps_round_trip_and_stay_disjoint(base_tokenizer, n, fraction, seed, share_specials, data):
    tok = ClonedTokenizer(base_tokenizer, n, clone_fraction=fraction, seed=seed, share_special_tokens=share_specials)
    base_ids = np.array(data.draw(st.lists(st.sampled_from(_valid_base_ids(tok).tolist()), min_size=1, max_size=50)))
    cloned = set(tok.cloned_ids.tolist())
    for k in range(1, n + 1):
        ids = tok.to_language(base_ids, k)
        assert np.array_equal(tok.to_base(ids), base_ids)
        is_cloned = np.isin(base_ids, list(cloned))
        assert np.array_equal(tok.language_of(ids), np.where(is_cloned, k, SHARED))
        lo, hi = tok.language_range(k)
        assert np.all((ids[is_cloned] >= lo) & (ids[is_cloned] < hi))
        assert np.array_equal(ids[~is_cloned], base_ids[~is_cloned])  # shared ids never move
        for j in range(1, n + 1):  # mapping from any language lands in the same place
            assert np.array_equal(tok.to_language(tok.to_language(base_ids, j), k), ids)
    ranges = sorted(tok.language_range(k) for k in range(1, n + 1))
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ranges))
    assert ranges[-1][1] == tok.vocab_size == tok.base_vocab_size + (n - 1) * tok.num_cloned


@SETTINGS
@given(n=st.integers(2, 5), fraction=st.floats(0.1, 0.95), seed=st.integers(0, 1000))
def test_anchors_are_shared_by_every_language(base_tokenizer, n, fraction, seed):
    tok = ClonedTokenizer(base_tokenizer, n, clone_fraction=fraction, seed=seed)
    cloneable = len(_valid_base_ids(tok)) - len(tok.shared_special_ids)
    assert len(tok.anchor_ids) == round((1 - fraction) * cloneable)
    assert not set(tok.anchor_ids) & set(tok.cloned_ids)
    for k in range(1, n + 1):
        assert np.array_equal(tok.to_language(tok.anchor_ids, k), tok.anchor_ids)
    assert np.all(tok.language_of(tok.anchor_ids) == SHARED)
    assert np.all(tok.language_of(tok.shared_special_ids) == SHARED)


def test_anchor_choice_is_seeded(base_tokenizer):
    a = ClonedTokenizer(base_tokenizer, 2, clone_fraction=0.5, seed=1).anchor_ids
    b = ClonedTokenizer(base_tokenizer, 2, clone_fraction=0.5, seed=1).anchor_ids
    c = ClonedTokenizer(base_tokenizer, 2, clone_fraction=0.5, seed=2).anchor_ids
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_frequent_anchors_are_the_most_frequent_ids(base_tokenizer, story_texts):
    counts = token_frequencies(base_tokenizer, story_texts)
    tok = ClonedTokenizer(base_tokenizer, 3, clone_fraction=0.9, anchors="frequent", frequencies=counts)
    specials = set(tok.shared_special_ids.tolist())
    ranked = [i for i in np.argsort(-counts, kind="stable") if i not in specials]
    assert set(tok.anchor_ids.tolist()) == set(ranked[: len(tok.anchor_ids)])
    assert counts[tok.anchor_ids].min() >= counts[tok.cloned_ids].max()


def test_explicit_anchor_list_and_conflicting_fraction(base_tokenizer):
    tok = ClonedTokenizer(base_tokenizer, 4, anchors=[10, 20, 30])
    assert tok.anchor_ids.tolist() == [10, 20, 30]
    assert tok.to_language(20, 4) == 20 and tok.language_of(tok.to_language(11, 4)) == 4
    with pytest.raises(ConfigError, match="either an explicit anchor list or a clone_fraction"):
        ClonedTokenizer(base_tokenizer, 2, clone_fraction=0.5, anchors=[10, 20, 30])
    with pytest.raises(ConfigError, match="anchor id 1"):  # 1 is padding, shared anyway
        ClonedTokenizer(base_tokenizer, 2, anchors=[1])


def test_specials_cloned_by_default_and_shared_on_request(base_tokenizer):
    eos, pad = base_tokenizer.eos_token_id, base_tokenizer.pad_token_id
    paper = ClonedTokenizer(base_tokenizer, 3)  # the paper: every id but padding is cloned
    assert paper.to_language(eos, 3) != eos and paper.language_of(paper.to_language(eos, 3)) == 3
    assert paper.to_language(pad, 3) == pad  # padding always stays shared
    assert paper.shared_ids.tolist() == [pad] and paper.num_cloned == paper.base_vocab_size - 1
    assert "only padding, `<pad>` (id 1)" in paper.describe_shared()
    shared = ClonedTokenizer(base_tokenizer, 3, share_special_tokens=True)
    assert shared.to_language(eos, 3) == eos and shared.language_of(eos) == SHARED
    assert shared.shared_ids.tolist() == sorted([eos, pad])
    assert "`<|endoftext|>` (id 0)" in shared.describe_shared()


def test_tokenizer_files_of_version_0_1_load(base_tokenizer, tmp_path):
    """cloned_tokenizer.json of hf_clonelang 0.1 said clone_specials (default False: specials shared)."""
    ClonedTokenizer(base_tokenizer, 2, share_special_tokens=True).save_pretrained(tmp_path)
    path = tmp_path / "cloned_tokenizer.json"
    cfg = json.loads(path.read_text())
    cfg["clone_specials"] = not cfg.pop("share_special_tokens")
    path.write_text(json.dumps(cfg))
    assert ClonedTokenizer.from_pretrained(tmp_path).share_special_tokens


def test_every_container_type(base_tokenizer):
    tok = ClonedTokenizer(base_tokenizer, 3)
    ids = [5, 17, 1, 299]  # 1: padding, shared
    expected = tok.to_language(np.array(ids), 2)
    assert tok.to_language(ids, 2) == expected.tolist()
    assert tok.to_language(tuple(ids), 2) == expected.tolist()
    assert tok.to_language(17, 2) == int(expected[1])
    assert tok.to_language([[5, 17], [1], []], 2) == [expected[:2].tolist(), [1], []]  # ragged batch
    as_int32 = tok.to_language(np.array(ids, dtype=np.int32), 2)
    assert as_int32.dtype == np.int32 and as_int32.tolist() == expected.tolist()
    tensor = tok.to_language(torch.tensor([ids, ids]), 2)
    assert tensor.dtype == torch.int64 and tensor.tolist() == [expected.tolist()] * 2
    assert tok.to_base(torch.tensor(expected, dtype=torch.int32)).tolist() == ids
    assert tok.language_of(torch.tensor(expected)).tolist() == [2, 2, 0, 2]


def test_out_of_range_ids_and_languages_are_rejected(base_tokenizer):
    tok = ClonedTokenizer(base_tokenizer, 2)
    with pytest.raises(ConfigError, match=f"token id {tok.vocab_size} is out of range"):
        tok.to_base([1, tok.vocab_size])
    with pytest.raises(ConfigError, match="token id -1"):
        tok.language_of(np.array([-1]))
    with pytest.raises(ConfigError, match="language=3 is not allowed: languages are numbered 1..2"):
        tok.to_language([1], 3)
    with pytest.raises(ConfigError, match="language=0"):
        tok("hello", language=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_languages": 0}, "num_languages=0 is not allowed"),
        ({"clone_fraction": 0.0}, r"clone_fraction=0.0 is not allowed: it must lie in \(0, 1\]"),
        ({"clone_fraction": 1.5}, "clone_fraction=1.5 is not allowed"),
        ({"num_languages": 10_000_000}, "num_languages=10000000 is too large"),
        ({"anchors": "often", "clone_fraction": 0.5}, "anchors='often' is not allowed"),
        ({"anchors": "frequent", "clone_fraction": 0.5}, "anchors='frequent' needs token counts"),
    ],
)
def test_bad_arguments(base_tokenizer, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ClonedTokenizer(base_tokenizer, **kwargs)


def test_call_encodes_like_the_base_in_the_chosen_language(base_tokenizer):
    tok = ClonedTokenizer(base_tokenizer, 3)
    enc = tok([TEXT, "a fox"], language=3, padding=True, return_tensors="pt")
    base = base_tokenizer([TEXT, "a fox"], padding=True, return_tensors="pt")
    assert torch.equal(enc["attention_mask"], base["attention_mask"])
    assert torch.equal(enc["input_ids"], tok.to_language(base["input_ids"], 3))
    assert enc["input_ids"][1, -1].item() == base_tokenizer.pad_token_id  # padding stays shared
    truncated = tok(TEXT, language=2, truncation=True, max_length=5)
    assert len(truncated["input_ids"]) == 5
    assert tok.encode(TEXT, language=2) == tok.to_language(base_tokenizer.encode(TEXT), 2)


def test_the_conventions_collators_and_pipelines_rely_on(base_tokenizer):
    """Text pairs as the second positional argument, `pad` (DataCollatorWithPadding), token/id conversion,
    padding_side and model_input_names; a language given positionally is refused, never taken silently."""
    from transformers import DataCollatorWithPadding

    tok = ClonedTokenizer(copy.deepcopy(base_tokenizer), 3)
    pair = tok(TEXT, "a fox", language=2)
    assert pair["input_ids"] == tok.to_language(base_tokenizer(TEXT, "a fox")["input_ids"], 2)
    assert tok.encode(TEXT, "a fox", language=3) == tok.to_language(base_tokenizer.encode(TEXT, "a fox"), 3)
    for call in (lambda: tok(TEXT, 2), lambda: tok.encode(TEXT, 2)):
        with pytest.raises(ConfigError, match="second positional argument 2 is not a text pair"):
            call()
    rows = [{"input_ids": tok.encode(t, language=2)} for t in (TEXT, "a fox")]
    batch = DataCollatorWithPadding(tok)(rows)
    assert batch["input_ids"].shape[0] == 2 and batch["input_ids"][1, -1].item() == tok.pad_token_id
    assert batch["attention_mask"][1].sum().item() == len(rows[1]["input_ids"])
    ids = tok.encode("a fox", language=3)
    tokens = tok.convert_ids_to_tokens(ids)
    assert tokens == base_tokenizer.convert_ids_to_tokens(tok.to_base(ids))
    assert tok.convert_tokens_to_ids(tokens, language=3) == ids
    assert tok.convert_ids_to_tokens(ids[0]) == tokens[0]
    tok.padding_side = "left"
    assert tok.padding_side == "left" == tok.base.padding_side
    assert tok([TEXT, "a fox"], language=2, padding=True)["input_ids"][1][0] == tok.pad_token_id
    with pytest.raises(ConfigError, match="padding_side='middle'"):
        tok.padding_side = "middle"
    assert tok.model_input_names == base_tokenizer.model_input_names


def test_decode_gives_the_base_text_in_every_language(base_tokenizer):
    tok = ClonedTokenizer(base_tokenizer, 4, clone_fraction=0.8)
    for k in range(1, 5):
        ids = tok(TEXT, language=k)["input_ids"]
        assert tok.decode(ids) == TEXT
        assert tok.decode(torch.tensor(ids)) == TEXT
    batch = [tok(TEXT, language=k)["input_ids"] for k in (1, 2, 4)]
    assert tok.batch_decode(batch) == [TEXT] * 3


def test_save_and_load_round_trip(base_tokenizer, story_texts, tmp_path):
    counts = token_frequencies(base_tokenizer, story_texts[:20])
    tok = ClonedTokenizer(base_tokenizer, 3, clone_fraction=0.7, anchors="frequent", frequencies=counts, seed=5)
    tok.save_pretrained(tmp_path)
    loaded = ClonedTokenizer.from_pretrained(tmp_path)
    assert loaded.to_dict() == tok.to_dict()
    assert np.array_equal(loaded.cloned_ids, tok.cloned_ids)
    everything = np.arange(tok.vocab_size)
    assert np.array_equal(loaded.to_base(everything), tok.to_base(everything))
    assert loaded(TEXT, language=3)["input_ids"] == tok(TEXT, language=3)["input_ids"]
    assert json.loads((tmp_path / "cloned_tokenizer.json").read_text())["num_languages"] == 3


def test_loading_a_folder_without_config_fails_clearly(tmp_path, base_tokenizer):
    base_tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ConfigError, match="holds no cloned_tokenizer.json"):
        ClonedTokenizer.from_pretrained(tmp_path)


def _check_standalone(tok, folder, texts):
    tok.save_pretrained(folder)
    for k in range(1, tok.num_languages + 1):
        plain = AutoTokenizer.from_pretrained(folder, subfolder=f"tokenizers/L{k}")
        for text in texts:
            ids = plain(text)["input_ids"]
            assert ids == tok(text, language=k)["input_ids"], (k, text)
            assert plain.decode(ids, skip_special_tokens=True) == tok.decode(ids, skip_special_tokens=True)
        for name in ("eos_token_id", "pad_token_id"):  # specials stay at their shared ids
            base_id = getattr(tok.base, name)
            if base_id is not None:
                assert getattr(plain, name) == tok.to_language(base_id, k)


def test_standalone_byte_level_bpe(base_tokenizer, tmp_path):
    tok = ClonedTokenizer(base_tokenizer, 3, clone_fraction=0.9, share_special_tokens=True)
    _check_standalone(tok, tmp_path, [TEXT, "Ünïcödé & émojis 🦊 are bytes too."])
    plain = AutoTokenizer.from_pretrained(tmp_path, subfolder="tokenizers/L2")
    assert plain.decode(plain(TEXT)["input_ids"]) == TEXT
    assert plain.eos_token_id == base_tokenizer.eos_token_id  # shared


def test_standalone_with_cloned_specials(base_tokenizer, tmp_path):
    tok = ClonedTokenizer(base_tokenizer, 2)
    _check_standalone(tok, tmp_path, [TEXT + "<|endoftext|>And more."])


def _wrap(raw, **specials):
    return PreTrainedTokenizerFast(tokenizer_object=raw, **specials)


def test_standalone_wordlevel_and_wordpiece(story_texts, tmp_path):
    wl = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    wl.pre_tokenizer = pre_tokenizers.Whitespace()
    wl.train_from_iterator(story_texts, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[EOS]"]))
    wordlevel = _wrap(wl, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]")
    _check_standalone(ClonedTokenizer(wordlevel, 3), tmp_path / "wl", [TEXT, "zebra xylophone"])

    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.pre_tokenizer = pre_tokenizers.Whitespace()
    wp.decoder = decoders.WordPiece()
    wp.train_from_iterator(
        story_texts, trainers.WordPieceTrainer(vocab_size=200, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
    )
    wp.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    wordpiece = _wrap(wp, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]")
    tok = ClonedTokenizer(wordpiece, 2)  # [CLS]/[SEP] move: the post-processor must follow
    _check_standalone(tok, tmp_path / "wp", [TEXT])
    ids = AutoTokenizer.from_pretrained(tmp_path / "wp", subfolder="tokenizers/L2")(TEXT)["input_ids"]
    assert ids[0] == tok.to_language(2, 2) != 2


def test_standalone_unigram_with_template_and_extra_special(story_texts, tmp_path):
    uni = Tokenizer(models.Unigram())
    uni.pre_tokenizer = pre_tokenizers.Metaspace()
    uni.decoder = decoders.Metaspace()
    uni.train_from_iterator(
        story_texts,
        trainers.UnigramTrainer(vocab_size=150, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"),
    )
    uni.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    unigram = _wrap(uni, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", extra_special_tokens=["<sep2>"])
    tok = ClonedTokenizer(unigram, 3, clone_fraction=0.75)
    _check_standalone(tok, tmp_path, [TEXT, "Qq ¤ unknown <sep2> pieces"])
