"""Photo recognition: what a resident's photo shows, as tags mapped to service types.

Staff-facing only: tags help triage and let staff filter cases; they are never shown to the
public as fact. The model runs offline (onnxruntime, weights from an installed package).
See docs/vision.md.
"""
