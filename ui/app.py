"""The web chat: `build_app(cfg)` lays out and wires the Blocks; `serve()` indexes if needed and launches."""
from __future__ import annotations

import os
import sys
from types import SimpleNamespace

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry, no version check

import gradio as gr  # noqa: E402

from qa.answerers import available  # noqa: E402
from qa.pipeline import Assistant, build_assistant  # noqa: E402
from ui import documents, guard, render  # noqa: E402
from ui.chat import Chat  # noqa: E402
from ui.settings import Config  # noqa: E402
from ui.guard import parse_login as parse_auth  # noqa: E402,F401 (the login's one parser, in ui/guard.py)
from ui.upload import ALLOWED  # noqa: E402

TITLE = "Seed QA"
# System fonts only: the default theme would fetch Google Fonts, and the app must work offline.
THEME = gr.themes.Soft(font=["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
                       font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"])


def serve(cfg: Config) -> None:
    """Build the index if there is none (progress on the console), then serve the chat."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    serve_cfg = cfg.serve
    auth = guard.login(serve_cfg)
    assistant = build_assistant(cfg.index, cfg.answer)
    documents.ensure_index(cfg.index, embedder=assistant.embedder)
    assistant.embedder.embed(["warm up"])  # load the model now, not on the first question
    app = build_app(cfg, assistant)
    app.queue(default_concurrency_limit=2)
    if serve_cfg.host not in ("127.0.0.1", "localhost", "::1") and not auth:
        print(f"warning: serving on {serve_cfg.host} without a login (set QA_AUTH=user:password)", file=sys.stderr)
    app.launch(server_name=serve_cfg.host, server_port=serve_cfg.port, share=False, auth=auth,
               max_file_size=int(serve_cfg.upload_limit_mb * 2**20), ssr_mode=False, mcp_server=False,
               show_error=False, theme=THEME, footer_links=["api"],
               app_kwargs={"middleware": guard.middleware(serve_cfg)})  # Host check, login attempt cap


def build_app(cfg: Config, assistant: Assistant | None = None) -> gr.Blocks:
    """The Blocks app around one `Assistant` (built from `cfg` unless given)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    assistant = assistant or build_assistant(cfg.index, cfg.answer)
    chat = Chat(cfg, assistant)
    settings = cfg.index
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"## {TITLE}\nAnswers come only from your documents, with the cited passages on the right.")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab"):
                chat_ui = _chat_tab(cfg)
            with gr.Tab("Documents", id="documents-tab"):
                docs_ui = _documents_tab(cfg)
        _wire_chat(chat, chat_ui)
        _wire_documents(cfg, assistant, docs_ui)
        app.load(lambda: documents.table(settings), None, docs_ui.table, api_visibility="private", queue=False)
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


def _documents_tab(cfg: Config) -> SimpleNamespace:
    settings = cfg.index
    table = gr.Dataframe(documents.table(settings), headers=documents.HEADERS, interactive=False,
                         label="Indexed documents", elem_id="doc-table", wrap=True)
    with gr.Row():
        rebuild = gr.Button("Rebuild index", variant="primary", elem_id="rebuild", scale=0, min_width=160)
    types = " ".join(sorted(ALLOWED))
    upload = gr.File(file_count="multiple", label=f"Add documents ({types}; up to {cfg.serve.upload_limit_mb:g} MB)",
                     elem_id="upload", height=140)
    status = gr.Markdown("", elem_id="doc-status")
    return SimpleNamespace(table=table, rebuild=rebuild, upload=upload, status=status)


def _wire_chat(chat: Chat, ui: SimpleNamespace) -> None:
    ins = [ui.question, ui.chatbot, ui.k, ui.backend, ui.records]
    outs = [ui.chatbot, ui.sources, ui.records, ui.question]
    for event in (ui.question.submit, ui.send.click):
        event(chat.respond, ins, outs, api_visibility="private", show_progress="minimal")
    reset = lambda: ([], render.PLACEHOLDER, {}, "")  # noqa: E731
    ui.clear.click(reset, None, outs, api_visibility="private", queue=False)
    ui.chatbot.clear(reset, None, outs, api_visibility="private", queue=False)
    ui.chatbot.like(chat.like, [ui.records], None, api_visibility="private")


def _wire_documents(cfg: Config, assistant: Assistant, ui: SimpleNamespace) -> None:
    settings = cfg.index

    def rebuild(progress=gr.Progress()):
        return _build(settings, assistant, progress), documents.table(settings)

    def upload(files, progress=gr.Progress()):
        saved, messages = documents.save_all(files, settings, cfg.serve.upload_limit_mb)
        for message in messages:
            (gr.Warning if message.startswith("Refused") else gr.Info)(message)
        status = "\n".join(f"- {m}" for m in messages)
        if saved:
            status += "\n\n" + _build(settings, assistant, progress)
        return status, documents.table(settings), None

    opts = dict(api_visibility="private", concurrency_id="index", concurrency_limit=1)
    ui.rebuild.click(rebuild, None, [ui.status, ui.table], **opts)
    ui.upload.upload(upload, [ui.upload], [ui.status, ui.table, ui.upload], **opts)


def _build(settings, assistant: Assistant, progress: gr.Progress) -> str:
    """An incremental build sharing the app's model and store, reporting to a Gradio progress bar."""
    def report(stage: str, done: int, total: int) -> None:
        progress((done, total) if total else None, desc=stage, unit="chunks" if stage == "embedding" else "files")

    return documents.run_build(settings, embedder=assistant.embedder, store=assistant.store, progress=report)
