"""The fixed words of the question format: difficulties, topics, checkers, complexity classes.

Topics are a closed vocabulary so that the lobby can offer them as choices and matching can
compare them; a question notebook naming a topic outside this list does not validate. Adding a
topic is a code change here (and in the docs, ``docs/reference/question-format.md``).
"""

from __future__ import annotations

import re

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")

TOPICS: tuple[str, ...] = (
    "arrays",
    "strings",
    "hash-maps",
    "two-pointers",
    "sliding-window",
    "stacks-queues",
    "linked-lists",
    "trees",
    "graphs",
    "heaps",
    "binary-search",
    "dynamic-programming",
    "greedy",
    "backtracking",
    "bit-manipulation",
    "math",
    "sorting",
    "intervals",
    "recursion",
    "matrix",
    "prefix-sums",
    "design",
)

# Languages a question can be solved in: Python (the base cells) and, through Deno, the
# languages of ``starter:<language>`` / ``solution:<language>`` cells (questions/languages.py).
LANGUAGES: tuple[str, ...] = ("python", "javascript", "typescript")

# "float:<tolerance>" is matched by FLOAT_CHECKER; the others are literal names.
CHECKERS: tuple[str, ...] = ("exact", "unordered", "float:<tolerance>", "custom")
FLOAT_CHECKER = re.compile(r"^float:(?P<tol>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")

# The growth classes the grader's estimator fits (grader/complexity.py MODELS); the expected
# class of a question must be one of them so that Run can say whether it matches.
COMPLEXITY_CLASSES: tuple[str, ...] = (
    "O(1)",
    "O(log n)",
    "O(n)",
    "O(n log n)",
    "O(n^2)",
    "O(n^3)",
    "O(2^n)",
)

QUESTION_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ID_LENGTH = 100
MAX_TITLE_LENGTH = 200

# Cell tags of the authoring notebook.
TAG_PROMPT = "prompt"
TAG_STARTER = "starter"
TAG_SOLUTION = "solution"
TAG_PUBLIC = "public-tests"
TAG_HIDDEN = "hidden-tests"
TAG_GENERATOR = "generator"
TAG_CHECKER = "checker"
CELL_TAGS: tuple[str, ...] = (
    TAG_PROMPT,
    TAG_STARTER,
    TAG_SOLUTION,
    TAG_PUBLIC,
    TAG_HIDDEN,
    TAG_GENERATOR,
    TAG_CHECKER,
)


def is_valid_checker(name: str) -> bool:
    return name in ("exact", "unordered", "custom") or FLOAT_CHECKER.match(name) is not None
