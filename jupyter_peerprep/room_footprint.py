"""What a pair server leaves out to stay light: server extensions a room does not use, and
kernels nobody is connected to.

A room serves one notebook to two students through JupyterLab with real-time collaboration,
the PeerPrep relay and terminals. The environment also enables server extensions for people
who run JupyterLab alone; a room pays for their imports and handlers in every server
(``benchmarks/room_memory.py`` measures each one). Kernels cost the most: one that no page is
connected to any more (both students closed the tab, or a client started one through the API)
is shut down after a while instead of holding its memory until the room ends.
"""

from __future__ import annotations

# Server extensions the environment enables that a room never calls: the language-server
# bridge (rooms install no language server) and the classic-notebook shim (rooms serve
# JupyterLab only). Everything else a room loads is used by the room page.
UNUSED_IN_ROOMS = ("jupyter_lsp", "notebook_shim")

# Default seconds of inactivity after which a room's kernel with no connected page is culled.
KERNEL_CULL_SECONDS = 600


def lean_room_args(kernel_cull_seconds: int = KERNEL_CULL_SECONDS) -> list[str]:
    """Server options that switch off the unused extensions and cull unconnected idle
    kernels (0 keeps every kernel until the room ends)."""
    args = [f"--ServerApp.jpserver_extensions={name}=False" for name in UNUSED_IN_ROOMS]
    if kernel_cull_seconds > 0:
        args += [
            f"--MappingKernelManager.cull_idle_timeout={kernel_cull_seconds}",
            # Check a tenth as often as the timeout (at least every minute) so a kernel is
            # culled close to its time.
            f"--MappingKernelManager.cull_interval={max(10, min(60, kernel_cull_seconds // 10))}",
            # A kernel a student's page is connected to stays: culling it would lose the
            # session's variables under the students' eyes.
            "--MappingKernelManager.cull_connected=False",
        ]
    return args
