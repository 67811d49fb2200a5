"""Validation of a question's other languages, in the grader's sandbox.

For every language of ``spec["languages"]`` (JavaScript, TypeScript): the reference solution
passes every public and hidden case (hidden cases already resolved by the Python reference, so
all languages answer the same cases), and the starter fails at least one hidden case; with
``complexity``, the solution's measured growth is compared with the expected class (a warning).
Findings name the ``solution:<language>`` / ``starter:<language>`` cell.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .languages import language_tag
from .problems import ProblemList
from .vocabulary import TAG_HIDDEN, TAG_PUBLIC, TAG_SOLUTION, TAG_STARTER


async def validate_other_languages(
    resolved: dict[str, Any],
    grader: Any,
    found: ProblemList,
    *,
    check_starter: bool,
    complexity: bool,
    describe: Any,
) -> dict[str, Any]:
    """Run every language's solution and starter; add findings; return measured growth."""
    languages = resolved.get("languages") or {}
    if not languages:
        return {}
    public = [_plain(c) for c in resolved["public_tests"]]
    hidden = [_plain(c) for c in resolved["hidden_tests"]]
    common = {
        "entry_point": resolved["entry_point"],
        "checker": resolved["checker"],
        "checker_source": resolved.get("checker_source"),
        "limits": resolved["limits"],
    }
    cells = resolved.get("cells") or {}

    async def one(language: str, sources: dict[str, str]) -> dict[str, Any] | None:
        runs = [
            grader.run_cases(
                source=sources[TAG_SOLUTION], cases=public + hidden, language=language, **common
            )
        ]
        if check_starter:
            runs.append(
                grader.run_cases(
                    source=sources[TAG_STARTER], cases=hidden, language=language, **common
                )
            )
        reports = await asyncio.gather(*runs)
        solution_tag = language_tag(TAG_SOLUTION, language)
        for index, case in enumerate(reports[0].to_json(reveal=True)["cases"]):
            if case.get("passed"):
                continue
            tag, i = (
                (TAG_PUBLIC, index) if index < len(public) else (TAG_HIDDEN, index - len(public))
            )
            found.add(
                f"the {language} reference solution fails a test: {describe(case)}",
                cell=cells.get(solution_tag),
                tag=solution_tag,
                field=f"{tag}[{i}] {case['name']!r}",
            )
        if check_starter and all(c.passed for c in reports[1].cases):
            found.add(
                f"the {language} starter passes every hidden test; it must fail at least one",
                cell=cells.get(language_tag(TAG_STARTER, language)),
                tag=language_tag(TAG_STARTER, language),
                field="source",
            )
        block = resolved.get("complexity")
        if not (complexity and block and resolved.get("generator")):
            return None
        report = await grader.measure_complexity(
            source=sources[TAG_SOLUTION],
            entry_point=resolved["entry_point"],
            generator=resolved["generator"],
            sizes=block["sizes"],
            expected=block["expected"],
            repeats=block["repeats"],
            limits=resolved["limits"],
            language=language,
        )
        measured: dict[str, Any] = report.to_json()
        if block["expected"] and not measured.get("matches"):
            found.add(
                f"the {language} reference solution measured {measured.get('estimate')}, "
                f"expected {block['expected']}",
                cell=cells.get(solution_tag),
                tag=solution_tag,
                field="peerprep.complexity.expected",
                severity="warning",
            )
        return measured

    names = sorted(languages)
    results = await asyncio.gather(*(one(name, languages[name]) for name in names))
    return {name: result for name, result in zip(names, results, strict=True) if result}


def _plain(case: dict[str, Any]) -> dict[str, Any]:
    return {"name": case["name"], "args": case["args"], "expected": case["expected"]}
