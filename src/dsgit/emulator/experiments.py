"""In-experience experiments: enough of the experimentation API to lock config keys.

An experiment varies one ``InExperienceConfig`` key; while it is ``EXPERIMENT_STATE_RUNNING``
the key, its conditional values and the rules they use are locked (Roblox's experiments guide:
"Config changes while an experiment runs"). Roblox's mutating calls are asynchronous
operations; here every operation is done when it is answered.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from dsgit.emulator.api_error import invalid, not_found
from dsgit.emulator.clock import format_time
from dsgit.emulator.configs import ConfigsState
from dsgit.emulator.configs_edit import canonical
from dsgit.emulator.database import Database

__all__ = ["RUNNING", "STATES", "ExperimentsState", "config_key", "public", "summary"]

RUNNING = "EXPERIMENT_STATE_RUNNING"
STATES = (
    "EXPERIMENT_STATE_DRAFT",
    "EXPERIMENT_STATE_SCHEDULED",
    RUNNING,
    "EXPERIMENT_STATE_COMPLETED",
    "EXPERIMENT_STATE_CANCELLED",
    "EXPERIMENT_STATE_DELETED",
)
_IN_GAME = "EXPERIMENT_PRODUCT_TYPE_IN_GAME_CONFIGS"
_REPOSITORY = "InExperienceConfig"
_MAX_VARIANTS = 3  # one baseline and up to two treatments
_DEFAULT_METRIC = "UNIVERSE_EXPERIMENT_METRIC_DAY_1_RETENTION"


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"errorType": f"EXPERIMENT_API_ERROR_TYPE_{kind}", "errorMessage": message}


def config_key(experiment: Mapping[str, Any]) -> str | None:
    """The config key an in-experience experiment varies (the same in every variant)."""
    configuration = experiment.get("experimentConfiguration") or {}
    in_game = configuration.get("inGameConfigExperimentConfiguration") or {}
    for variant in in_game.get("variants") or []:
        key = (variant.get("configEntry") or {}).get("key")
        if isinstance(key, str) and key:
            return key
    return None


class ExperimentsState:
    """Experiments of every universe, and the config keys the running ones lock."""

    def __init__(self, db: Database, configs: ConfigsState) -> None:
        self._db = db
        self._configs = configs
        configs.lock_with(self.locked_keys)

    # --- reads ----------------------------------------------------------------------------
    def locked_keys(self, conn: sqlite3.Connection, universe: int) -> dict[str, str]:
        """``key -> experiment id`` for every running experiment of ``universe``."""
        locked: dict[str, str] = {}
        for experiment in self._all(conn, universe):
            key = config_key(experiment)
            if experiment["state"] == RUNNING and key is not None:
                locked[key] = experiment["id"]
        return locked

    def _all(self, conn: sqlite3.Connection, universe: int) -> list[dict[str, Any]]:
        rows = conn.execute(
            "SELECT body FROM experiments WHERE universe=? ORDER BY created, id", (universe,)
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def list(self, universe: int) -> list[dict[str, Any]]:
        with self._db.read() as conn:
            return self._all(conn, universe)

    def get(self, universe: int, experiment_id: str) -> dict[str, Any]:
        with self._db.read() as conn:
            return self._get(conn, universe, experiment_id)

    def _get(self, conn: sqlite3.Connection, universe: int, experiment_id: str) -> dict[str, Any]:
        row = conn.execute(
            "SELECT body FROM experiments WHERE universe=? AND id=?", (universe, experiment_id)
        ).fetchone()
        if row is None:
            raise not_found(f"experiment {experiment_id!r} not found")
        body: dict[str, Any] = json.loads(row[0])
        return body

    def operation(self, universe: int, operation_id: str) -> dict[str, Any]:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT body FROM experiment_ops WHERE universe=? AND id=?",
                (universe, operation_id),
            ).fetchone()
        if row is None:
            raise not_found(f"operation {operation_id!r} not found")
        body: dict[str, Any] = json.loads(row[0])
        return body

    # --- writes ---------------------------------------------------------------------------
    def _save(self, conn: sqlite3.Connection, universe: int, experiment: dict[str, Any]) -> None:
        conn.execute(
            "INSERT INTO experiments (universe, id, created, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (universe, id) DO UPDATE SET body=excluded.body",
            (universe, experiment["id"], experiment["_created"], canonical(experiment)),
        )

    def _operation(
        self,
        conn: sqlite3.Connection,
        universe: int,
        now: int,
        status: str,
        experiment: dict[str, Any] | None,
        error: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        count = conn.execute(
            "SELECT COUNT(*) FROM experiment_ops WHERE universe=?", (universe,)
        ).fetchone()[0]
        operation: dict[str, Any] = {
            "operationId": f"op_{hashlib.sha256(f'{universe}/{count}'.encode()).hexdigest()[:16]}",
            "status": status,
            "createdTime": format_time(now),
            "done": True,
            "error": error,
            "experiment": public(experiment) if experiment is not None and error is None else None,
        }
        conn.execute(
            "INSERT INTO experiment_ops (universe, id, body) VALUES (?, ?, ?)",
            (universe, operation["operationId"], canonical(operation)),
        )
        return operation

    def create(self, universe: int, body: Mapping[str, Any], now: int) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("an experiment needs a name")
        configuration = body.get("experimentConfiguration")
        if not isinstance(configuration, dict) or configuration.get("productType") != _IN_GAME:
            raise invalid(f"only {_IN_GAME} experiments are emulated")
        variants = (configuration.get("inGameConfigExperimentConfiguration") or {}).get("variants")
        if not isinstance(variants, list) or not 2 <= len(variants) <= _MAX_VARIANTS:
            raise invalid(f"an experiment has a baseline and 1 to {_MAX_VARIANTS - 1} variants")
        baselines = sum(1 for v in variants if (v.get("variantMeta") or {}).get("isBaseline"))
        keys = {(v.get("configEntry") or {}).get("key") for v in variants}
        with self._db.write() as conn:
            if baselines != 1:
                error = _error("MUST_HAVE_EXACTLY_ONE_BASELINE_VARIANT", "exactly one baseline")
                return self._operation(conn, universe, now, "OPERATIONAL_STATUS_READY", None, error)
            if len(keys) != 1 or not all(isinstance(key, str) and key for key in keys):
                error = _error("CONFIGS_VARIANT_MISSING_KEY", "every variant names the same key")
                return self._operation(conn, universe, now, "OPERATIONAL_STATUS_READY", None, error)
            key = next(iter(keys))
            published = self._configs.read(universe, _REPOSITORY).published
            if key not in published["entries"]:
                error = _error("CONFIGS_VARIANT_CONFIG_NOT_FOUND", "the key is not published")
                return self._operation(conn, universe, now, "OPERATIONAL_STATUS_READY", None, error)
            count = conn.execute(
                "SELECT COUNT(*) FROM experiments WHERE universe=?", (universe,)
            ).fetchone()[0]
            experiment = {
                "id": hashlib.sha256(f"{universe}/experiment/{count}".encode()).hexdigest()[:20],
                "name": name,
                "description": body.get("description"),
                "createdTime": format_time(now),
                "lastUpdatedTime": format_time(now),
                "startedTime": None,
                "stoppedTime": None,
                "state": "EXPERIMENT_STATE_DRAFT",
                "experimentConfiguration": configuration,
                "exposurePercent": body.get("exposurePercent", 100),
                "targetingCriteria": body.get("targetingCriteria"),
                "durationSeconds": body.get("durationSeconds", 14 * 86_400),
                "universeMetricConfiguration": {
                    "goalMetric": body.get("universeGoalMetric") or _DEFAULT_METRIC,
                    "learningMetrics": [],
                },
                "operationalStatus": "OPERATIONAL_STATUS_READY",
                "createdBy": None,
                "scheduledTime": None,
                "_created": now,
            }
            self._save(conn, universe, experiment)
            return self._operation(conn, universe, now, "OPERATIONAL_STATUS_READY", experiment)

    def start(self, universe: int, experiment_id: str, now: int) -> dict[str, Any]:
        with self._db.write() as conn:
            experiment = self._get(conn, universe, experiment_id)
            if experiment["state"] not in ("EXPERIMENT_STATE_DRAFT", "EXPERIMENT_STATE_SCHEDULED"):
                raise invalid("only a draft or scheduled experiment can start")
            key = config_key(experiment)
            if key in self.locked_keys(conn, universe):
                error = _error("CONFIGS_KEY_ALREADY_IN_USE", "another experiment runs on the key")
                return self._operation(
                    conn, universe, now, "OPERATIONAL_STATUS_READY", experiment, error
                )
            variants = experiment["experimentConfiguration"]["inGameConfigExperimentConfiguration"]
            for index, variant in enumerate(variants["variants"]):
                meta = variant.setdefault("variantMeta", {})
                meta["variantId"] = f"{experiment_id}-v{index}"
            experiment.update(
                state=RUNNING, startedTime=format_time(now), lastUpdatedTime=format_time(now)
            )
            self._save(conn, universe, experiment)
            return self._operation(conn, universe, now, "OPERATIONAL_STATUS_READY", experiment)

    def complete(
        self, universe: int, experiment_id: str, variant_id: str | None, now: int
    ) -> dict[str, Any]:
        """Stop a running experiment; with ``variant_id``, publish that variant's value."""
        with self._db.write() as conn:
            experiment = self._get(conn, universe, experiment_id)
            if experiment["state"] != RUNNING:
                raise invalid("only a running experiment can be completed")
            experiment.update(
                state="EXPERIMENT_STATE_COMPLETED",
                stoppedTime=format_time(now),
                lastUpdatedTime=format_time(now),
            )
            self._save(conn, universe, experiment)
        winner = None
        if variant_id:
            variants = experiment["experimentConfiguration"]["inGameConfigExperimentConfiguration"]
            found = [
                v for v in variants["variants"] if v["variantMeta"].get("variantId") == variant_id
            ]
            if not found:
                raise invalid("variantId is not a variant of this experiment")
            winner = found[0]
        if winner is not None and not winner["variantMeta"].get("isBaseline"):
            key = config_key(experiment) or ""
            value = winner["configEntry"].get("entryValue")
            label = winner["variantMeta"]["label"]
            message = f"experiment {experiment['name']}: rolled out {label}"
            self._configs.publish_value(universe, _REPOSITORY, key, value, message, now)
        with self._db.write() as conn:
            return self._operation(conn, universe, now, "OPERATIONAL_STATUS_READY", experiment)

    def discard(self, universe: int, experiment_id: str, now: int) -> dict[str, Any]:
        with self._db.write() as conn:
            experiment = self._get(conn, universe, experiment_id)
            if experiment["state"] == RUNNING:
                raise invalid("a running experiment is completed, not discarded")
            experiment.update(state="EXPERIMENT_STATE_DELETED", lastUpdatedTime=format_time(now))
            self._save(conn, universe, experiment)
            return self._operation(conn, universe, now, "OPERATIONAL_STATUS_READY", experiment)


def public(experiment: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ProductExperiment`` answer (without the emulator's bookkeeping)."""
    return {name: value for name, value in experiment.items() if not name.startswith("_")}


def summary(experiment: Mapping[str, Any]) -> dict[str, Any]:
    """The ``ExperimentSummary`` of a listing."""
    return {
        "id": experiment["id"],
        "name": experiment["name"],
        "description": experiment.get("description"),
        "createdTime": experiment["createdTime"],
        "lastUpdatedTime": experiment.get("lastUpdatedTime"),
        "startedTime": experiment.get("startedTime"),
        "stoppedTime": experiment.get("stoppedTime"),
        "state": experiment["state"],
        "createdBy": None,
        "experimentConfigKey": config_key(experiment) or "",
        "scheduledTime": None,
        "durationSeconds": experiment.get("durationSeconds", 0),
        "productType": _IN_GAME,
    }
