"""Tiny English and French texts and translation pairs for the real-language tests (written here, seeded)."""

import random

EN_WORDS = (
    "the little fox ran to river and found a red kite in grass bird sang over hill with old man who said hello "
    "house garden boy girl dog cat tree day night sun moon water"
).split()
FR_WORDS = (
    "le petit renard courut vers la rivière et trouva un cerf-volant rouge dans herbe oiseau chantait sur colline "
    "avec vieil homme qui dit bonjour maison jardin garçon fille chien chat arbre jour nuit soleil lune eau"
).split()
PAIRS = [
    ("The little fox ran to the river.", "Le petit renard courut vers la rivière."),
    ("The old man said hello.", "Le vieil homme dit bonjour."),
    ("The bird sang over the hill.", "L'oiseau chantait sur la colline."),
    ("The dog found a red kite.", "Le chien trouva un cerf-volant rouge."),
    ("The cat is in the garden.", "Le chat est dans le jardin."),
    ("The sun and the moon.", "Le soleil et la lune."),
]


def paragraphs(words: list[str], n: int = 400, seed: int = 0) -> str:
    """``n`` blank-line-separated paragraphs of random words (8 to 30 each)."""
    rng = random.Random(seed)
    return "\n\n".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(8, 30))).capitalize() + "." for _ in range(n)
    )


def write_texts(folder) -> tuple[str, str, str]:
    """en.txt, fr.txt and pairs.tsv in ``folder``; their paths."""
    en, fr, pairs = folder / "en.txt", folder / "fr.txt", folder / "pairs.tsv"
    en.write_text(paragraphs(EN_WORDS))
    fr.write_text(paragraphs(FR_WORDS, seed=1))
    pairs.write_text("".join(f"{a}\t{b}\n" for a, b in PAIRS * 10))  # enough to pack parallel sequences
    return str(en), str(fr), str(pairs)
