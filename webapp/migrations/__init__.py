"""Ordered schema migrations (``NNNN_name.py``), applied by ``streamdesk migrate``.

Each file declares frozen copies of the models it creates, so an old migration keeps
working however the application models change later.
"""
