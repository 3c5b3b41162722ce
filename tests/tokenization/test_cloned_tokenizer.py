"""ClonedTokenizer: the tokenizer interface, shared special tokens, persistence."""

import copy
import json

import numpy as np
import pytest
import torch

from hf_clonelang import SHARED, ClonedTokenizer, ConfigError
from hf_clonelang.data.tokenizers import token_frequencies

TEXT = "Once upon a time, Lily and Tom found a shiny red kite near the river!"


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
