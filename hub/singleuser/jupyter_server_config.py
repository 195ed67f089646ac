# Config for each learner's single-user server on the one-machine hub (the hub puts this folder
# on JUPYTER_CONFIG_PATH; see hub/jupyterhub_config.py).
#
# All learners share one machine, so they share 127.0.0.1: by default jupyter-server-proxy
# would let learner A open /user/A/proxy/<port of B's TensorBoard>/ and see B's runs
# (TensorBoard has no login of its own). This allowlist only proxies a loopback port whose
# listening socket belongs to the learner's own Unix account (the socket's owner is in
# /proc/net/tcp). It closes the browser path; it cannot stop A's own code (a kernel, a
# terminal) from connecting to B's port directly -- only per-learner network namespaces
# (containers: DockerSpawner, Kubernetes / hub/z2jh-values.yaml) do that.
# ruff: noqa: F821  (`c` is provided by Jupyter)

import os
import re

LOOPBACK = {"localhost", "127.0.0.1"}
PORT_IN_PATH = re.compile(r"/proxy/(?:absolute/)?(?:[^/:]+:)?(\d+)(?:/|$)")


def own_listening_ports(uid: int) -> set[int]:
    """Ports with a LISTEN socket (state 0A) owned by ``uid``, from /proc/net/tcp and tcp6."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[7]) == uid:
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            continue
    return ports


def own_ports_only(handler, host: str) -> bool:
    if host not in LOOPBACK:
        return False
    match = PORT_IN_PATH.search(handler.request.path)
    allowed = bool(match) and int(match.group(1)) in own_listening_ports(os.getuid())
    if not allowed:
        handler.log.warning("server proxy: refused %s (not a port of this learner)",
                            handler.request.path)
    return allowed


# /proxy/<host>:<port>/ obeys ServerProxy.host_allowlist ...
c.ServerProxy.host_allowlist = own_ports_only

# ... but /proxy/<port>/ (the path TensorBoard's panel uses) does not: jupyter-server-proxy
# (handlers.py, setup_handlers, as installed: 4.x) registers LocalProxyHandler without
# host_allowlist, so it falls back to ["localhost", "127.0.0.1"]. Give it the same check.
# tests/test_hub.py fails if a learner can reach another learner's port this way.
from jupyter_server_proxy import handlers as _jsp  # noqa: E402

_local_init = _jsp.LocalProxyHandler.__init__


def _local_init_own_ports(self, *args, **kwargs):
    kwargs.setdefault("host_allowlist", own_ports_only)
    _local_init(self, *args, **kwargs)


_jsp.LocalProxyHandler.__init__ = _local_init_own_ports
