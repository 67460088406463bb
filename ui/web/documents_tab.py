"""The chat's Documents tab: the document manager (status of every document; remove, exclude, include,
re-index, download one), uploads checked before saving (a name conflict asks first), and a rebuild that
shows its progress file by file and can be cancelled. `build(cfg, assistant, app)` lays it out inside
the current tab and wires it; the logic lives in `ui.web.documents_panel` and `index.manager.catalog`.

A build runs in a background thread while its event handler yields the progress; Cancel sets a flag the
build checks between files and commit groups, so a cancelled build stops cleanly and consistently (what
was committed stays indexed, the rest waits for the next build).
"""
from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterator

from index.errors import QAError
from index.manager import catalog
from qa.pipeline import Assistant
from ui.settings import Config
from ui.web import documents_panel as documents
from ui.web.gradio_import import gr
from ui.web.render import error_text
from ui.web.upload import ALLOWED, KEEP_BOTH, REPLACE

POLL = 0.3  # seconds between progress updates
ATTACH_CONFLICT = "\n\nA different document with this name is already there: choose in the Documents tab."
# File, Status, Title, Pages, Chunks, Published, Indexed, Note (documents.HEADERS): short columns stay legible
COLUMN_WIDTHS = ["210px", "90px", "280px", "90px", "80px", "110px", "150px", "220px"]
PRIVATE = dict(api_visibility="private")
BUILDS = dict(PRIVATE, concurrency_id="index", concurrency_limit=1)


def build(cfg: Config, assistant: Assistant, app: gr.Blocks) -> SimpleNamespace:
    """Lay out the Documents tab (call inside its `gr.Tab`) and wire its events; returns its components."""
    tab = DocumentsTab(cfg, assistant)
    ui = _layout(cfg)
    tab.wire(ui, app)
    ui.tab = tab
    return ui


def wire_attach(ui: SimpleNamespace, attach: gr.UploadButton, status: gr.Markdown) -> None:
    """Files attached to (or dropped on) the chat box: the same checks, saving and indexing as the tab's
    upload (`ui` is what `build` returned), the tab updated too, and the progress shown under the chat box."""
    after = [ui.status, ui.table, ui.pick, ui.counts, ui.cancel, ui.upload, ui.conflict_row, ui.conflict_text,
             ui.pending]
    attach.upload(ui.tab.attached, attach, after + [status], **BUILDS)


def _layout(cfg: Config) -> SimpleNamespace:
    counts = gr.Markdown("", elem_id="doc-counts")
    table = gr.Dataframe(headers=documents.HEADERS, interactive=False, label="Documents", elem_id="doc-table",
                         wrap=True, column_widths=COLUMN_WIDTHS)
    with gr.Row(equal_height=False, elem_id="doc-actions"):  # buttons level with the menu, not stretched
        pick = gr.Dropdown([], label="Document", elem_id="doc-pick", scale=3, allow_custom_value=False)
        exclude = gr.Button("Exclude from answers", size="sm", elem_id="doc-exclude", scale=1, min_width=120)
        include = gr.Button("Include in answers", size="sm", elem_id="doc-include", scale=1, min_width=120)
        reindex = gr.Button("Re-index", size="sm", elem_id="doc-reindex", scale=1, min_width=90)
        remove = gr.Button("Remove…", size="sm", variant="stop", elem_id="doc-remove", scale=1, min_width=90)
        download = gr.DownloadButton("Download", size="sm", elem_id="doc-download", scale=1, min_width=90, interactive=False)
    with gr.Row(visible=False, elem_id="doc-confirm-row") as confirm_row:
        confirm_text = gr.Markdown("", elem_id="doc-confirm-text")
        confirm = gr.Button("Yes, remove it", variant="stop", elem_id="doc-remove-confirm", scale=0)
        keep = gr.Button("Keep it", elem_id="doc-remove-keep", scale=0)
    with gr.Row():
        rebuild = gr.Button("Rebuild index", variant="primary", elem_id="rebuild", scale=0, min_width=160)
        cancel = gr.Button("Cancel build", elem_id="rebuild-cancel", scale=0, min_width=150, visible=False)
    serve = cfg.serve
    gr.Markdown(f"**Add documents**: {' '.join(sorted(ALLOWED))}; up to {serve.upload_limit_mb:g} MB each, "
                f"{serve.upload_max_files} files and {serve.upload_total_mb:g} MB at a time. They are checked, "
                "saved in the documents folder and indexed at once.", elem_id="upload-help")
    upload = gr.File(file_count="multiple", elem_id="upload", label="Add documents", show_label=False)
    with gr.Row(visible=False, elem_id="upload-conflict-row") as conflict_row:
        conflict_text = gr.Markdown("", elem_id="upload-conflict-text")
        replace = gr.Button("Replace", variant="stop", elem_id="upload-replace", scale=0)
        keep_both = gr.Button("Keep both", elem_id="upload-keep-both", scale=0)
        skip = gr.Button("Don't add", elem_id="upload-skip", scale=0)
    status = gr.Markdown("", elem_id="doc-status")
    return SimpleNamespace(counts=counts, table=table, pick=pick, exclude=exclude, include=include,
                           reindex=reindex, remove=remove, download=download, confirm_row=confirm_row,
                           confirm_text=confirm_text, confirm=confirm, keep=keep, rebuild=rebuild, cancel=cancel,
                           upload=upload, conflict_row=conflict_row, conflict_text=conflict_text, replace=replace,
                           keep_both=keep_both, skip=skip, status=status, pending=gr.State([]))


