#!/usr/bin/env python3
"""Renders a chat template with real Jinja2 under Hugging Face's apply_chat_template settings.

The expected strings in ChatTemplate*Tests.cs were produced with this script (Jinja2 3.1.6), so that
Kvasir's interpreter is held to the reference implementation rather than to our reading of it.

    echo '{"template": "...", "messages": [...], "add_generation_prompt": true,
           "bos_token": "<s>", "eos_token": "</s>", "extra": {...}}' | python3 jinja_oracle.py

The clock of strftime_now is fixed at 2024-07-26 15:04:05 (the tests inject the same time).
Prints the rendered text as JSON (so whitespace is visible), or {"error": "..."}.
"""
import datetime
import json
import sys

import jinja2
from jinja2.ext import loopcontrols

FIXED_NOW = datetime.datetime(2024, 7, 26, 15, 4, 5)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # Hugging Face's override of Jinja's tojson: no key sorting, no HTML escaping.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return FIXED_NOW.strftime(format)


def render(request):
    # A plain Environment rather than HF's ImmutableSandboxedEnvironment so that cases using list.append
    # (which the sandbox forbids) can be checked too; the output is the same otherwise.
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols, "jinja2.ext.do"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    template = env.from_string(request["template"])
    variables = {
        "messages": request.get("messages", []),
        "add_generation_prompt": request.get("add_generation_prompt", False),
        "tools": None,
        "documents": None,
    }
    for token in ("bos_token", "eos_token"):
        if request.get(token) is not None:
            variables[token] = request[token]
    variables.update(request.get("extra", {}))
    return template.render(**variables)


def main():
    request = json.load(sys.stdin)
    try:
        print(json.dumps(render(request), ensure_ascii=False))
    except Exception as e:  # noqa: BLE001 - the oracle reports any failure as data
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    main()
