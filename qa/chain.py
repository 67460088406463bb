"""The assistant as a LangChain `Runnable` (`assistant.chain`), to compose in users' own chains.

Input: `{"question": str, "history": [...]}` (history optional: LangChain messages, `{"role", "content"}`
dicts or `(user, assistant)` pairs, read by `qa.history`), or the question alone as a string. Optional keys:
`k`, `answerer`, `collection` and `where` (a filter; see `Assistant.answer`). Output: the `Answer`; `chain.as_dicts()`
gives the same chain returning `answer_dict(answer)` instead (what `RunnableWithMessageHistory` needs, with
`output_messages_key="answer"`).

`stream` yields the text as it is produced (strings), then the final `Answer` (or dict), which is also what
the streamed run adds up to. The final object is the authority: an LLM answerer's validated text can drop a
marker the streamed preview showed.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator, Optional, Union

from langchain_core.runnables import Runnable, RunnableConfig

from index.errors import UsageError
from qa.types import Answer, answer_dict

if TYPE_CHECKING:
    from qa.pipeline import Assistant

Output = Union[Answer, dict]
_OPTIONS = ("k", "answerer", "collection", "where")


def read_input(value: Any) -> tuple[str, Any, dict]:
    """(question, history, options) from a chain input; a clear `UsageError` for anything else."""
    if isinstance(value, str):
        return value, None, {}
    if not isinstance(value, dict) or not isinstance(value.get("question"), str):
        raise UsageError("the chain's input must be a question or a dict with a \"question\" string",
                         hint='for example chain.invoke({"question": "...", "history": []})')
    options = {k: value[k] for k in _OPTIONS if value.get(k) is not None}
    return value["question"], value.get("history"), options


class AnswerChain(Runnable[Union[dict, str], Output]):
    """`Assistant.answer` as a Runnable: invoke, stream, batch and their async forms."""

    def __init__(self, assistant: "Assistant", dicts: bool = False):
        self.assistant, self.dicts = assistant, dicts

    def as_dicts(self) -> "AnswerChain":
        """This chain returning `answer_dict(answer)` instead of the `Answer`."""
        return AnswerChain(self.assistant, dicts=True)

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangChain's name
        return Union[dict, str]

    @property
    def OutputType(self) -> Any:  # noqa: N802 - LangChain's name
        return dict if self.dicts else Answer

    def invoke(self, input: Union[dict, str], config: Optional[RunnableConfig] = None, **kwargs: Any) -> Output:
        """The answer to `input` (see the module docstring)."""
        return self._call_with_config(self._answer, input, config, run_type="chain")

    def stream(self, input: Union[dict, str], config: Optional[RunnableConfig] = None,
               **kwargs: Any) -> Iterator[Union[str, Output]]:
        """Text pieces as they are produced, then the final `Answer` (or dict)."""
        yield from self._transform_stream_with_config(iter([input]), self._pieces, config, run_type="chain")

    async def astream(self, input: Union[dict, str], config: Optional[RunnableConfig] = None,
                      **kwargs: Any) -> AsyncIterator[Union[str, Output]]:
        """`stream`, the answering run in a worker thread so the event loop stays free."""
        async for piece in self._atransform_stream_with_config(_one(input), self._apieces, config,
                                                               run_type="chain"):
            yield piece

    def _answer(self, value: Union[dict, str]) -> Output:
        question, history, options = read_input(value)
        return self._out(self.assistant.answer(question, history, **_renamed(options)))

    def _pieces(self, inputs: Iterator[Union[dict, str]]) -> Iterator[Union[str, Output]]:
        for value in inputs:
            question, history, options = read_input(value)
            for piece in self.assistant.answer_stream(question, history, **_renamed(options)):
                yield piece if isinstance(piece, str) else self._out(piece)

    async def _apieces(self, inputs: AsyncIterator[Union[dict, str]]) -> AsyncIterator[Union[str, Output]]:
        loop, done = asyncio.get_running_loop(), object()
        async for value in inputs:
            pieces = self._pieces(iter([value]))
            while (piece := await loop.run_in_executor(None, next, pieces, done)) is not done:
                yield piece

    def _out(self, answer: Answer) -> Output:
        return answer_dict(answer) if self.dicts else answer


def _renamed(options: dict) -> dict:
    """Chain options as `Assistant.answer` keywords (`answerer` is its `backend`)."""
    out = dict(options)
    if "answerer" in out:
        out["backend"] = out.pop("answerer")
    return out


async def _one(value: Any) -> AsyncIterator[Any]:
    yield value
