"""Text extraction per file format, each through a well-kept library (one small module per family).

Every reader returns a `LoadedDoc` whose `text` it reproduces exactly on every read (citations quote
`text[start:end]`) and whose segments say where each part is in the original: a page, a slide, a sheet's
rows, a chapter, a message. The registry of extensions is `index.ingest.load.FORMATS`.
"""
