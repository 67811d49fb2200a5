"""The kernel spec manager of pair servers: only the allowed kernels can be listed *or started*.

jupyter_client's ``KernelSpecManager.allowed_kernelspecs`` hides the other specs from the list
(``GET /api/kernelspecs``) but still starts any of them by name (``POST /api/kernels`` with
``{"name": "python3"}``; ``python3`` even without a spec directory, from ipykernel). A room's
code or either student could so start the unlimited kernel. This subclass refuses that too.
"""

from __future__ import annotations

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel


class AllowedKernelSpecManager(KernelSpecManager):
    """A KernelSpecManager whose ``allowed_kernelspecs`` also bounds what can be started."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if self.allowed_kernelspecs and kernel_name not in self.allowed_kernelspecs:
            raise NoSuchKernel(kernel_name)
        spec: KernelSpec = super().get_kernel_spec(kernel_name)
        return spec
