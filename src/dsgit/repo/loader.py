"""Read a whole repository state into a :class:`Declaration` and every :class:`Problem` in it.

One pass: ``dsgit.yaml``, ``schemas/``, then each store's ``_store.yaml`` and entries. Each file
is parsed once; its node tree lives only while that file is checked, so memory stays flat.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from yaml.nodes import Node

from dsgit.crypto import Keyring, find_encrypted
from dsgit.kinds import registered
from dsgit.model.configs import CONFIGS, CONFIGS_DIR, REPOSITORY_NAMES, ConfigsDeclaration
from dsgit.model.declaration import (
    Declaration,
    DeclaredEntry,
    SourceInfo,
    StoreDeclaration,
    StorePolicy,
)
from dsgit.model.entry import Address, EntryData, JSONValue, StoreKind
from dsgit.model.overrides import effective_value
from dsgit.repo.config_environments import config_environment_problems, environment_values
from dsgit.repo.configs_file import parse_configs_file, repository_of
from dsgit.repo.digest import declaration_digest, policy_digests
from dsgit.repo.entry_schemas import EDITOR_DIR
from dsgit.repo.environments import (
    declared_environments,
    entry_overrides,
    environment_problems,
    store_environments,
)
from dsgit.repo.file_reader import FileReader, position
from dsgit.repo.file_schemas import FileKind, check_file, plainly_valid_entry
from dsgit.repo.layout import (
    DATASTORES_DIR,
    ENTRY_SUFFIX,
    ORDERED_DIR,
    OTHER_YAML_DIRS,
    StoreFiles,
    group_stores,
    ignored,
)
from dsgit.repo.limits import attribute_problems, name_problem
from dsgit.repo.problems import Problem, Severity
from dsgit.repo.project_file import PROJECT_FILE, check_project
from dsgit.repo.source import FileType, RepoSource, SourceFile, WorktreeSource
from dsgit.repo.store_settings import parse_store_settings, parse_suppressions
from dsgit.repo.value_checks import check_value
from dsgit.repo.value_schemas import (
    SCHEMA_DIR,
    SCHEMA_SUFFIXES,
    ValueSchemas,
    locate_in_schema,
    parse_schema_file,
)
from dsgit.repo.yamlload import YamlDocument

__all__ = ["RepositoryReading", "read_repository"]

_INT64 = (-(2**63), 2**63 - 1)
WRITTEN_DIRS = ("audit", ".dsgit")  # what plan and apply write below the root
_READ_ONLY = ".dsgit/keys/"


@dataclass(frozen=True)
class RepositoryReading:
    """What reading a repository found: the declaration and every problem (sorted)."""

    declaration: Declaration
    problems: tuple[Problem, ...]
    files: int
    entries: int
    configs: Mapping[str, ConfigsDeclaration] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)


class RepositoryReader(FileReader):
    """Reads one repository's files; each kind's ``load`` (:mod:`dsgit.kinds`) asks it for
    its folders (:meth:`group`) and parses them with its methods, reporting problems here."""

    def __init__(self, source: RepoSource, keyring: Keyring | None) -> None:
        super().__init__(source)
        self.keyring = keyring
        self.tokens = 0
        self.schemas = ValueSchemas()
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._moved_at: dict[Address, tuple[int | None, int | None]] = {}
        self._configs: dict[str, ConfigsDeclaration] | None = None
        # DataStoresConfig as policies/erasure.yaml's user_data_templates declare it (read by
        # other_yaml, which runs before the kinds load)
        self._templates: ConfigsDeclaration | None = None
        self.environments: tuple[str, ...] | None = None  # of dsgit.yaml, when readable

    # --- dsgit.yaml and schemas ----------------------------------------------------------------
    def project(self) -> None:
        kind = self.source.kind(PROJECT_FILE)
        if kind is None:
            self.add(PROJECT_FILE, "DS109", "dsgit.yaml not found (run `dsgit init`)")
            return
        document = self.yaml(SourceFile(PROJECT_FILE, kind))
        if document is not None:
            self.problems.extend(check_project(document.value, document.node))
            self.environments = declared_environments(document.value)

    def written_folders(self) -> None:
        """DS106 for a symlink where plan and apply write (``audit/``: the ledger and
        pre-images; ``.dsgit/``: journals, the emulator's database): writing would follow it,
        possibly outside the repository. Key files under ``.dsgit/keys/`` are only read.
        Only the working tree is written: an old commit's links (read for rollback) are not."""
        if not isinstance(self.source, WorktreeSource):
            return
        for top in WRITTEN_DIRS:
            for item in self.source.files(top):
                if item.type is FileType.SYMLINK and not item.path.startswith(_READ_ONLY):
                    self.add(
                        item.path,
                        "DS106",
                        f"a symlink where dsgit writes ({top}/): writing would follow it, "
                        "possibly outside the repository (replace it with a real folder or file)",
                    )

    def other_yaml(self) -> None:
        """YAML-level checks (syntax, duplicates, aliases, JSON) of the policy and migration
        files; what they mean is checked by the commands that use them."""
        for top in OTHER_YAML_DIRS:
            for item in self.source.files(top):
                if item.path.endswith((".yaml", ".yml")) or item.type is FileType.SYMLINK:
                    before = len(self.problems)
                    document = self.yaml(item)
                    clean = len(self.problems) == before
                    if clean and document is not None and item.path == "policies/approvals.yaml":
                        from dsgit.approvals.policy_file import policy_problems

                        self.problems.extend(policy_problems(document.value, document.node))
                    if clean and document is not None and item.path == "policies/erasure.yaml":
                        self.erasure(document)
                    if clean and document is not None and item.path == "policies/retention.yaml":
                        from dsgit.retention.policy_file import retention_problems

                        self.problems.extend(retention_problems(document.value, document.node))
                    if top == "migrations":
                        self.migration(item.path, document if clean else None)

    def erasure(self, document: YamlDocument) -> None:
        """DS871-DS878 of ``policies/erasure.yaml``; a clean file's ``user_data_templates``
        become the declared ``DataStoresConfig`` repository (docs/erasure.md)."""
        from dsgit.erasure.policy_file import erasure_problems, templates_declaration

        problems = erasure_problems(document.value, document.node)
        self.problems.extend(problems)
        if not any(p.severity is Severity.ERROR for p in problems):
            self._templates = templates_declaration(document.value, document.node)

    def migration(self, path: str, document: YamlDocument | None) -> None:
        """DS821-DS826 of one file under ``migrations/`` (docs/lifecycle.md)."""
        from dsgit.migrate.files import migration_problems, name_problem

        problem = name_problem(path)
        if problem is not None:
            self.problems.append(problem)
        elif document is not None:
            self.problems.extend(
                migration_problems(document.value, document.node, path, self.schemas)
            )

    def value_schemas(self) -> None:
        documents: dict[str, JSONValue] = {}
        texts: dict[str, str] = {}
        for item in self.source.files(SCHEMA_DIR):
            name = item.path.rsplit("/", 1)[-1]
            # dsgit's own schemas for editors (copies, generated entry schemas): not value schemas
            editors = item.path.startswith(f"{EDITOR_DIR}/")
            if editors or not name.endswith(SCHEMA_SUFFIXES) or name.startswith("."):
                if item.type is FileType.SYMLINK:
                    self.text(item)
                continue
            text = self.text(item)
            if text is None:
                continue
            value, problems = parse_schema_file(item.path, text)
            self.problems.extend(problems)
            if not problems:
                documents[item.path] = value
                texts[item.path] = text
        self.schemas = ValueSchemas.from_documents(documents)
        for path, where, message in self.schemas.check_documents():
            line, column = locate_in_schema(path, texts[path], where)
            self.add(path, "DS207", f"invalid JSON Schema: {message}", line, column)

    # --- stores --------------------------------------------------------------------------------
    def policy(self, kind: StoreKind, files: StoreFiles) -> tuple[StorePolicy, Any, Node | None]:
        if files.settings is None:
            return StorePolicy(), None, None
        document = self.yaml(files.settings)
        if document is None:
            return StorePolicy(), None, None
        policy, problems = parse_store_settings(
            kind, document.value, document.node, files.settings.path, self.schemas
        )
        self.problems.extend(problems)
        return policy, document.value, document.node

    def key_matches(self, pattern: str, key: str) -> bool:
        compiled = self._patterns.get(pattern)
        if compiled is None:
            compiled = self._patterns[pattern] = re.compile(pattern)
        return compiled.fullmatch(key) is not None

    def check_key(
        self, policy: StorePolicy, key: str, file: str, line: int | None, col: int | None
    ) -> None:
        if policy.key_pattern is not None and not self.key_matches(policy.key_pattern, key):
            self.add(
                file,
                "DS302",
                f"key {key!r} does not match key_pattern {policy.key_pattern!r}",
                line,
                col,
            )

    def standard_store(self, files: StoreFiles) -> StoreDeclaration | None:
        store_path = f"{DATASTORES_DIR}/{files.segment}"
        name = self.segment(SourceFile(store_path, FileType.FILE), files.segment, "store name")
        policy, raw, node = self.policy(StoreKind.STANDARD, files)
        allowed = self.store_environments(files, raw, node)
        if name is None:
            return None
        entries: dict[tuple[str, str], DeclaredEntry] = {}
        applicable: set[str] = set()
        matched: set[str] = set()
        scopes_seen: dict[str, str] = {}
        keys_by_scope: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for (scope_segment, file_name), item in files.entries:
            scope = scopes_seen.get(scope_segment)
            if scope_segment not in scopes_seen:
                scope_file = SourceFile(f"{store_path}/{scope_segment}", FileType.FILE)
                decoded = self.segment(scope_file, scope_segment, "scope")
                scopes_seen[scope_segment] = scope = decoded if decoded is not None else ""
                if (
                    decoded is not None
                    and policy.scopes is not None
                    and decoded not in policy.scopes
                ):
                    self.add(
                        item.path,
                        "DS303",
                        f"scope {decoded!r} is not in the store's `scopes` "
                        f"({', '.join(policy.scopes)})",
                    )
            if not scope:
                continue
            key_segment = file_name[: -len(ENTRY_SUFFIX)]
            keys_by_scope[scope_segment].append((key_segment, item.path))
            key = self.segment(item, key_segment, "key")
            if key is None:
                continue
            entry = self.standard_entry(
                name, scope, key, item, policy, applicable, matched, allowed
            )
            if entry is not None:
                entries[(scope, key)] = entry
        self.collisions(
            ((segment, f"{store_path}/{segment}") for segment in sorted(scopes_seen)),
            "scope folder",
        )
        for keys in keys_by_scope.values():
            self.collisions(sorted(keys), "key file")
        self.unmatched_pointers(raw, node, files, applicable - matched)
        self.moves(entries)
        file = files.settings.path if files.settings is not None else None
        return StoreDeclaration(StoreKind.STANDARD, name, policy, entries, file, allowed)

    def store_environments(
        self, files: StoreFiles, raw: Any, node: Node | None
    ) -> tuple[str, ...] | None:
        if files.settings is None:
            return None
        allowed, problems = store_environments(raw, node, files.settings.path, self.environments)
        self.problems.extend(problems)
        return allowed

    def standard_entry(
        self,
        store: str,
        scope: str,
        key: str,
        item: SourceFile,
        store_policy: StorePolicy,
        applicable: set[str],
        matched: set[str],
        allowed: tuple[str, ...] | None = None,
    ) -> DeclaredEntry | None:
        document = self.yaml(item)
        if document is None:
            return None
        raw, node, file = document.value, document.node, item.path
        if not (isinstance(raw, dict) and plainly_valid_entry(raw)):
            outline: JSONValue = raw
            if isinstance(raw, dict) and raw.get("value") is not None:
                outline = {**raw, "value": 0}  # the value is checked by its own schema
            self.problems.extend(check_file(FileKind.ENTRY, outline, node, file))
        if not isinstance(raw, dict) or "value" not in raw:
            return None
        address = Address(StoreKind.STANDARD, store, scope, key)
        policy = store_policy.for_key(key) if store_policy.overrides else store_policy
        self.check_key(policy, key, file, None, None)
        value: JSONValue = raw["value"]
        attributes = raw.get("attributes")
        if not isinstance(attributes, dict):
            attributes = {}
        for path, message in attribute_problems(attributes):
            line, column = position(node, ["attributes", *path])
            self.add(file, "DS403", message, line, column)
        users_raw = raw.get("users")
        users = tuple(
            user
            for user in (users_raw if isinstance(users_raw, list) else [])
            if isinstance(user, int) and not isinstance(user, bool) and user > 0
        )
        if policy.is_counter(key) and (isinstance(value, bool) or not isinstance(value, int)):
            line, column = position(node, ["value"])
            self.add(
                file,
                "DS305",
                f"key {key!r} is a counter: its value must be an integer",
                line,
                column,
            )
        validator = self.schemas.validator(policy.schema) if policy.schema else None
        predicate = self.schemas.predicate(policy.schema) if policy.schema else None
        findings = check_value(
            value,
            address=address,
            policy=policy,
            validator=validator,
            predicate=predicate,
            keyring=self.keyring,
            file=file,
            node=node,
            size_hint=(document.chars, document.aliased),
            may_hold_tokens=document.may_hold_tokens,
        )
        self.problems.extend(findings.problems)
        self.tokens += findings.tokens
        applicable.update(policy.sensitive, policy.encrypted)
        matched.update(findings.matched)
        overrides, problems = entry_overrides(raw, node, file, self.environments, allowed)
        self.problems.extend(problems)
        if overrides:

            def check(effective: JSONValue, base: tuple[str, ...]) -> list[tuple[Problem, str]]:
                found = check_value(
                    effective,
                    address=address,
                    policy=policy,
                    validator=validator,
                    predicate=predicate,
                    keyring=self.keyring,
                    file=file,
                    node=node,
                    base=base,
                )
                matched.update(found.matched)
                return list(zip(found.problems, found.pointers, strict=True))

            self.problems.extend(
                environment_problems(
                    overrides, lambda o: effective_value(value, o), check, findings.problems
                )
            )
            self.tokens += sum(len(find_encrypted(o.patch)) for o in overrides.values())
        moved_from = self.moved_from(raw.get("moved_from"), address)
        if moved_from is not None:
            self._moved_at[address] = position(node, ["moved_from"])
        suppress = parse_suppressions(raw.get("suppress"), node, file, "suppress")
        data = EntryData(value, attributes, users)
        return DeclaredEntry(address, data, file, 1, moved_from, suppress, overrides)

    def moved_from(self, raw: object, address: Address) -> Address | None:
        if isinstance(raw, str) and raw:
            return replace(address, key=raw)
        if isinstance(raw, dict) and isinstance(raw.get("key"), str):
            store, scope = raw.get("store", address.store), raw.get("scope", address.scope)
            if isinstance(store, str) and isinstance(scope, str):
                return Address(address.kind, store, scope, raw["key"])
        return None

    def moves(self, entries: dict[tuple[str, str], DeclaredEntry]) -> None:
        sources: dict[Address, DeclaredEntry] = {}
        for entry in entries.values():
            origin = entry.moved_from
            if origin is None:
                continue
            line, column = self._moved_at.get(entry.address, (entry.line, None))
            if origin == entry.address:
                self.add(entry.file, "DS209", "moved_from names the entry itself", line, column)
            elif (origin.scope, origin.key) in entries and origin.store == entry.address.store:
                other = entries[(origin.scope, origin.key)]
                self.add(
                    entry.file,
                    "DS209",
                    f"moved_from {origin.key!r} still has a file ({other.file}): "
                    "delete it to rename, or drop moved_from to copy",
                    line,
                    column,
                )
            elif origin in sources:
                self.add(
                    entry.file,
                    "DS209",
                    f"{sources[origin].file} is also moved from {origin}",
                    line,
                    column,
                )
            else:
                sources[origin] = entry

    def unmatched_pointers(
        self, raw: Any, node: Node | None, files: StoreFiles, unmatched: set[str]
    ) -> None:
        if not unmatched or files.settings is None or not isinstance(raw, dict):
            return
        places: list[tuple[list[str | int], object]] = [([], raw)]
        overrides = raw.get("overrides")
        if isinstance(overrides, list):
            places += [(["overrides", index], item) for index, item in enumerate(overrides)]
        reported: set[str] = set()
        for prefix, settings in places:
            if not isinstance(settings, dict):
                continue
            for setting in ("sensitive", "encrypted"):
                pointers = settings.get(setting)
                for index, pointer in enumerate(pointers if isinstance(pointers, list) else []):
                    if pointer in unmatched and pointer not in reported:
                        reported.add(pointer)
                        line, column = position(node, [*prefix, setting, index])
                        self.add(
                            files.settings.path,
                            "DS603",
                            f"{setting} pointer {pointer!r} matches nothing in any entry of "
                            "this store (a typo would leave a secret unprotected)",
                            line,
                            column,
                        )

    def ordered_store(self, files: StoreFiles) -> StoreDeclaration | None:
        store_path = f"{ORDERED_DIR}/{files.segment}"
        name = self.segment(SourceFile(store_path, FileType.FILE), files.segment, "store name")
        policy, raw, node = self.policy(StoreKind.ORDERED, files)
        allowed = self.store_environments(files, raw, node)
        if name is None:
            return None
        entries: dict[tuple[str, str], DeclaredEntry] = {}
        segments: list[tuple[str, str]] = []
        for (file_name,), item in files.entries:
            scope_segment = file_name[: -len(ENTRY_SUFFIX)]
            segments.append((scope_segment, item.path))
            scope = self.segment(item, scope_segment, "scope")
            if scope is None:
                continue
            if policy.scopes is not None and scope not in policy.scopes:
                self.add(
                    item.path,
                    "DS303",
                    f"scope {scope!r} is not in the store's `scopes` ({', '.join(policy.scopes)})",
                )
            self.ordered_scope(name, scope, item, policy, entries)
        self.collisions(sorted(segments), "scope file")
        self.moves(entries)
        file = files.settings.path if files.settings is not None else None
        return StoreDeclaration(StoreKind.ORDERED, name, policy, entries, file, allowed)

    def ordered_scope(
        self,
        store: str,
        scope: str,
        item: SourceFile,
        policy: StorePolicy,
        entries: dict[tuple[str, str], DeclaredEntry],
    ) -> None:
        document = self.yaml(item)
        if document is None:
            return
        raw, node, file = document.value, document.node, item.path
        if raw is None:
            return
        self.problems.extend(check_file(FileKind.ORDERED_SCOPE, raw, node, file))
        if not isinstance(raw, dict):
            return
        for key, body in raw.items():
            line, column = position(node, [key])
            problem = name_problem("key", key)
            if problem is not None:
                self.add(file, "DS401", problem, line, column)
                continue
            value = body.get("value") if isinstance(body, dict) else body
            if isinstance(value, bool) or not isinstance(value, int):
                continue  # reported by the file schema
            if not _INT64[0] <= value <= _INT64[1]:
                continue
            address = Address(StoreKind.ORDERED, store, scope, key)
            self.check_key(policy.for_key(key), key, file, line, column)
            moved = body.get("moved_from") if isinstance(body, dict) else None
            suppress = (
                parse_suppressions(body.get("suppress"), node, file, key, "suppress")
                if isinstance(body, dict)
                else ()
            )
            entries[(scope, key)] = DeclaredEntry(
                address,
                EntryData(value),
                file,
                line or 1,
                self.moved_from(moved, address),
                suppress,
            )

    # --- configs/<repository>.yaml -------------------------------------------------------------
    def configs(self) -> dict[str, ConfigsDeclaration]:
        """Every ``configs/<repository>.yaml``, parsed once (the configs kind's ``load`` and
        :func:`read_repository` both ask; problems are added the first time only)."""
        if self._configs is None:
            self._configs = self._read_configs()
        return dict(self._configs)

    def _read_configs(self) -> dict[str, ConfigsDeclaration]:
        found: dict[str, ConfigsDeclaration] = {}
        for item in self.source.files(CONFIGS_DIR):
            name = item.path.rsplit("/", 1)[-1]
            if item.path != CONFIGS_DIR and ignored(name):
                continue
            if item.type is not FileType.FILE:
                self.text(item)  # the folder or a file is a symlink, a submodule, …
                continue
            repository = repository_of(item.path)
            if repository is None:
                self.add(
                    item.path,
                    "DS716",
                    f"unexpected file: {CONFIGS_DIR}/ holds one <repository>.yaml per configs "
                    "repository",
                )
                continue
            if repository not in REPOSITORY_NAMES:
                self.add(
                    item.path,
                    "DS703",
                    f"{repository!r} is not a configs repository "
                    f"(known: {', '.join(REPOSITORY_NAMES)})",
                )
                continue
            document = self.yaml(item)
            if document is None:
                continue
            declaration, problems = parse_configs_file(item.path, document.value, document.node)
            self.problems.extend(problems)
            if declaration is not None:
                self.config_schemas(declaration, document.node)
                known = self.environments
                self.problems.extend(config_environment_problems(declaration, document.node, known))
                found[repository] = declaration
        if self._templates is not None:
            # configs/DataStoresConfig.yaml is refused (DS717): the erasure policy declares it
            found[self._templates.repository] = self._templates
        return found

    def config_schemas(self, declaration: ConfigsDeclaration, node: Node | None) -> None:
        """DS712: json values (and their conditional values) against the key's ``schema``."""
        for key, entry in declaration.entries.items():
            if entry.schema is None:
                continue
            validator = self.schemas.validator(entry.schema)
            where = ["entries", key, "schema"]
            if validator is None:
                if not self.schemas.is_broken(entry.schema):
                    line, column = position(node, where)
                    self.add(
                        declaration.file,
                        "DS712",
                        f"`entries.{key}.schema`: schema {entry.schema!r} not found under "
                        f"{SCHEMA_DIR}/",
                        line,
                        column,
                    )
                continue
            values = [(["value"], entry.value)]
            values += [(["conditional", rule], v) for rule, v in entry.conditional.items()]
            values += environment_values(entry, self.environments)
            for path, value in values:
                for error in list(validator.iter_errors(value))[:5]:
                    inner = [str(part) for part in error.absolute_path]
                    line, column = position(node, ["entries", key, *path, *inner])
                    label = ".".join(["entries", key, *path, *inner])
                    self.add(
                        declaration.file,
                        "DS712",
                        f"`{label}`: {error.message[:200]}",
                        line,
                        column,
                    )

    def group(self, top: str, entry_depth: int, layout: str) -> dict[str, StoreFiles]:
        """The store folders under ``top`` whose entry files sit ``entry_depth`` folders down
        (``layout`` names the layout in problems), by folder name."""
        return group_stores(self, top, entry_depth, layout)

    def stores(self) -> dict[tuple[StoreKind, str], StoreDeclaration]:
        found: dict[tuple[StoreKind, str], StoreDeclaration] = {}
        for kind in registered():
            for store in kind.load(self):
                found[(store.kind, store.name)] = store
        return found


def read_repository(
    source: RepoSource,
    *,
    keyring: Keyring | None = None,
    commit: str | None = None,
    dirty: bool = True,
) -> RepositoryReading:
    """Read every file of ``source``; never raises for a problem in the files."""
    reader = RepositoryReader(source, keyring)
    reader.project()
    reader.written_folders()
    reader.value_schemas()
    reader.other_yaml()
    stores = reader.stores()
    configs = reader.configs()
    if reader.tokens and keyring is None:
        reader.add(
            PROJECT_FILE,
            "DS604",
            f"{reader.tokens} encrypted value(s) not verified: no key "
            "(set DSGIT_ENCRYPTION_KEY or create .dsgit/keys/default.key)",
            severity=Severity.WARNING,
        )
    problems = sorted(
        _one_per_place(reader.problems),
        key=lambda p: (p.file, p.line or 0, p.column or 0, p.code, p.message),
    )
    schemas = dict(reader.schemas.documents)
    digest = declaration_digest(stores, schemas)
    policies = policy_digests(source)
    declaration = Declaration(stores, schemas, SourceInfo(commit, dirty, digest), policies)
    # data-store entries (a configs repository is one planned resource, not an entry)
    count = sum(len(store.entries) for store in stores.values() if store.kind is not CONFIGS)
    return RepositoryReading(declaration, tuple(problems), reader.files, count, configs)


def _one_per_place(problems: list[Problem]) -> list[Problem]:
    """Drops what later checks say about a YAML node DS104 already refused.

    Such a node reads as null, so a schema check would add a second, misleading error at the
    same place ("must not be null") for the one problem.
    """
    refused = {(p.file, p.line, p.column) for p in problems if p.code == "DS104" and p.line}
    return [
        p for p in problems if p.code.startswith("DS1") or (p.file, p.line, p.column) not in refused
    ]