class DocumentsTab:
    """The tab's handlers around the app's one `Assistant` (its model and store are shared by builds)."""

    def __init__(self, cfg: Config, assistant: Assistant):
        self.settings, self.serve, self.assistant = cfg.index, cfg.serve, assistant
        self.cancelled = threading.Event()

    # --- wiring ------------------------------------------------------------------------------------------

    def wire(self, ui: SimpleNamespace, app: gr.Blocks) -> None:
        """Connect the components to the handlers."""
        view = [ui.status, ui.table, ui.pick, ui.counts]
        built = view + [ui.cancel]  # a build also shows Cancel while it runs, and hides it when done
        app.load(self.view, None, view[1:], queue=False, **PRIVATE)
        ui.table.select(self.pick_row, None, ui.pick, queue=False, **PRIVATE)
        ui.pick.change(self.download, ui.pick, ui.download, queue=False, **PRIVATE)
        ui.exclude.click(lambda s: self.toggle(s, True), ui.pick, view, **PRIVATE)
        ui.include.click(lambda s: self.toggle(s, False), ui.pick, view, **PRIVATE)
        ui.reindex.click(self.reindex, ui.pick, built, **BUILDS)
        ui.remove.click(self.ask_remove, ui.pick, [ui.confirm_row, ui.confirm_text], queue=False, **PRIVATE)
        ui.keep.click(lambda: gr.Row(visible=False), None, ui.confirm_row, queue=False, **PRIVATE)
        ui.confirm.click(lambda: gr.Row(visible=False), None, ui.confirm_row, queue=False, **PRIVATE).then(
            self.remove, ui.pick, built, **BUILDS)
        ui.rebuild.click(self.rebuild, None, built, **BUILDS)
        ui.cancel.click(self.cancel, None, None, queue=False, **PRIVATE)
        after = built + [ui.upload, ui.conflict_row, ui.conflict_text, ui.pending]
        ui.upload.upload(self.upload, ui.upload, after, **BUILDS)
        ui.replace.click(self.replace_existing, ui.pending, after, **BUILDS)
        ui.keep_both.click(self.keep_both, ui.pending, after, **BUILDS)
        ui.skip.click(self.skip_uploads, ui.pending, after, **BUILDS)

    # --- the view ----------------------------------------------------------------------------------------

    def view(self) -> tuple:
        """(table rows, document menu, counts) as they are now."""
        try:
            docs = catalog.documents(self.settings)
        except QAError as exc:
            return [], gr.Dropdown(choices=[]), error_text(exc)
        names = [d.source for d in docs]
        counts = {s: sum(1 for d in docs if d.status == s) for s in (catalog.INDEXED, catalog.SKIPPED, catalog.PENDING)}
        excluded = sum(1 for d in docs if d.excluded)
        text = " · ".join(f"{n} {s}" for s, n in counts.items()) + (f" · {excluded} excluded" if excluded else "")
        return [documents.row(d) for d in docs], gr.Dropdown(choices=names), text

    def _with_view(self, status: str) -> tuple:
        return (status, *self.view())

    def pick_row(self, evt: gr.SelectData) -> str:
        """Selecting a table row picks its document."""
        row = evt.row_value if evt.row_value is not None else []
        return row[0] if row else gr.skip()

    def download(self, source: str | None):
        """The picked document's original, copied to a temp folder for the browser to download."""
        if not source:
            return gr.DownloadButton(value=None, interactive=False)
        try:
            original = catalog.original(self.settings, source)
        except QAError:
            return gr.DownloadButton(value=None, interactive=False)
        folder = Path(tempfile.mkdtemp(prefix="qa-download-"))
        return gr.DownloadButton(value=str(shutil.copyfile(original, folder / original.name)), interactive=True)

    # --- actions ---------------------------------------------------------------------------------------

    def toggle(self, source: str | None, excluded: bool) -> tuple:
        """Exclude the picked document from answers (or include it again)."""
        if not source:
            return self._with_view("Pick a document first.")
        try:
            catalog.exclude(self.settings, [source], excluded)
        except QAError as exc:
            return self._with_view(f"**Not changed:** {error_text(exc)}")
        verb = "is now left out of answers (still indexed)" if excluded else "is used in answers again"
        return self._with_view(f"`{source}` {verb}.")

    def ask_remove(self, source: str | None):
        """Show the confirmation before deleting a file."""
        if not source:
            return gr.Row(visible=False), ""
        return gr.Row(visible=True), f"Remove `{source}`? This deletes the file from the documents folder."

    def remove(self, source: str | None) -> Iterator[tuple]:
        """Delete the picked document and its passages (by an incremental build, with progress)."""
        if not source:
            yield (*self._with_view("Pick a document first."), gr.skip())
            return
        yield from self._build(lambda args: _removed(self.settings, source, args), f"Removing `{source}`…")

    def reindex(self, source: str | None) -> Iterator[tuple]:
        """Read and embed the picked document again."""
        if not source:
            yield (*self._with_view("Pick a document first."), gr.skip())
            return
        yield from self._build(lambda args: _built(lambda: catalog.reindex(self.settings, [source], **args)),
                               f"Re-indexing `{source}`…")

    def rebuild(self) -> Iterator[tuple]:
        """An incremental build of the whole folder, with progress per file."""
        yield from self._build(lambda args: documents.run_build(self.settings, **args), "Rebuilding…")

    def cancel(self) -> None:
        """Ask the running build to stop after the current file."""
        self.cancelled.set()
        gr.Info("Cancelling: the build stops after the current file.")

    def upload(self, files) -> Iterator[tuple]:
        """Check and save the uploaded files (nothing written for a refused one); then index the new ones."""
        yield from self._upload(list(files or ()), None)

    def attached(self, files) -> Iterator[tuple]:
        """`upload` for files attached in the chat: its outputs, then the status again for the chat box."""
        for out in self._upload(list(files or ()), None):
            waiting = isinstance(out[-1], list) and bool(out[-1])
            yield (*out, out[0] + (ATTACH_CONFLICT if waiting else ""))

    def replace_existing(self, pending: list) -> Iterator[tuple]:
        """Replace the existing documents with the waiting uploads of the same names."""
        yield from self.resolve(pending, REPLACE)

    def keep_both(self, pending: list) -> Iterator[tuple]:
        """Save the waiting uploads under new names (`name-2.ext`)."""
        yield from self.resolve(pending, KEEP_BOTH)

    def skip_uploads(self, pending: list) -> Iterator[tuple]:
        """Drop the waiting uploads."""
        yield from self.resolve(pending, None)

    def resolve(self, pending: list, choice: str | None) -> Iterator[tuple]:
        """The user's answer for uploads named like existing documents: replace, keep both, or don't add."""
        if choice is None:
            yield (f"Not added: {', '.join(f'`{n}`' for _, n in pending or ())}.", *self.view(), gr.skip(),
                   None, gr.Row(visible=False), "", [])
            return
        yield from self._upload([tuple(p) for p in pending or ()], choice)

    def _upload(self, files: list, on_conflict: str | None) -> Iterator[tuple]:
        yield (f"Checking {len(files)} file{'s' if len(files) != 1 else ''}…", *[gr.skip()] * 8)
        result = documents.save_all(files, self.settings, self.serve, on_conflict)
        (gr.Warning if result.refused else gr.Info)(result.summary())
        listed = "\n".join(f"- {m}" for m in result.messages)
        conflict = _conflict_text(result.conflicts)
        tail = (None, gr.Row(visible=bool(result.conflicts)), conflict, result.conflicts)
        if not result.saved:
            yield (listed, *self.view(), gr.skip(), *tail)
            return
        for update in self._build(lambda args: documents.run_build(self.settings, **args), "Indexing…",
                                  header=listed + "\n\n"):
            yield (*update, *tail)

    # --- running a build with progress --------------------------------------------------------------

    def _build(self, work: Callable[[dict], str], intro: str, header: str = "") -> Iterator[tuple]:
        """Run `work(build_args)` in a thread; yield (status, table, menu, counts, Cancel) with its progress:
        `header` and `intro` while it runs (Cancel shown), then `header` and the report (Cancel hidden)."""
        self.cancelled.clear()
        state: dict = {}
        args = dict(embedder=self.assistant.embedder, store=self.assistant.store, cancel=self.cancelled.is_set,
                    progress=lambda stage, done, total: state.update(stage=(stage, done, total)),
                    on_file=lambda source, n, total: state.update(file=(source, n, total)))
        result: dict = {}
        worker = threading.Thread(target=lambda: result.update(text=_safely(work, args)), daemon=True)
        worker.start()
        running = gr.update(visible=True)
        yield header + intro, gr.skip(), gr.skip(), gr.skip(), running
        while worker.is_alive():
            worker.join(POLL)
            if worker.is_alive():
                yield header + intro + _progress_text(state, self.cancelled.is_set()), *[gr.skip()] * 3, running
        yield (*self._with_view(header + result.get("text", "")), gr.update(visible=False))


