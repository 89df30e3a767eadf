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
    expected = re.search(r"# \(('13aea96040f2', '13aea96040f2', 37\.67)", code).group(1)
    assert out.getvalue().startswith("(" + expected)
