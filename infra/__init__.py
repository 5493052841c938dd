"""Infrastructure below the apps: what every app may import and none of them owns.

- ``live``: sending to channel-layer groups from any thread, and each server
  process's fan-out of group messages to its own sockets;
- ``tasks``: queueing background tasks with the write that causes them;
- ``taskworker``: the database task queue's worker that looks for work with a
  plain read;
- ``ratelimit``: fixed-window limits for anonymous endpoints;
- ``asgi``: request-body caps enforced before a body is read;
- ``db``: the embedded default's SQLite backend, whose writers queue in the
  process;
- ``server``: the ASGI server and its watchers (event-loop stalls, garbage
  collection).

Nothing here imports an app of the project.
"""
