"""Only verified text leaves the LLM answerer: a reply is released sentence by sentence, each sentence once
it is complete and only if a passage it cites supports it (`qa.llm.support.check`). A sentence that cites
nothing, or only passages that do not support it, is left out (and counted); a reply that repeats the
prompt's `<passage>` markup fails. What was released is what the final answer says, so a streamed answer
never shows text that the final answer takes back.
"""
from __future__ import annotations

import re

from qa.llm import prompt, support
from qa.types import Passage

_WORDS = re.compile(r"\w")
_ENDED = re.compile(r"[.!?…][\"'”’)]*(?:\s*\[\d+\])*\s*$")  # a sentence that was finished


class Verified:
    """`feed(reply_so_far)` returns the newly released text; `close(reply)` judges the last sentence.

    `text` is all that was released, `dropped` the sentences left out, `markup` whether the reply
    repeated the prompt's markup (what came before it is judged as a reply cut there; nothing after)."""

    def __init__(self, passages: list[Passage], question: str):
        self.passages, self.question = passages, question
        self.text = ""
        self.dropped = 0
        self.markup = False
        self._done = 0  # offset in the reply up to which sentences were judged
        self._space = ""  # the space after the last released sentence

    def feed(self, reply: str) -> str:
        """Judge the sentences of `reply` (the cleaned reply so far) that are complete: a new one has begun."""
        return self._judge(reply, final=False)

    def close(self, reply: str, cut: bool = False) -> str:
        """The reply is over: judge what is left of it as a sentence. When it was `cut` short, a last
        sentence that was not finished is left out."""
        return self._judge(reply, final=True, cut=cut)

    def _judge(self, reply: str, final: bool, cut: bool = False) -> str:
        if self.markup:
            return ""
        markup = prompt.markup_at(reply)
        if markup is not None:  # judge what came before it as a reply cut there; nothing after
            self.markup, reply, final, cut = True, reply[:markup], True, True
        rest = reply[self._done:]
        spans = support.spans(rest)
        if not final or (cut and spans and not _ENDED.search(rest[spans[-1][0]:spans[-1][1]])):
            spans = spans[:-1]  # the last sentence may still grow (or was cut off)
        out = ""
        for s, e in spans:
            sentence = rest[s:e]
            kept = self._one(sentence)
            started = bool(self.text or out)
            if kept:  # the space after a sentence waits for the next one: an answer never ends in it
                out += self._space + kept.rstrip() if started else kept.strip()
                self._space = kept[len(kept.rstrip()):]
            elif started:  # left out: its space stands in for the one before it, if that is missing
                self._space = self._space or sentence[len(sentence.rstrip()):]
        if spans:
            self._done += spans[-1][1]
        released = out
        self.text += released
        return released

    def _one(self, sentence: str) -> str:
        """`sentence` with its unsupported markers removed if one passage it cites supports it, else ""."""
        checked = support.check(sentence, self.passages, self.question)
        if prompt.cited(checked):
            return checked
        if _WORDS.search(sentence):
            self.dropped += 1
        return ""

    @property
    def citations(self) -> list[int]:
        """The passage numbers the released text cites."""
        return [n for n in prompt.cited(self.text) if 1 <= n <= len(self.passages)]
