"""One generation from start to finish, one module per job:

- `checks`    before anything is sent: limits, reference images, seed, a writable output folder
- `flows`     talking to the vendor: which flow, the direct, fanned-out and streamed ones, our turn per key
- `tasks`     the task flow: submit, then poll to the end (also to fetch a task submitted earlier)
- `collect`   what the vendor produced, in order: text passed on, images saved while the rest goes on
- `downloads` saving one image, and the list of what was saved or not
- `outcome`   what is kept when a run fails or is stopped
- `record`    the result and the run record (run.json)
- `run`       `Run`, which puts them together
"""

from wan26._run.context import RunContext
from wan26._run.run import Run
from wan26._run.tasks import fetch_command

__all__ = ["Run", "RunContext", "fetch_command"]
