"""Advice beyond the walk: findings with their reasons, conditional options, contradictions, why not.

Takes a checked knowledge base and a `value` function (expression, case -> value; None for
unknown: the evaluator's own), and for one case gives:

- `findings`: each declared finding that holds (within the patients its `for` admits), with
  the criteria that made it hold, in words with the values read, and the pathway nodes that
  conclude it (`concluded at`) the case reached;
- `options`: recommendations the walk reached whose only open conditions are the team's
  judgements (facts declared `judgement`), qualified by those judgements' words. They are
  not recommendations, and their questions stay needs;
- `contradictions`: the declared constraints the case breaks, naming the facts that
  contradict each other;
- `choices`: recommendations given that are alternatives ("A or B or C": a `choose` step),
  grouped as one choice;
- `why_not`: for a recommendation, warning or safety rule, the condition on its path that
  was false (with its reasons) or unknown (with the facts still open).

Does not walk pathways for recommendations (the evaluator does), and adds nothing to the
recommendations themselves.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, NamedTuple

from .memo import Memo
from ..lang import ir
from ..lang.checked import Checked
from ..lang.reads import conditions_of, reads_of
from ..lang.values import to_json_value
from .codegen import build
from .codegen.writer import Module
from .explain import KEPT, Explainer, Reason, Value
from .result import RuleWarning, unknown_rule


class Finding(NamedTuple):
    """A clinical conclusion the case reaches, with the criteria it rests on."""

    id: str
    label: str
    sites: tuple[str, ...]
    source: str
    section: str | None
    quote: str | None
    refs: tuple[int, ...]
    note: str | None
    reasons: tuple[Reason, ...]
    concluded_at: tuple[tuple[str, str, str], ...] = ()  # (pathway, node, in words): where its pathways conclude it

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "sites": list(self.sites), "source": self.source,
                "section": self.section, "quote": self.quote, "references": list(self.refs), "note": self.note,
                "reasons": [r.to_json() for r in self.reasons],
                "concluded_at": [{"pathway": p, "node": n, "label": w} for p, n, w in self.concluded_at]}


class ConditionalOption(NamedTuple):
    """A recommendation waiting only for the team's judgements: an option, qualified."""

    id: str
    label: str
    modality: str
    source: str
    section: str | None
    quote: str | None
    refs: tuple[int, ...]
    qualifier: str                  # the judgements' words: "in appropriate cases: the team decides"
    judgements: tuple[str, ...]     # the facts the team decides
    pathway: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "modality": self.modality, "source": self.source,
                "section": self.section, "quote": self.quote, "references": list(self.refs),
                "qualifier": self.qualifier, "judgements": list(self.judgements), "pathway": self.pathway}


class Contradiction(NamedTuple):
    """A constraint the case breaks: facts it gives that cannot hold together."""

    id: str
    label: str
    facts: tuple[tuple[str, Any], ...]
    reasons: tuple[Reason, ...]
    note: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "facts": {f: to_json_value(v) for f, v in self.facts},
                "reasons": [r.to_json() for r in self.reasons], "note": self.note}

    def warning(self) -> RuleWarning:
        """The contradiction as one of the result's warnings (kind `contradiction`): its note
        names the facts that contradict each other, with the values the case gives."""
        return RuleWarning(id=self.id, label=self.label, severity="warning", kind="contradiction", source=None,
                           note="; ".join(r.text for r in self.reasons) or None)


class Choice(NamedTuple):
    """Recommendations that are alternatives: one choice among them ("A or B or C")."""

    id: str                     # the step that says `choose`
    label: str
    pathway: str
    alternatives: tuple[str, ...]   # the ids of the recommendations given, in order

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "pathway": self.pathway,
                "alternatives": list(self.alternatives)}


class WhyNot(NamedTuple):
    """Why a case did not get a rule: where on its path it stopped, and why."""

    rule: str
    label: str
    status: str        # given | not applicable | open | not reached
    at: str | None     # the node where it stopped
    condition: str     # that node's question or the rule's label, in words
    reasons: tuple[Reason, ...]
    needs: tuple[str, ...]
    rule_kind: bool = True  # a recommendation, warning or safety rule; False: a decision or a step

    def text(self) -> str:
        head = f"{self.rule}: {self.label}"
        if self.status == "given":  # (a decision or a step is not given: the case reaches it)
            return f"{head}\n  {'given to' if self.rule_kind else 'reached by'} this case"
        where = f" at '{self.at}' ({self.condition})" if self.at else ""
        lines = [f"{head}\n  {self.status}{where}"]
        lines += [f"  - {r.text}" for r in self.reasons]
        if self.needs:
            lines.append("  still open: needs " + ", ".join(self.needs))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "label": self.label, "status": self.status, "at": self.at,
                "condition": self.condition, "reasons": [r.to_json() for r in self.reasons],
                "needs": list(self.needs)}


