"""The README's example of unmodified aiohttp and httpx programs runs and says what it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_programs_example_runs():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Your own asyncio programs"):]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    digest = re.search(r"# \('(\w+)', '(\w+)', ([\d.]+)", code)
    printed = eval(out.getvalue())  # noqa: S307 - the tuple the example prints
    assert printed[:2] == (digest.group(1), digest.group(2))
    # the virtual time the example took: what the comment says, within what TCP changes may move it
    assert abs(printed[2] - float(digest.group(3).rstrip("."))) < 10
