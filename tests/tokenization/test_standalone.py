"""Standalone per-language tokenizers: each language exported as a plain tokenizer that AutoTokenizer loads."""

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from hf_clonelang import ClonedTokenizer

TEXT = "Once upon a time, Lily and Tom found a shiny red kite near the river!"


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
