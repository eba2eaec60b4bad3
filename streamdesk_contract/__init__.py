"""The provider plugin contract of Streamdesk, apart from the web app.

Everything a provider plugin (or an emulator) needs and nothing else: the hooks
(:mod:`.hookspecs`), the plain values that cross the boundary (:mod:`.values`), the typed
errors (:mod:`.errors`) and the helpers for plugin authors (:mod:`.pluginkit`). It imports
neither Flask nor peewee nor :mod:`webapp`, so a plugin and its tests run without the web
app; docs/plugin-hooks.md describes it.
"""