def _safely(work: Callable[[dict], str], args: dict) -> str:
    try:
        return work(args)
    except QAError as exc:
        return f"**Index not updated:** {error_text(exc)}"
    except Exception as exc:  # noqa: BLE001 (the edge: a failure is a message, never a traceback)
        return f"**Index not updated:** {error_text(exc)}"


def _built(run: Callable) -> str:
    return documents.report_markdown(run())


def _removed(settings, source: str, args: dict) -> str:
    report = catalog.remove(settings, [source], **args)
    text = f"Removed `{source}`."
    return text + ("\n\n" + documents.report_markdown(report) if report else " No indexed documents are left.")


def _progress_text(state: dict, cancelling: bool) -> str:
    lines = []
    if "file" in state:
        source, n, total = state["file"]
        lines.append(f"Reading file {n} of {total}: `{source}`")
    if "stage" in state and state["stage"][0] != "reading":
        stage, done, total = state["stage"]
        lines.append(f"{stage.capitalize()}: {done} of {total}" + (" passages" if stage == "embedding" else ""))
    if cancelling:
        lines.append("Cancelling after the current file…")
    return "\n\n" + "\n\n".join(lines) if lines else ""


def _conflict_text(conflicts: list) -> str:
    if not conflicts:
        return ""
    names = ", ".join(f"`{n}`" for _, n in conflicts)
    return f"{names}: a different document with this name is already there. Replace it, keep both, or don't add?"