_UNSET = object()  # (not the Advice itself: a reference to itself would leave it to the garbage collector)


class Advice:
    """What the advisor says of one result, worked out when first asked (evaluation itself
    pays nothing for it): findings, conditional options, contradictions, choices, why not."""

    __slots__ = ("_advisor", "_case", "_recommendations", "_warnings", "_needs", "_cache", "_held")

    def __init__(self, advisor: "Advisor", case: Mapping[str, Any], recommendations: Iterable[Any],
                 warnings: Iterable[Any], needs: Iterable[Any]):
        """`recommendations`, `warnings`, `needs`: the result's own (read only when asked)."""
        self._advisor, self._case = advisor, case
        self._recommendations, self._warnings, self._needs = recommendations, warnings, needs
        self._cache: dict[str, Any] = {}
        self._held: Any = _UNSET  # the case's values of the findings' and constraints' conditions, when worked out

    def _values(self) -> tuple[Any, ...] | None:
        """`Advisor._held` of the case, worked out once for findings and contradictions both."""
        if self._held is _UNSET:
            self._held = self._advisor._held(self._case)
        return self._held

    def _kept(self, name: str, work) -> tuple:
        if name not in self._cache:
            self._cache[name] = work()
        return self._cache[name]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self._kept("findings", lambda: self._advisor.findings(self._case, self._values()))

    @property
    def options(self) -> tuple[ConditionalOption, ...]:
        return self._kept("options", lambda: self._advisor.options(
            self._case, [d.node for n in self._needs for d in n.decides]))

    @property
    def contradictions(self) -> tuple[Contradiction, ...]:
        return self._kept("contradictions", lambda: self._advisor.contradictions(self._case, self._values()))

    @property
    def choices(self) -> tuple[Choice, ...]:
        return self._kept("choices", lambda: self._advisor.choices(tuple(self._recommendations)))

    def why_not(self, rule_id: str) -> WhyNot:
        given = [r.id for r in self._recommendations] + [w.id for w in self._warnings]
        return self._advisor.why_not(rule_id, self._case, given)


