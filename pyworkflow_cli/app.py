"""What every command shares: the global options, and the config, workflows and
manager they lead to, each built on first use so ``--help`` builds nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .config import Config, load_config

if TYPE_CHECKING:
    from pyworkflow.backend.base import Backend
    from pyworkflow.manager import Manager
    from pyworkflow.workflow import Workflow

    from .health import PollHealth


@dataclass
class App:
    config_path: str | None = None
    debug: bool = False
    json: bool = False
    # False in commands that only read or steer existing processes: they open
    # a database that exists and never create one.
    create_storage: bool = True
    # True in commands that only read (list, show, history, wait, the web UI): a
    # SQLite database is then opened read-only, so they work without write access
    # and never write, not even a deadline that has passed.
    read_only: bool = False
    _config: Config | None = field(default=None, repr=False)
    _workflows: list[type[Workflow]] | None = field(default=None, repr=False)
    _backend: Backend | None = field(default=None, repr=False)
    _manager: Manager | None = field(default=None, repr=False)
    _reader: Manager | None = field(default=None, repr=False)
    # Shared by the workers a command runs (see pyworkflow_cli.health).
    health: PollHealth | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def workflows(self) -> list[type[Workflow]]:
        """Plugins first (they may register things workflows rely on), then workflows."""
        if self._workflows is None:
            from .loading import import_plugins, load_all

            config = self.config
            import_plugins(config.plugins, config.name)
            self._workflows = load_all(config.workflows, config.name)
        return self._workflows

    def workflow(self, name: str) -> type[Workflow]:
        """The workflow ``name`` names, registered with the manager if it came from a path."""
        from .loading import check_names, find_workflow

        workflow = find_workflow(name, self.workflows)
        if workflow not in self.workflows:
            check_names([*self.workflows, workflow], name)
            self.workflows.append(workflow)
            if self._manager is not None:
                self._manager.register_workflow(workflow)
        return workflow

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            from .backends import create_backend

            self._backend = create_backend(
                self.config, create=self.create_storage, read_only=self.read_only
            )
        return self._backend

    @property
    def manager(self) -> Manager:
        if self._manager is None:
            from pyworkflow.manager import Manager

            workflows = self.workflows  # import errors before touching storage
            self._manager = Manager(self.backend, workflows)
        return self._manager

    @property
    def reader(self) -> Manager:
        """A manager for commands that read or steer processes: it opens the
        existing storage and imports no workflow code, which those commands never
        run, so they work from any directory and any virtualenv."""
        if self._manager is not None:
            return self._manager
        if self._reader is None:
            from pyworkflow.manager import Manager

            self.create_storage = False
            self._reader = Manager(self.backend, [])
        return self._reader

    def close(self) -> None:
        if self._backend is not None:
            backend, self._backend = self._backend, None
            backend.close()
