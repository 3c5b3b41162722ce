"""Tokenizers of several languages in one vocabulary.

* `clone_layout.CloneLayout`: the id arithmetic of N cloned languages (no tokenizer needed);
  `cloned_tokenizer.ClonedTokenizer` wraps a base tokenizer around it.
* `joint_layout.JointLayout`: real languages, each its own tokenizer, side by side (disjoint) or sharing the pieces
  spelled alike (anchored); `joint_tokenizer.JointTokenizer` wraps the per-language tokenizers around it.
* `language_tokenizer.LanguageTokenizer`: the interface both tokenizers share (all the training, evaluation and
  publishing code needs), and `load_language_tokenizer`, which loads whichever a folder or Hub repo holds.
* `standalone`: the per-language export (``tokenizers/L{k}/``, plain `transformers` tokenizers that give the joint
  ids); `folder.tokenizer_folder`: a saved tokenizer's local folder, from a path or a Hub repo.

Imports only the core modules (`errors`, `common`).
"""