class Advisor:
    """Findings, options, contradictions and why-not for one knowledge base."""

    def __init__(self, checked: Checked, value: Value):
        self.checked = checked
        self.value = value
        self.explain = Explainer(checked.facts, checked.defines, value)
        self.judgements = {name: f.judgement for name, f in checked.facts.items() if f.judgement}
        self._nodes: dict[str, tuple[ir.Pathway, ir.Node]] = {
            n.id: (p, n) for p in checked.pathways for n in p.nodes if not isinstance(n, ir.Schedule)}
        self._into: dict[str, list[tuple[str, ir.Branch | None]]] = {}
        for p in checked.pathways:
            for node in p.nodes:
                for target, branch in ir.successors(node):
                    if target is not None:
                        self._into.setdefault(target, []).append((node.id, branch))
        self._conditions: Callable[[Callable[[str], Any]], tuple[Any, ...]] | None = None  # see `_held`
        # a finding (a contradiction) per (its place, its reasons' id, where concluded), the
        # reasons kept beside it so that their id is not reused while the entry lives
        # (kept from a key's second sight: memo.py)
        self._found: Memo = Memo(KEPT)  # key -> (reasons, Finding)
        self._contradicted: Memo = Memo(KEPT)  # (constraint, id(reasons)) -> (reasons, Contradiction)
        self._first_choice: dict[tuple[str, ...], str | None] = {}  # per path, its outermost `choose` step
        self._held_at: dict[int, int] = {}  # a condition's place in `_held`, by its id (the IR keeps it alive)
        self._reach_at: dict[str, int] = {}  # a node's place in `_held`: whether the case reaches it
        self._words: dict[str, tuple[str, str, str]] = {}  # see `_concluded_words`
        self._choosing = frozenset(node_id for node_id, (_, node) in self._nodes.items()
                                   if isinstance(node, ir.Step) and node.choice)  # the `choose` steps
        # the nodes whose conditions read a judgement: only these can leave an option open
        # (an open condition that reads none has a fact open that is not the team's to judge)
        self._judged = frozenset(node_id for node_id, (_, node) in self._nodes.items()
                                 if any(f in self.judgements for f in reads_of(node, checked.defines)))

    # ---- findings ---------------------------------------------------------------------
    def findings(self, case: Mapping[str, Any], held: Any = ...) -> tuple[Finding, ...]:
        """`held`: `_held(case)`, when the caller has it."""
        found = []
        if held is ...:
            held = self._held(case)
        reached: dict[str, bool] = {}  # the nodes the case reaches, as they are asked
        for i, f in enumerate(self.checked.findings):
            if held is not None:  # (the values, each in its place: the finding's scope, then its condition)
                scope, condition = held[2 * i], held[2 * i + 1]
                if scope is not True or condition is not True:
                    continue
            else:
                if f.scope is not None and self.value(f.scope, case) is not True:
                    continue
                if self.value(f.condition, case) is not True:
                    continue
            reasons = self.explain.reasons(f.condition, case)
            concluded = self.concluded_at(f, case, held, reached)
            # the same finding for the same reasons (kept per values read) and places: the record
            # made before, so that what is made of it (its JSON) is made once too
            key = (i, id(reasons), concluded)
            kept = self._found.get(key)
            if kept is None or kept[0] is not reasons:
                p = f.provenance or ir.Provenance(source="")  # `check` requires one; this keeps types honest
                kept = self._found.keep(key, (reasons, Finding(f.id, f.label, f.sites, p.source, p.section, p.quote,
                                                               p.refs, p.note, reasons, concluded)))
            found.append(kept[1])
        return tuple(found)

    def _held(self, case: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Every finding's scope (True when it has none) and condition, then every constraint's
        condition, for the case: one generated function (written when first asked) instead of
        a call per expression. None when one of them raises: each is then asked on its own, in
        order, as it would be without this, so that the error is the same and said at its rule."""
        if self._conditions is None:
            exprs: list[ir.Expr] = []
            for f in self.checked.findings:
                exprs += [f.scope if f.scope is not None else ir.BoolLit(value=True), f.condition]
            exprs += [c.condition for c in self.checked.constraints]
            # and the conditions on the ways into the nodes that conclude a finding (`_reached`)
            concluded = [n for f in self.checked.findings for n in f.concluded_at if n in self._nodes]
            upstream = [c for node_id in self._upstream(concluded) for c in conditions_of(self._nodes[node_id][1])]
            self._held_at = {id(c): len(exprs) + i for i, c in enumerate(upstream)}
            exprs += upstream
            # then whether the case reaches each of those nodes, worked out in the same function
            try:
                reach = self._reach(concluded)
            except KeyError:  # a way in from a node the advisor does not walk: `_reached` asked per case
                reach = []
            self._reach_at = {node_id: len(exprs) + i for i, (node_id, _) in enumerate(reach)}
            self._conditions = _values_function(self.checked, exprs, reach)
        try:
            return self._conditions(case.get)
        except Exception:  # noqa: BLE001 - asked again one by one, which raises it at its rule
            return None

    def concluded_at(self, finding: ir.Finding, case: Mapping[str, Any], held: tuple[Any, ...] | None = None,
                     memo: dict[str, bool] | None = None) -> tuple[tuple[str, str, str], ...]:
        """The pathway nodes that conclude `finding` (its `concluded at`) which the case reaches:
        (pathway, node, "pathway label: node label"). `held`, `memo`: see `_held`, `_reached`."""
        found = []
        memo = {} if memo is None else memo
        at = self._reach_at if held is not None else {}
        for node_id in finding.concluded_at:
            if node_id not in self._nodes:
                continue
            i = at.get(node_id)
            if held[i] if i is not None and held is not None else self._reached(node_id, case, held, memo):
                found.append(self._concluded_words(node_id))
        return tuple(found)

    def _concluded_words(self, node_id: str) -> tuple[str, str, str]:
        """(pathway, node, "pathway label: node label") of a node that concludes a finding."""
        found = self._words.get(node_id)
        if found is None:
            pathway, node = self._nodes[node_id]
            words = getattr(node, "label", None) or getattr(node, "question", None) or node_id
            found = self._words[node_id] = (pathway.id, node_id, f"{pathway.label or pathway.id}: {words}")
        return found

    # ---- conditional options --------------------------------------------------------------
    def options(self, case: Mapping[str, Any], undecided: Iterable[str]) -> tuple[ConditionalOption, ...]:
        """`undecided`: the ids of the nodes the walk reached and could not decide."""
        found: dict[str, ConditionalOption] = {}
        may_judge = self._judged
        for node_id in dict.fromkeys(undecided):  # a node open on several facts, once
            if node_id not in may_judge:
                continue
            pathway, node = self._nodes[node_id]
            match node:
                case ir.Recommend(guard=guard) if guard is not None:
                    judged = self._only_judgements(guard, case)
                    if judged:
                        found.setdefault(node.id, self._option(pathway, node, judged))
                case ir.Decide():
                    for branch in node.branches:
                        if branch.condition is None:
                            break
                        v = self.value(branch.condition, case)
                        if v is False:
                            continue
                        judged = self._only_judgements(branch.condition, case) if v is None else ()
                        if not judged:
                            break
                        for rec in self._recommendations_at(branch.target, case):
                            found.setdefault(rec.id, self._option(pathway, rec, judged))
                        break
        return tuple(found.values())

    def _only_judgements(self, e: ir.Expr, case: Mapping[str, Any]) -> tuple[str, ...]:
        open_ = self.explain.open_facts(e, case)
        return open_ if open_ and all(f in self.judgements for f in open_) else ()

    def _recommendations_at(self, target: str | None, case: Mapping[str, Any]) -> list[ir.Recommend]:
        """The recommendations a branch leads to directly (through steps), whose own guards hold."""
        if target is None:
            return []
        _, node = self._nodes[target]
        match node:
            case ir.Recommend(guard=guard) if guard is None or self.value(guard, case) is True:
                return [node]
            case ir.Step(then=then):
                return [r for t in then for r in self._recommendations_at(t, case)]
        return []

    def _option(self, pathway: ir.Pathway, node: ir.Recommend, judged: tuple[str, ...]) -> ConditionalOption:
        p = node.provenance
        qualifier = "; ".join(dict.fromkeys(self.judgements[f] for f in judged))
        return ConditionalOption(node.id, node.label, node.modality, p.source, p.section, p.quote, p.refs,
                                 qualifier, judged, pathway.id)

    # ---- alternatives ---------------------------------------------------------------------
    def choices(self, recommendations: Iterable[Any]) -> tuple[Choice, ...]:
        """The recommendations given that are alternatives to each other, grouped by the
        outermost `choose` step on their path. `recommendations`: records with `id`, `path`."""
        groups: dict[str, list[str]] = {}
        choosing, first = self._choosing, self._first_choice
        for rec in recommendations:
            try:
                step = first[rec.path]
            except KeyError:  # a path not seen yet (a knowledge base has few): its outermost choice
                if len(first) >= 4096:
                    first.clear()
                step = first[rec.path] = next((n for n in rec.path if n in choosing), None)
            if step is not None:
                groups.setdefault(step, []).append(rec.id)
        found = []
        for step, ids in groups.items():
            if len(ids) > 1:  # one alternative left is no choice
                pathway, node = self._nodes[step]
                found.append(Choice(step, getattr(node, "label", step), pathway.id, tuple(ids)))
        return tuple(found)

    # ---- contradictions ----------------------------------------------------------------
    def contradictions(self, case: Mapping[str, Any], held: Any = ...) -> tuple[Contradiction, ...]:
        """`held`: `_held(case)`, when the caller has it."""
        found = []
        if held is ...:
            held = self._held(case)
        first = 2 * len(self.checked.findings)  # (where the constraints' values begin in `held`)
        for i, c in enumerate(self.checked.constraints):
            if (held[first + i] if held is not None else self.value(c.condition, case)) is True:
                reasons = self.explain.reasons(c.condition, case)
                # per reasons (kept per values read), the record made before: see `findings`
                kept = self._contradicted.get((i, id(reasons)))
                if kept is None or kept[0] is not reasons:
                    facts = tuple(dict.fromkeys(f for r in reasons for f in r.facts))
                    kept = self._contradicted.keep((i, id(reasons)), (reasons, Contradiction(c.id, c.label, facts,
                                                                                              reasons, c.note)))
                found.append(kept[1])
        return tuple(found)

    # ---- why not ------------------------------------------------------------------------------
    def why_not(self, rule_id: str, case: Mapping[str, Any], given: Iterable[str]) -> WhyNot:
        """Why the case did not get `rule_id` (`given`: the ids it did get)."""
        safety = next((s for s in self.checked.safeties if s.id == rule_id), None)
        if safety is not None:
            return self._guarded(safety.id, safety.label, safety.condition, case, rule_id in set(given))
        if rule_id not in self._nodes:
            raise KeyError(unknown_rule(rule_id))
        _, node = self._nodes[rule_id]
        label = getattr(node, "label", None) or getattr(node, "question", None) or rule_id
        if rule_id in set(given):
            return WhyNot(rule_id, label, "given", None, label, (), ())
        blocked = self._blocked_path(rule_id, case)
        why = (blocked._replace(rule=rule_id, label=label) if blocked is not None
               else self._guarded(rule_id, label, getattr(node, "guard", None), case, False))
        return why if isinstance(node, (ir.Recommend, ir.Warn)) else why._replace(rule_kind=False)

    def _guarded(self, rule_id: str, label: str, guard: ir.Expr | None, case: Mapping[str, Any],
                 given: bool) -> WhyNot:
        if given:
            return WhyNot(rule_id, label, "given", None, label, (), ())
        if guard is None:
            return WhyNot(rule_id, label, "given", None, label, (), ())
        v = self.value(guard, case)
        if v is None:
            return WhyNot(rule_id, label, "open", rule_id, label, (), self.explain.open_facts(guard, case))
        if v is False:
            return WhyNot(rule_id, label, "not applicable", rule_id, label, self.explain.reasons(guard, case), ())
        return WhyNot(rule_id, label, "given", None, label, (), ())

    def _blocked_path(self, node_id: str, case: Mapping[str, Any]) -> WhyNot | None:
        """The first place on the way into `node_id` where the case turns away: None if every
        way in is open to it. Of several ways in, the one that got furthest is told."""
        ways = self._into.get(node_id, [])
        if not ways:
            return None
        blocked: list[WhyNot] = []
        for source, branch in ways:
            earlier = self._blocked_path(source, case)
            if earlier is None:
                here = self._edge(source, branch, case)
                if here is None:
                    return None  # this way in is open: the node is reached
                blocked.append(here)
            else:
                blocked.append(earlier)
        return blocked[-1]

    def _upstream(self, node_ids: Iterable[str]) -> list[str]:
        """The nodes on the ways into `node_ids` (those `_open_edge` reads), each once."""
        found: dict[str, None] = {}
        stack = list(node_ids)
        while stack:
            for source, _ in self._into.get(stack.pop(), ()):
                if source not in found and source in self._nodes:
                    found[source] = None
                    stack.append(source)
        return list(found)

    def _reach(self, targets: Iterable[str]) -> list[tuple[str, list[tuple[str, list[tuple[int, bool]]]] | None]]:
        """How `_reached` works out, for `targets` and every node on the ways into them, whether
        the case reaches it: the same for every case but the conditions' values, so worked out
        once, for `_values_function` to write (each node after the nodes leading to it). Per
        node, None (the pathway's entry: reached) or its ways in, each (the node it comes from,
        the values of conditions in `_held` the way needs: an earlier branch False, its own True)."""
        plan: dict[str, list[tuple[str, list[tuple[int, bool]]]] | None] = {}

        def visit(node_id: str) -> None:
            if node_id in plan:
                return
            ways = self._into.get(node_id)
            if not ways:
                plan[node_id] = None
                return
            found = []
            for source, branch in ways:
                visit(source)
                found.append((source, self._edge_needs(source, branch)))
            plan[node_id] = found
        for target in targets:
            visit(target)
        return list(plan.items())

    def _edge_needs(self, source: str, branch: ir.Branch | None) -> list[tuple[int, bool]]:
        """`_open_edge` as the values it needs: (place in `_held`, True or False) each."""
        _, node = self._nodes[source]
        needs: list[tuple[int, bool]] = []
        if isinstance(node, ir.Decide) and branch is not None:
            for b in node.branches:
                if b.condition is None:
                    break
                if b is branch:
                    return needs + [(self._held_at[id(b.condition)], True)]
                needs.append((self._held_at[id(b.condition)], False))
        guard = getattr(node, "guard", None)
        if isinstance(node, (ir.Recommend, ir.Warn)) and guard is not None:
            needs.append((self._held_at[id(guard)], True))
        return needs

    def _reached(self, node_id: str, case: Mapping[str, Any], held: tuple[Any, ...] | None = None,
                 memo: dict[str, bool] | None = None) -> bool:
        """`_blocked_path(node_id, case) is None`, without the words of why not: some way in is
        open all the way from the pathway's entry. `memo`: what is known already of this case."""
        if memo is None:
            memo = {}
        found = memo.get(node_id)
        if found is None:
            found = True
            ways = self._into.get(node_id)
            if ways:
                found = False
                for source, branch in ways:
                    if self._reached(source, case, held, memo) and self._open_edge(source, branch, case, held):
                        found = True
                        break
            memo[node_id] = found
        return found

    def _open_edge(self, source: str, branch: ir.Branch | None, case: Mapping[str, Any],
                   held: tuple[Any, ...] | None = None) -> bool:
        """`_edge(source, branch, case) is None`, without the words of why not (the values of the
        conditions from `held` when it has them: see `_held`)."""
        _, node = self._nodes[source]
        at = self._held_at if held is not None else {}
        if isinstance(node, ir.Decide) and branch is not None:
            for b in node.branches:
                if b.condition is None:
                    break
                i = at.get(id(b.condition))
                v = held[i] if i is not None and held is not None else self.value(b.condition, case)
                if b is branch:
                    return v is True
                if v is not False:  # an earlier branch holds, or is open: not this way
                    return False
        guard = getattr(node, "guard", None)
        if not isinstance(node, (ir.Recommend, ir.Warn)) or guard is None:
            return True
        i = at.get(id(guard))
        return (held[i] if i is not None and held is not None else self.value(guard, case)) is True

    def _edge(self, source: str, branch: ir.Branch | None, case: Mapping[str, Any]) -> WhyNot | None:
        _, node = self._nodes[source]
        question = getattr(node, "question", None) or getattr(node, "label", None) or source
        if isinstance(node, ir.Decide) and branch is not None:
            for b in node.branches:
                if b is branch:
                    if b.condition is None:
                        return None
                    v = self.value(b.condition, case)
                    if v is True:
                        return None
                    if v is None:
                        return WhyNot("", "", "open", source, question, (),
                                      self.explain.open_facts(b.condition, case))
                    return WhyNot("", "", "not reached", source, question,
                                  self.explain.reasons(b.condition, case), ())
                if b.condition is None:
                    break
                v = self.value(b.condition, case)
                if v is True:  # an earlier branch holds: the case goes there instead
                    return WhyNot("", "", "not reached", source, question,
                                  self.explain.reasons(b.condition, case), ())
                if v is None:
                    return WhyNot("", "", "open", source, question, (),
                                  self.explain.open_facts(b.condition, case))
        guard = getattr(node, "guard", None)
        if isinstance(node, (ir.Recommend, ir.Warn)) and guard is not None:
            v = self.value(guard, case)
            if v is None:
                return WhyNot("", "", "open", source, question, (), self.explain.open_facts(guard, case))
            if v is False:
                return WhyNot("", "", "not reached", source, question, self.explain.reasons(guard, case), ())
        return None


def _values_function(checked: Checked, exprs: list[ir.Expr],
                     reach: Iterable[tuple[str, Any]] = ()) -> Callable[[Callable[[str], Any]], tuple[Any, ...]]:
    """`values(get)`: the values of `exprs` for a case (None: unknown), then whether the case
    reaches each node of `reach` (`Advisor._reach`), in one generated function (as codegen's
    `expression` writes one)."""
    module = Module("Generated by Consilium: the values of the findings' and constraints' conditions for a case.")
    f = module.function("values", "get", checked.defines)
    f.prepare(exprs)
    held = []
    for e in exprs:
        f.comment(0, getattr(e, "span", None), "condition")
        part = f.expr(e, 0)
        held.append(f.locals.take("held"))
        f.emit(0, f"{held[-1]} = {part}")
    reached: dict[str, str] = {}
    for node_id, ways in reach:
        reached[node_id] = name = f.locals.take("reached")
        f.place = None
        f.emit(0, f"# whether the case reaches {node_id}")
        ways_in = ["(" + " and ".join([reached[source]] + [f"{held[i]} is {value}" for i, value in needs]) + ")"
                   for source, needs in ways or ()]
        f.emit(0, f"{name} = {' or '.join(ways_in) if ways is not None else 'True'}")
    f.emit(0, f"return ({''.join(name + ', ' for name in held + list(reached.values()))})")
    return build(module, "<consilium findings and constraints>")["values"]


__all__ = ["Advice", "Advisor", "Choice", "ConditionalOption", "Contradiction", "Finding", "WhyNot"]
