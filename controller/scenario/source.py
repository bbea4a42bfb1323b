"""Scenario YAML with positions: the composed node tree beside the data,
so that a field path such as steps[2].delay_ms maps to the line and column
where the user wrote it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from controller.scenario.errors import Loc, ScenarioError


class YamlLoader(yaml.SafeLoader):
    """Safe YAML whose only booleans are true and false, as in YAML 1.2.
    YAML 1.1 also reads on, off, yes and no as booleans, which would turn
    the `on` key of every step into True."""


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass(frozen=True, order=True)
class Located:
    """A problem at a place in the file (line and column from 1)."""

    line: int
    column: int
    field: str
    message: str


def field_path(loc: Loc) -> str:
    """("steps", 2, "delay_ms") -> "steps[2].delay_ms"."""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return text.lstrip(".") or "scenario"


def locate(root: yaml.Node, loc: Loc) -> tuple[int, int]:
    """Line and column (from 1) of the deepest part of loc that the file has:
    a key where a mapping holds it, an item where a sequence does."""
    node, mark = root, root.start_mark
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if str(k.value) == str(part)]
            if not found:
                break
            key, node = found[-1]
            mark = key.start_mark
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return mark.line + 1, mark.column + 1


def parse(path: Path, text: str) -> tuple[yaml.Node, Any]:
    """The composed node tree (for lines) and the plain data it holds."""
    loader = YamlLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _refuse_cycles(path, root)
        data = loader.construct_document(root) if root is not None else None
    except RecursionError:
        # PyYAML composes and constructs recursively.
        raise ScenarioError(
            f"{path}: nested too deeply to read; a scenario needs a few levels"
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(_yaml_error(path, exc)) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if root is None:
        raise ScenarioError(
            f"{path}:1: the file is empty; a scenario needs name, testbed and steps"
        )
    if not isinstance(root, yaml.MappingNode):
        found = "list" if isinstance(root, yaml.SequenceNode) else "single value"
        raise ScenarioError(
            f"{path}:{root.start_mark.line + 1}: expected keys (name, testbed, "
            f"steps...) at the top, found a {found}"
        )
    return root, data


def _refuse_cycles(path: Path, root: yaml.Node) -> None:
    """An alias inside its own anchor makes a structure that contains
    itself: no scenario field can hold one, and walking it never ends."""
    done: set[int] = set()  # nodes an alias reaches again are walked once
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    inside: set[int] = set()
    while stack:
        node, leaving = stack.pop()
        if leaving:
            inside.discard(id(node))
            done.add(id(node))
            continue
        if id(node) in inside:
            mark = node.start_mark
            raise ScenarioError(
                f"{path}:{mark.line + 1}:{mark.column + 1}: an alias refers to "
                "the anchor it is inside, so the value would contain itself; "
                "reuse an anchor elsewhere, not within itself"
            )
        if id(node) in done:
            continue
        inside.add(id(node))
        stack.append((node, True))
        if isinstance(node, yaml.MappingNode):
            stack.extend((part, False) for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, False) for item in node.value)


def _yaml_error(path: Path, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    what = "; ".join(filter(None, [exc.problem, exc.context]))
    hint = " (indent with spaces, not tabs)" if "\\t" in what else ""
    return f"{where}: not valid YAML: {what}{hint}"


def duplicate_keys(node: yaml.Node, loc: Loc) -> Iterator[Located]:
    """A key given twice in one mapping, which YAML would silently resolve
    by keeping the last."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            mark = key.start_mark
            if name in first:
                yield Located(
                    mark.line + 1,
                    mark.column + 1,
                    field_path((*loc, name)),
                    f"given twice in one mapping (first on line {first[name]})",
                )
            first.setdefault(name, mark.line + 1)
            yield from duplicate_keys(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from duplicate_keys(item, (*loc, index))
