"""What every CLI command needs: settings and, lazily, the workflow on a migrated store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fuseshare import bootstrap
from fuseshare.config import Settings, load_settings
from fuseshare.workflow import Actor, Workflow


@dataclass
class CliState:
    config_file: Path | None = None
    _settings: Settings | None = None
    _workflow: Workflow | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_file)
        return self._settings

    @property
    def workflow(self) -> Workflow:
        if self._workflow is None:
            self._workflow = bootstrap.build_workflow(self.settings, migrate="auto")
        return self._workflow

    @property
    def actor(self) -> Actor:
        return Actor.cli()


STATE = CliState()
