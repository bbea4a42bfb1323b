"""Which step keys each action takes: `on`, `peers`, `groups`, `for`, `via`.

The schema lets every step have them; here each misplaced one gets a
message that says why it does not apply.
"""

from __future__ import annotations

from collections.abc import Iterator

from controller.scenario.errors import Loc, Problem
from controller.scenario.schema import Scenario
from netem.specs import REGISTRY

PER_LINK = ", ".join(k for k, spec in REGISTRY.items() if spec.per_link)
# Step keys that say where or how long.
PLACEMENT = ("on", "peers", "groups", "for_s", "via")


def allowed(do: str) -> set[str]:
    """The placement keys an action takes."""
    spec = REGISTRY.get(do)
    if spec is None:
        return {"on"} if do == "unpause" else set()
    if do == "partition":
        return {"groups", "for_s", "via"}
    if spec.scope == "link":
        return {"on", "for_s", "via", *(["peers"] if spec.per_link else [])}
    if do == "churn":
        return {"for_s"}  # it picks the nodes that leave itself
    return {"on"} if do == "restart" else {"on", "for_s"}


def placement_problems(scenario: Scenario) -> Iterator[Problem]:
    for step in scenario.steps:
        loc: Loc = ("steps", step.index)
        for name in PLACEMENT:
            if name in step.model_fields_set and name not in allowed(step.do):
                key = "for" if name == "for_s" else name
                yield Problem((*loc, key), _why_not(key, step.do))
        needs_on = step.do == "unpause" or (
            step.do in REGISTRY
            and REGISTRY[step.do].scope == "node"
            and step.do != "churn"
        )
        if needs_on and step.on is None:
            yield Problem(loc, f"{step.do} needs `on`: which nodes, e.g. on: hubs")
        if step.do == "partition" and step.groups is None:
            yield Problem(
                loc, "partition needs `groups`: two or more, e.g. groups: ['0-9', rest]"
            )


def _why_not(key: str, do: str) -> str:
    control = do not in REGISTRY
    if key == "peers":
        return f"`peers` is for per-link kinds ({PER_LINK}); {do} is not one"
    if key == "groups":
        then = "choose nodes with `on`" if "on" in allowed(do) else "drop it"
        return f"`groups` is for partition only; {then}"
    if key == "for" and do == "load":
        return "load runs for its duration_s and takes no `for`"
    if key == "for":
        return f"{do} takes effect at once and takes no `for`"
    if key == "via":
        kind = "a control action" if control else "a node fault"
        return f"`via` is for link faults; {do} is {kind}"
    if do == "partition":
        return "partition takes `groups`, not `on`"
    if do == "churn":
        return "churn picks the nodes that leave at random and takes no `on`"
    return f"{do} acts on the whole testbed and takes no `on`"
