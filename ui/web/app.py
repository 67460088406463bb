"""The web chat: `build_app(cfg)` lays out and wires the Blocks; `serve()` indexes if needed and launches."""
from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

from starlette.middleware import Middleware

from index.manager import collections
from qa.answerers import available
from qa.pipeline import Assistant, build_assistant
from ui.server import guard, ports
from ui.server.csp import SecurityHeaders
from ui.server.guard import parse_login as parse_auth  # noqa: F401 (the login's one parser, in ui/server/guard.py)
from ui.settings import Config
from ui.web import browser_chats as chats, documents_panel as documents, documents_tab, render
from ui.web.chat import Chat
from ui.web.gradio_import import gr

TITLE = "Seed QA"
INTRO = ("Answers come only from your documents. Click an answer to see its sources; click a number or a "
         "source card to open the document at the quote.")
STATIC = Path(__file__).with_name("static")
# The sources panel hands clicks on citations and cards (caught by static/app.js) to Python.
SOURCES_JS = "window.qaTrigger = (data) => trigger('click', data);"
CHAT_LIST_JS = """element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-action]');
  if (b) trigger('click', {action: b.dataset.action, chat: b.dataset.chat});
});"""
# Each time the viewer shows a document (it mounts with the first one), scroll it to the quote: on a PDF's
# drawn page (shown first) to its highlight, elsewhere to the highlighted text.
VIEWER_JS = """const toQuote = () => {
  const fig = element.querySelector('figure.qa-page[data-fy]');
  const img = fig && fig.querySelector('img');
  if (img) {
    const go = () => {
      let box = img.parentElement;  // the nearest ancestor that scrolls vertically
      while (box && box !== document.body && !(box.scrollHeight > box.clientHeight
             && /auto|scroll/.test(getComputedStyle(box).overflowY))) box = box.parentElement;
      if (!box || box === document.body) box = document.scrollingElement;
      const y = img.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
      box.scrollTop = Math.max(0, y + Number(fig.dataset.fy) * img.clientHeight - box.clientHeight / 2);
      fig.scrollLeft = Math.max(0, Number(fig.dataset.fx) * img.clientWidth - 16);
    };
    if (img.complete) go(); else img.addEventListener('load', go, {once: true});
    return;
  }
  const mark = element.querySelector('mark.qa-quote');
  if (mark) mark.scrollIntoView({block: 'center'});
};
const soon = () => { toQuote(); setTimeout(toQuote, 150); };
soon();
watch('value', soon);"""
# System fonts only: the default theme would fetch Google Fonts, and the app must work offline.
THEME = gr.themes.Soft(font=["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
                       font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"])


def serve(cfg: Config) -> None:
    """Build the index if there is none (progress on the console), then serve the chat until Ctrl-C
    (`KeyboardInterrupt`, raised once the server is closed)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    serve_cfg = cfg.serve
    serve_cfg.check_exposure()
    auth = guard.login(serve_cfg)
    ports.check_free(serve_cfg.host, serve_cfg.port)  # before the index and model, which can take minutes
    assistant = build_assistant(cfg.index, cfg.answer)
    documents.ensure_index(cfg.index, embedder=assistant.embedder)
    app = build_app(cfg, assistant)
    # Load the model, the snapshot and the conversation's sentence table, and find the example questions,
    # while the server starts: the page answers at once, and a first question, follow-up or visit waits
    # (on the model's, the views' and the examples' locks) only for what is left.
    threading.Thread(target=_warm_up, args=(assistant, app.chat), name="warm-up", daemon=True).start()
    app.queue(default_concurrency_limit=2)
    if serve_cfg.host not in ("127.0.0.1", "localhost", "::1") and not auth:  # --insecure-no-auth
        print(f"warning: serving on {serve_cfg.host} without a login (set QA_AUTH=user:password)", file=sys.stderr)
    try:  # quiet: Gradio's own lines would offer a public share link, which this offline app never makes
        app.launch(server_name=serve_cfg.host, server_port=serve_cfg.port, share=False, auth=auth, quiet=True,
                   prevent_thread_lock=True, max_file_size=int(serve_cfg.upload_limit_mb * 2**20), ssr_mode=False,
                   mcp_server=False, show_error=False, theme=THEME, footer_links=["api"],
                   css_paths=[STATIC / "app.css"], js=(STATIC / "app.js").read_text("utf-8"),
                   app_kwargs={"middleware": [*guard.middleware(serve_cfg), Middleware(SecurityHeaders)],  # Host
                               **machine_endpoints(cfg, assistant)})  # check, login attempt cap, CSP
    except OSError:
        if ports.can_bind(serve_cfg.host, serve_cfg.port):
            raise
        raise ports.in_use(serve_cfg.host, serve_cfg.port) from None  # taken while the index was opened
    print(f"* Running on local URL:  {app.local_url}", flush=True)
    # Our own wait rather than Gradio's, which swallows Ctrl-C and returns as if the server had ended.
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the shutdown
        app.close()
        raise


def machine_endpoints(cfg: Config, assistant: Assistant) -> dict:
    """The OpenAI-compatible `/v1` and MCP `/mcp` routes beside the chat (same app, same guards), and the
    lifespan the MCP transport needs, as `app_kwargs` for Gradio's FastAPI app."""
    from ui.api import mcp_server, openai_api

    mcp_routes, lifespan = mcp_server.http_routes(cfg, assistant)
    return {"routes": openai_api.routes(cfg, assistant) + mcp_routes, "lifespan": lifespan}


def _warm_up(assistant: Assistant, chat: Chat) -> None:
    try:
        assistant.embedder.embed(["warm up"])
        chat.examples.get()
        assistant.warm_up()
    except Exception:  # noqa: BLE001 - the first question meets the same error and reports it
        pass



def build_app(cfg: Config, assistant: Assistant | None = None) -> gr.Blocks:
    """The Blocks app around one `Assistant` (built from `cfg` unless given)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    assistant = assistant or build_assistant(cfg.index, cfg.answer)
    chat = Chat(cfg, assistant)
    age = max(1, int(cfg.serve.upload_cache_minutes * 60))  # uploads and downloads leave Gradio's cache
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(max(1, age // 2), age)) as app:
        gr.Markdown(f"## {TITLE}\n{INTRO}", elem_id="intro")
        store = gr.BrowserState(chats.empty(), storage_key=chats.STORAGE_KEY,
                                secret=chats.browser_secret(cfg.index.db_dir))
        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab"):
                chat_ui = _chat_tab(cfg)
            with gr.Tab("Documents", id="documents-tab"):
                docs_ui = documents_tab.build(cfg, assistant, app)
        documents_tab.wire_attach(docs_ui, chat_ui.attach, chat_ui.attach_status)
        chat_ui.viewer, chat_ui.viewer_doc, chat_ui.viewer_close = _viewer()
        chat_ui.store = store
        shown = _wire_chat(chat, chat_ui)
        app.load(chat.restore, [store], shown, api_visibility="private", queue=False)
        gr.api(chat.ask, api_name="ask", api_description="Answer a question from the documents, with citations.")
    app.chat = chat
    return app


def _chat_tab(cfg: Config) -> SimpleNamespace:
    with gr.Row(equal_height=False, elem_id="chat-row"):
        with gr.Column(scale=1, min_width=190, elem_id="chats-col"):
            new = gr.Button("New chat", elem_id="new-chat", size="sm", variant="secondary")
            chat_list = gr.HTML(render.chat_list_html([], None), elem_id="chat-list", js_on_load=CHAT_LIST_JS)
        with gr.Column(scale=4, min_width=320, elem_id="chat-col"):
            chatbot = gr.Chatbot(show_label=False, label="Conversation", elem_id="chat", height=540,
                                 render_markdown=False, latex_delimiters=[], buttons=["copy"],
                                 placeholder=render.EMPTY_CHAT, feedback_options=("Like", "Dislike"),
                                 group_consecutive_messages=False)
            with gr.Row(elem_id="ask-row"):
                question = gr.Textbox(label="Question", show_label=False, elem_id="question", scale=5, lines=1,
                                      max_lines=6, autofocus=True, submit_btn=False,
                                      placeholder="Ask about your documents (Enter sends, Shift+Enter adds a line)")
                attach = gr.UploadButton("Attach", file_count="multiple", elem_id="attach", scale=0, min_width=70,
                                         size="sm")  # or drop files on the chat (static/app.js)
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask", min_width=80)
                stop = gr.Button("Stop", variant="stop", scale=1, elem_id="stop", min_width=80, visible=False)
            attach_status = gr.Markdown("", elem_id="attach-status")
            with gr.Row(visible=False, elem_id="reason-row") as reason_row:
                reason = gr.Textbox(label="Why? (optional)", elem_id="reason", scale=5, lines=1,
                                    placeholder="What was good or wrong about this answer?")
                reason_send = gr.Button("Send", elem_id="reason-send", scale=1, min_width=80, size="sm")
            with gr.Row(elem_id="tools-row"):
                regenerate = gr.Button("Regenerate", elem_id="regenerate", size="sm")
                export_md = gr.DownloadButton("Export Markdown", elem_id="export-md", size="sm", interactive=False)
                export_json = gr.DownloadButton("Export JSON", elem_id="export-json", size="sm", interactive=False)
            backend, k, collection, where = _advanced(cfg)
        with gr.Column(scale=3, min_width=280, elem_id="sources-col"):
            sources = gr.HTML(render.PLACEHOLDER, elem_id="sources", js_on_load=SOURCES_JS)
    return SimpleNamespace(chatbot=chatbot, question=question, send=send, stop=stop, new=new, chat_list=chat_list,
                           regenerate=regenerate, export_md=export_md, export_json=export_json, backend=backend,
                           k=k, collection=collection, where=where, sources=sources, reason_row=reason_row, reason=reason, reason_send=reason_send,
                           attach=attach, attach_status=attach_status,
                           pending=gr.State(None), settled=gr.State(None), vote=gr.State(None))


def _viewer() -> tuple:
    """The document viewer, a dialog over the page (hidden until a citation is opened)."""
    with gr.Column(visible=False, elem_id="viewer") as viewer:
        with gr.Row(elem_id="viewer-bar"):
            gr.Markdown("**Cited document** · the quote is highlighted", elem_id="viewer-label")
            close = gr.Button("Close", elem_id="viewer-close", size="sm", scale=0, min_width=90)
        doc = gr.HTML("", elem_id="viewer-doc", js_on_load=VIEWER_JS)
    return viewer, doc, close


def _advanced(cfg: Config) -> tuple[gr.Dropdown, gr.Slider, gr.Dropdown, gr.Textbox]:
    names = available(cfg.answer.has_endpoint)
    kept = collections.names(cfg.index.db_dir)
    with gr.Accordion("Settings", open=False, elem_id="advanced"):
        backend = gr.Dropdown(names, value=cfg.answer.answerer if cfg.answer.answerer in names else names[0],
                              label="Answerer", elem_id="backend", visible=len(names) > 1,
                              info="extractive quotes the documents verbatim; an LLM writes a cited answer")
        k = gr.Slider(1, 20, value=cfg.answer.k, step=1, label="Passages searched per question", elem_id="k",
                      info="More passages help broad questions; the sources panel lists the ones searched "
                           "but not quoted")
        collection = gr.Dropdown(kept, value=kept[0], label="Collection", elem_id="collection",
                                 visible=len(kept) > 1, info="The document set to answer from")
        where = gr.Textbox(label="Only documents matching", elem_id="where", lines=1, max_lines=1,
                           placeholder="type=pdf; after=2024-01; source=report.md; title=budget",
                           info="Filters by file, title, date of publication and type; empty: all documents")
    return backend, k, collection, where


def _wire_chat(chat: Chat, ui: SimpleNamespace) -> list:
    """Connect the chat's events; returns the outputs that show a conversation (for the page load)."""
    store, private = ui.store, dict(api_visibility="private")
    started = [ui.pending, ui.question, ui.chatbot, ui.sources, ui.send, ui.stop, store, ui.chat_list, ui.settled]
    answered = [ui.chatbot, ui.sources, ui.pending, ui.settled]
    lists = [ui.chat_list, ui.export_md, ui.export_json]
    shown = [store, ui.chatbot, ui.sources, *lists]
    for event, fn, inputs in ((ui.question.submit, chat.start, [ui.question, store]),
                              (ui.send.click, chat.start, [ui.question, store]),
                              (ui.chatbot.example_select, chat.start_example, [store]),
                              (ui.regenerate.click, chat.start_regenerate, [store])):
        run = event(fn, inputs, started, **private).then(
            chat.respond, [ui.pending, store, ui.k, ui.backend, ui.collection, ui.where], answered,
            show_progress="hidden", **private)
        # the store as it is once the answer is in (a New chat clicked meanwhile included), not as it was asked
        run.then(chat.settle, [ui.settled, store], [store, *lists], queue=False, **private).then(
            chat.finish, None, [ui.send, ui.stop], queue=False, **private)
    ui.stop.click(chat.stopped, [ui.pending, store], [ui.chatbot, ui.sources, store, ui.pending, *lists,
                                                      ui.send, ui.stop], queue=False, **private)
    ui.chatbot.select(chat.select, [store], ui.sources, queue=False, **private).then(
        None, js="() => window.qaOpenSheet && window.qaOpenSheet()")
    ui.sources.click(chat.cite, [store], [ui.sources, ui.viewer, ui.viewer_doc], **private)
    ui.viewer_close.click(lambda: gr.update(visible=False), None, ui.viewer, queue=False, **private)
    ui.new.click(chat.new, [store], shown, queue=False, **private)
    ui.chatbot.clear(chat.new, [store], shown, queue=False, **private)
    ui.chat_list.click(chat.pick, [store], shown, queue=False, **private)
    # (queued events: only they can show Gradio's Info and Warning toasts)
    ui.chatbot.like(chat.like, [store], [ui.vote, ui.reason_row], **private)
    for event in (ui.reason.submit, ui.reason_send.click):
        event(chat.reason, [ui.vote, ui.reason], [ui.vote, ui.reason_row, ui.reason], **private)
    return shown
