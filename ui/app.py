"""The web chat: `build_app(cfg)` lays out and wires the Blocks; `serve()` indexes if needed and launches."""
from __future__ import annotations

import os
import sys
from types import SimpleNamespace

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry, no version check

import gradio as gr  # noqa: E402

from index.errors import UsageError  # noqa: E402
from qa.answerers import available  # noqa: E402
from qa.pipeline import Assistant, build_assistant  # noqa: E402
from ui import documents, documents_tab, render  # noqa: E402
from ui.chat import Chat  # noqa: E402
from ui.settings import Config  # noqa: E402

TITLE = "Seed QA"
# System fonts only: the default theme would fetch Google Fonts, and the app must work offline.
THEME = gr.themes.Soft(font=["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
                       font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"])


def serve(cfg: Config) -> None:
    """Build the index if there is none (progress on the console), then serve the chat."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    serve_cfg = cfg.serve
    auth = parse_auth(serve_cfg.auth)
    assistant = build_assistant(cfg.index, cfg.answer)
    documents.ensure_index(cfg.index, embedder=assistant.embedder)
    assistant.embedder.embed(["warm up"])  # load the model now, not on the first question
    app = build_app(cfg, assistant)
    app.queue(default_concurrency_limit=2)
    if serve_cfg.host not in ("127.0.0.1", "localhost", "::1") and not serve_cfg.auth:
        print(f"warning: serving on {serve_cfg.host} without a login (set QA_AUTH=user:password)", file=sys.stderr)
    app.launch(server_name=serve_cfg.host, server_port=serve_cfg.port, share=False, auth=auth,
               max_file_size=int(serve_cfg.upload_limit_mb * 2**20), ssr_mode=False, mcp_server=False,
               show_error=False, theme=THEME, footer_links=["api"])


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """`"user:password"` as Gradio's (user, password) pair; None when no login is wanted."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise UsageError("QA_AUTH must look like user:password", hint="for example QA_AUTH=alice:s3cret")
    return user, password


def build_app(cfg: Config, assistant: Assistant | None = None) -> gr.Blocks:
    """The Blocks app around one `Assistant` (built from `cfg` unless given)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    assistant = assistant or build_assistant(cfg.index, cfg.answer)
    chat = Chat(cfg, assistant)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"## {TITLE}\nAnswers come only from your documents, with the cited passages on the right.")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab"):
                chat_ui = _chat_tab(cfg)
            with gr.Tab("Documents", id="documents-tab"):
                documents_tab.build(cfg, assistant, app)
        _wire_chat(chat, chat_ui)
        gr.api(chat.ask, api_name="ask", api_description="Answer a question from the documents, with citations.")
    return app


def _chat_tab(cfg: Config) -> SimpleNamespace:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Chat", elem_id="chat", height=480, buttons=["copy"],
                                 placeholder="Ask a question about your documents.")
            with gr.Row():
                question = gr.Textbox(label="Question", show_label=False, placeholder="Ask a question…",
                                      elem_id="question", scale=5, lines=1, max_lines=4, autofocus=True)
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask", min_width=80)
            clear = gr.Button("Clear", elem_id="clear", size="sm")
            backend, k = _advanced(cfg)
        with gr.Column(scale=2):
            sources = gr.HTML(render.PLACEHOLDER, elem_id="sources", css_template=render.CSS, js_on_load=None)
    return SimpleNamespace(chatbot=chatbot, question=question, send=send, clear=clear, backend=backend, k=k,
                           sources=sources, records=gr.State({}))


def _advanced(cfg: Config) -> tuple[gr.Dropdown, gr.Slider]:
    with gr.Accordion("Advanced", open=False, elem_id="advanced"):
        names = available(cfg.answer.has_endpoint)
        backend = gr.Dropdown(names, value=cfg.answer.answerer if cfg.answer.answerer in names else names[0],
                              label="Answerer", elem_id="backend")
        k = gr.Slider(1, 20, value=cfg.answer.k, step=1, label="Passages to retrieve (k)", elem_id="k")
    return backend, k


def _wire_chat(chat: Chat, ui: SimpleNamespace) -> None:
    ins = [ui.question, ui.chatbot, ui.k, ui.backend, ui.records]
    outs = [ui.chatbot, ui.sources, ui.records, ui.question]
    for event in (ui.question.submit, ui.send.click):
        event(chat.respond, ins, outs, api_visibility="private", show_progress="minimal")
    reset = lambda: ([], render.PLACEHOLDER, {}, "")  # noqa: E731
    ui.clear.click(reset, None, outs, api_visibility="private", queue=False)
    ui.chatbot.clear(reset, None, outs, api_visibility="private", queue=False)
    ui.chatbot.like(chat.like, [ui.records], None, api_visibility="private")
