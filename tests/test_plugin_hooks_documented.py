"""Every hook of the contract is documented, in its docstring and in docs/plugin-hooks.md
(after datasette's test_plugin_hooks_are_documented); so are the values, the errors and
the helpers a plugin author uses."""
from __future__ import annotations

import dataclasses
import inspect
import re

import pytest
from conftest import ROOT

from streamdesk_contract import errors, hookspecs, pluginkit, times, values, weblinks

DOC = ROOT / "docs" / "plugin-hooks.md"
#: What pluggy's HookspecMarker("streamdesk") leaves on each hook it marks.
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "streamdesk_spec")]
VALUES = [name for name, cls in inspect.getmembers(values, inspect.isclass)
          if dataclasses.is_dataclass(cls) and cls.__module__ == values.__name__]
ERRORS = [name for name, cls in inspect.getmembers(errors, inspect.isclass)
          if issubclass(cls, errors.ProviderError) and cls.__module__ == errors.__name__]
HELPERS = [(pluginkit, "readable_answers"), (pluginkit, "Malformed"), (pluginkit, "unreadable_message"),
           (times, "parse_time"), (weblinks, "SandboxLinks")]


def sections(level: str = "###") -> dict[str, str]:
    """The doc's sections at ``level``, by heading, each with its text."""
    found, heading = {}, None
    for line in DOC.read_text().splitlines():
        if line.startswith(level + " "):
            heading = line[len(level) + 1:]
            found[heading] = ""
        elif line.startswith("#" * len(level)) or line.startswith("## "):
            heading = None
        elif heading is not None:
            found[heading] += line + "\n"
    return found


def hook_section(hook: str) -> str:
    heading = f"`{hook}{inspect.signature(getattr(hookspecs, hook))}`"
    assert heading in sections(), f"docs/plugin-hooks.md has no section headed {heading}"
    return sections()[heading]


def test_the_contract_has_hooks_to_check():
    assert "streamdesk_crawl" in HOOKS and len(HOOKS) >= 9
    assert "Story" in VALUES and "TokenExpired" in ERRORS
    assert "`ProviderError`" in sections("##")["Errors"], "the errors' base class is not described"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docstring_that_states_its_contract(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert doc, f"{hook} has no docstring"
    assert "Returns" in doc, f"{hook}'s docstring does not say what it returns"
    assert "Raises" in doc, f"{hook}'s docstring does not say what it raises"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_with_an_example(hook):
    text = hook_section(hook)
    assert re.search(r"\b[Rr]eturns?\b", text), f"the section of {hook} does not say what it returns"
    assert "```python" in text and "@hookimpl" in text, f"the section of {hook} has no example"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_error_a_hook_may_raise_is_in_its_section(hook):
    raises = (inspect.getdoc(getattr(hookspecs, hook)) or "").partition("Raises")[2]
    named = [name for name in ERRORS if re.search(rf"\b{name}\b", raises)]
    text = hook_section(hook)
    missing = [name for name in named if f"`{name}`" not in text]
    assert not missing, f"the section of {hook} omits errors its docstring names: {missing}"


def test_no_section_documents_a_hook_that_does_not_exist():
    documented = {h.strip("`").split("(")[0] for h in sections() if h.startswith("`streamdesk_")}
    assert documented == set(HOOKS)


@pytest.mark.parametrize("name", VALUES)
def test_every_value_is_documented(name):
    assert any(f"`{name}`" in heading for heading in sections()), f"docs/plugin-hooks.md has no section for {name}"


@pytest.mark.parametrize("name", [name for name in ERRORS if name != "ProviderError"])
def test_every_error_is_in_the_errors_table(name):
    assert re.search(rf"^\| `{name}\(", sections("##")["Errors"], re.M), f"{name} is not in the table of errors"


@pytest.mark.parametrize("module, name", HELPERS, ids=[name for _, name in HELPERS])
def test_every_helper_is_documented(module, name):
    assert inspect.getdoc(getattr(module, name)), f"{module.__name__}.{name} has no docstring"
    assert f"`{name}" in DOC.read_text(), f"docs/plugin-hooks.md does not mention {name}"
