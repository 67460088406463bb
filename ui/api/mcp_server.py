"""The assistant as an MCP server, for agents and IDEs, built with the official `mcp` SDK (`MCPServer`).

Tools: `ask` (a cited answer), `search` (passages with their locations) and `list_documents` (what the index
holds). Each returns readable text for the model and the same facts as structured content. Two transports:
stdio (`qa mcp`, started by the client) and streamable HTTP at `/mcp` on `qa serve`, behind the bearer key
(`ui/api/bearer.py`) and the server's guards.
"""
from __future__ import annotations

import contextlib
import inspect
import threading
from typing import Annotated, Any, Callable

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp_types import CallToolResult, TextContent
from pydantic import Field, ValidationError
from starlette.routing import BaseRoute, Route

from index.errors import QAError
from index.generations import manifest as mf
from index.manager import collections
from qa.pipeline import Assistant
from qa.settings import MAX_K
from qa.sharing.export import reply_text
from qa.types import Passage, answer_dict
from ui.api.bearer import BearerGuard, api_key
from ui.server import guard
from ui.settings import Config

NAME = "seedqa"
PATH = "/mcp"
INSTRUCTIONS = ("Answers questions from the user's own documents, offline, with citations: `ask` gives an "
                "answer quoting its sources ([n] markers), `search` the passages nearest a query, "
                "`list_documents` the indexed files. Answers come only from the documents; when they do not "
                "hold the answer, `ask` says so.")
Question = Annotated[str, Field(description="the question, in plain language", min_length=1, max_length=2000)]
K = Annotated[int | None, Field(description="passages to search (default: the server's setting)", ge=1, le=MAX_K)]
Collection = Annotated[str | None, Field(description="a named collection of documents (default: the main one; "
                                                     "`list_documents` names them)")]
Where = Annotated[dict | None, Field(description='only documents matching, e.g. {"type": "pdf", "after": '
                                                 '"2024-01", "source": "report.md", "title": "budget"}; keys: '
                                                 'source (file or pattern), title, type, after, before')]


class Server(MCPServer):
    """`MCPServer` whose argument errors read as plain sentences: pydantic's own text (with its model name, the
    rejected input and a link to its documentation) is for programmers, not for the model or person asking."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context=None):
        """The SDK's call, with a refused argument reported as `Error executing tool ask: question: ...`."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if not isinstance(exc.__cause__, ValidationError):
                raise
            raise ToolError(f"Error executing tool {name}: {argument_errors(exc.__cause__)}") from exc.__cause__


def argument_errors(exc: ValidationError) -> str:
    """`question: String should have at least 1 character; k: ...`: each refused argument with why."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())


class Tools:
    """The tools' bodies around one `Assistant`, built on first use (`make`), shared by every session."""

    def __init__(self, cfg: Config, make: Callable[[], Assistant]):
        self.cfg, self._make = cfg, make
        self._assistant: Assistant | None = None
        self._lock = threading.Lock()

    @property
    def assistant(self) -> Assistant:
        """The assistant (the model loads on the first call, not when a client connects)."""
        with self._lock:
            if self._assistant is None:
                self._assistant = self._make()
            return self._assistant

    def ask(self, question: Question, k: K = None, collection: Collection = None, where: Where = None
            ) -> CallToolResult:
        """Answer a question from the documents, quoting the passages it rests on: the short answer first
        (`Answer: X [1]`, for who / when / where / which / how-many questions), the answer with [n] markers,
        then the sources (file, location). Says so when the documents do not hold the answer."""
        with _as_tool_error():
            answer = self.assistant.answer(question, k=k, where=where, collection=collection)
        return _result(reply_text(answer), answer_dict(answer))

    def search(self, query: Question, k: K = None, collection: Collection = None, where: Where = None
               ) -> CallToolResult:
        """The passages of the documents nearest a query, best first, each with its file, title, date,
        location (lines or page) and character offsets."""
        with _as_tool_error():
            passages = self.assistant.retrieve(query, k=k, where=where, collection=collection)
        found = [passage_dict(p) for p in passages]
        text = "\n\n".join(f"[{n}] {p['title'] or p['source']}, {p['location']}\n{p['text']}"
                           for n, p in enumerate(found, 1))
        return _result(text or "No passage matches.", {"passages": found})

    def list_documents(self, collection: Collection = None) -> CallToolResult:
        """The indexed documents of a collection (file, title, date of publication, number of chunks), and
        the names of every collection."""
        with _as_tool_error():
            settings = collections.settings_for(self.cfg.index, collection)
        files = mf.read(settings.db_dir).files
        docs = [{"source": s, "title": e.title, "published": e.published, "chunks": len(e.ids)}
                for s, e in sorted(files.items())]
        text = "\n".join(f"- {d['source']}: {d['title']}" + (f" ({d['published']})" if d["published"] else "")
                         for d in docs)
        names = collections.names(self.cfg.index.db_dir)
        text = (text or "No document is indexed yet (run `qa index`).") + "\n\nCollections: " + ", ".join(names)
        return _result(text, {"documents": docs, "collections": names})


def build_server(cfg: Config, make: Callable[[], Assistant]) -> MCPServer:
    """The MCP server with its three tools."""
    server = Server(NAME, instructions=INSTRUCTIONS, log_level="WARNING")
    tools = Tools(cfg, make)
    for fn in (tools.ask, tools.search, tools.list_documents):  # descriptions without the docstring's indent
        server.add_tool(fn, name=fn.__name__, description=" ".join(inspect.getdoc(fn).split()))
    return server


def run_stdio(cfg: Config, make: Callable[[], Assistant]) -> None:
    """Serve over stdin/stdout until the client closes them (`qa mcp`)."""
    build_server(cfg, make).run("stdio")


def http_routes(cfg: Config, assistant: Assistant) -> tuple[list[BaseRoute], Callable]:
    """The `/mcp` route (streamable HTTP, stateless, behind the bearer key) and the lifespan it needs."""
    server = build_server(cfg, lambda: assistant)
    server.streamable_http_app(streamable_http_path=PATH, stateless_http=True, host=cfg.serve.host)
    manager = server.session_manager

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with manager.run():
            yield

    guarded = BearerGuard(StreamableHTTPASGIApp(manager), api_key(cfg.serve), guard.failures_for(cfg.serve))
    return [Route(PATH, endpoint=guarded, methods=["GET", "POST", "DELETE"])], lifespan


def passage_dict(p: Passage) -> dict:
    """A retrieved passage as JSON: where it is (file, title, date, location, offsets), its score and text."""
    return {"id": p.id, "source": p.source, "title": p.title, "published": p.published,
            "location": p.location(), "start": p.start,
            "end": p.end, "start_line": p.start_line, "end_line": p.end_line, "page": p.page,
            "score": round(p.score, 4), "text": p.text}


def _result(text: str, data: dict) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


@contextlib.contextmanager
def _as_tool_error():
    """A library error reaches the client as the tool's error message (with its hint), never a traceback."""
    try:
        yield
    except QAError as exc:
        raise ToolError(exc.message + (f" ({exc.hint})" if exc.hint else "")) from None
