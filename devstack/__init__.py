"""Run the whole shop on one machine with only Python: `python -m devstack demo`.

Real servers come from PyPI packages (see `devstack.servers`), the process types from the
Procfile (run by `devstack.demo` under `devstack.supervisor`, which restarts one that dies).
"""
