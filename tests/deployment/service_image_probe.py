"""Runs INSIDE the service image (tests/deployment/test_service_image_grades.py): the grader as
the Kubernetes service configures it, on a Submit and a few attacks; prints one JSON object.

Standard library and PeerPrep only; the service's own config file is mounted where the pod
mounts its ConfigMap.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from traitlets.config import Config

from jupyter_peerprep.grader import Grader

SOLUTION = (
    "def pair_sum(nums, target):\n    seen = {}\n    for i, x in enumerate(nums):\n"
    "        if target - x in seen:\n            return [seen[target - x], i]\n"
    "        seen[x] = i\n    return []\n"
)
WRONG = "def pair_sum(nums, target):\n    return [0, 1]\n"
CASES = [
    {"name": "hidden 1", "args": [[2, 7, 11, 15], 9], "expected": [0, 1]},
    {"name": "hidden 2", "args": [[3, 2, 4], 6], "expected": [1, 2]},
    {"name": "hidden 3", "args": [[1, 5, 9, 13], 22], "expected": [2, 3]},
]
ATTACKS = {
    "fork bomb": "import os\ndef attack():\n    while True:\n        os.fork()\n",
    "memory bomb": (
        "def attack():\n    hog = []\n    while True:\n        hog.append(bytearray(10**7))\n"
    ),
    "busy loop": "def attack():\n    while True:\n        pass\n",
    # What the program can see of the service: its environment, its files, the network.
    "snoop": (
        "import os, socket\ndef attack():\n    seen = [k for k in os.environ]\n"
        "    for path in ('/proc/1/environ', '/etc/peerprep/peerprep_config.py',\n"
        "                 '/opt/peerprep/share/jupyter_peerprep/question_bank'):\n"
        "        try:\n"
        "            seen.append(path + ':' + open(path, 'rb').read(4000).decode('latin-1'))\n"
        "        except OSError as e:\n            seen.append(path + ': ' + type(e).__name__)\n"
        "    try:\n        socket.create_connection(('10.88.0.1', 80), timeout=1)\n"
        "        seen.append('connected')\n"
        "    except OSError as e:\n        seen.append('network: ' + type(e).__name__)\n"
        "    seen.append('uid %d' % os.getuid())\n    return seen\n"
    ),
}


def service_config(path: str) -> Config:
    """The config file as the service loads it (``c = get_config()`` and settings)."""
    config = Config()
    namespace = {"c": config, "get_config": lambda: config}
    exec(compile(Path(path).read_text(), path, "exec"), namespace)
    return config


async def main() -> None:
    config = service_config(sys.argv[1])
    grader = Grader(config=config)
    sandbox = grader.get_sandbox()
    await sandbox.check()
    out: dict[str, object] = {"backend": type(sandbox).__name__, "uid": os.getuid()}
    submit = await grader.run_cases(source=SOLUTION, entry_point="pair_sum", cases=CASES)
    out["submit"] = submit.to_json(reveal=False)
    wrong = await grader.run_cases(source=WRONG, entry_point="pair_sum", cases=CASES)
    out["wrong"] = wrong.to_json(reveal=False)
    attacks = {}
    for name, source in ATTACKS.items():
        report = await grader.run_cases(
            source=source,
            entry_point="attack",
            cases=[{"name": "x", "args": [], "expected": "unguessable"}],
            limits={"time_s": 1},
        )
        attacks[name] = report.to_json(reveal=True)
    out["attacks"] = attacks
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
