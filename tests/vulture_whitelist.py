"""Names vulture (the dead-code check of tests/test_lint.py) takes for unused that are used, each with why:
read by a library (attributes it reads, hooks it calls), part of a signature, or public vocabulary."""
# ruff: noqa
_ = object()

# Set for the libraries that read them: Pillow's and pytesseract's globals, ONNX Runtime's session options,
# the ONNX model's IR version, httpx's transport internals (qa/llm/upstream.py, to make requests cancellable).
_.MAX_IMAGE_PIXELS
_.tesseract_cmd
_.graph_optimization_level
_.inter_op_num_threads
_.intra_op_num_threads
_.log_severity_level
_.ir_version
_._network_backend
# LangChain's Runnable and BaseRetriever hooks and pydantic's model configuration (qa/chain.py,
# qa/retrieval/langchain_retriever.py).
_.InputType
_.OutputType
_._get_relevant_documents
model_config
run_manager
# A filtered search forwards the rest to the search it wraps (qa/retrieval/hybrid.py ScopedSearch).
__getattr__
# Public vocabularies: every answer form (qa/extractive/forms.py) and the typed short-answer kinds (qa/extractive/shortanswer.py).
FORMS
TYPED
# Parameters a signature needs: a signal handler's, a box unpacked whole (ui/cli/index_cmd.py, ui/web/viewer.py).
signum
x1
# The EPUB's table of contents, which ebooklib reads when writing a sample (testkit/samples.py).
_.toc
