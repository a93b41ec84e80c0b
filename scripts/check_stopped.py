"""After `floe platform down`: fail if any process the platform started is still alive."""

from __future__ import annotations

import json
import os
import sys

from floe.home import Home


def main() -> int:
    state_file = Home.current().run / "state.json"
    if not state_file.exists():
        return 0
    state = json.loads(state_file.read_text())
    alive = []
    for pid in [state.get("supervisor_pid"), *(s.get("pid") for s in state["services"].values())]:
        if pid:
            try:
                os.kill(pid, 0)
                alive.append(pid)
            except ProcessLookupError:
                pass
    if alive:
        print(f"check_stopped: processes still running after down: {alive}", file=sys.stderr)
        return 1
    print("check_stopped: no platform process left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
