"""A deterministic synthetic corpus for the scale benchmark (seeded RNG, pseudo-words; no download).

Files of short paragraphs, one paragraph per chunk at `CHUNK_SIZE`; every file holds one "needle"
sentence ("The <colour> ledger of <Place> was kept by <Name>.") whose question ("Who kept the <colour>
ledger of <Place>?") has exactly one answer in the corpus.
"""
from __future__ import annotations

import random
from pathlib import Path

CHUNK_SIZE = 200
PARAS_PER_FILE = 50
SYLLABLES = ("ka lo mi ren tas vel or bri dun sel mar tho qui nad pel ros van ule gar fen hal ist "
             "cor bel dra eth fal gon hir jas kel lum mor nis opa pra rud sko tur ulm vor wen yra zel").split()
COMMON = ("the of and a to in is was for on that by with as at from his her its were which are this "
          "be had not they but have one all their there when more after into over under near").split()
COLOURS = ("red", "grey", "blue", "green", "black", "white", "amber", "violet")


def pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))


def encoded_name(n: int, salt: int) -> str:
    """A unique capitalised pseudo-word for `n` (bijective in base len(SYLLABLES))."""
    n = n * 7919 + salt
    out = ""
    for _ in range(3):
        out += SYLLABLES[n % len(SYLLABLES)]
        n //= len(SYLLABLES)
    return out.capitalize()


def paragraph(rng: random.Random, vocab: list[str], limit: int) -> str:
    """One or two sentences of at most `limit` characters."""
    text = ""
    while True:
        words = [rng.choice(COMMON) if rng.random() < 0.35 else rng.choice(vocab) for _ in range(rng.randint(6, 12))]
        sentence = " ".join(words).capitalize() + "."
        if text and len(text) + 1 + len(sentence) > limit:
            return text
        if not text and len(sentence) > limit:
            sentence = sentence[:limit - 1].rsplit(" ", 1)[0] + "."
        text = f"{text} {sentence}".strip()
        if len(text) > limit * 0.6:
            return text


def needle(i: int) -> tuple[str, str, str]:
    """(sentence, question, answer name) for file `i`."""
    colour, place, name = COLOURS[i % len(COLOURS)], encoded_name(i, 11), encoded_name(i, 5077)
    return (f"The {colour} ledger of {place} was kept by {name}.",
            f"Who kept the {colour} ledger of {place}?", name)


def make_corpus(root: Path, chunks: int, seed: int = 42) -> list[tuple[str, str, str]]:
    """Write ceil(chunks / PARAS_PER_FILE) files; returns [(file, question, answer)] for every file."""
    rng = random.Random(seed)
    vocab = sorted({pseudo_word(rng) for _ in range(6000)})
    root.mkdir(parents=True)
    files = -(-chunks // PARAS_PER_FILE)
    out = []
    for i in range(files):
        n = min(PARAS_PER_FILE, chunks - i * PARAS_PER_FILE)
        paras = [paragraph(rng, vocab, CHUNK_SIZE - 10) for _ in range(n)]
        sentence, question, answer = needle(i)
        paras[rng.randrange(n)] = sentence
        name = f"d{i // 500:03d}/doc{i:05d}.txt"
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text("\n\n".join(paras) + "\n", "utf-8")
        out.append((name, question, answer))
    return out
