"""Evaluate: a checked knowledge base and the shapes of its pathways -> an `Evaluator`, and a
validated case -> a `Result` (or, values only, a `Decision`).

`Evaluator` is built once per knowledge base: it has the code generator (codegen/) write
the knowledge base as Python and runs it. A case is walked by that code: each pathway from
its entry, a decision taking the first branch whose condition is true, stopping when a
condition is unknown (the facts it lacks are the needs) and taking `otherwise` when all are
false; a guarded recommendation or warning fires when its guard is true; safety rules are
checked after the pathways. This module turns what the walk records into a `Result`: each
need with what each answer would lead to (the node's generated test re-run with that
answer; one that leaves it open, the facts that could then decide it, needs.Relevance),
the view per source and per site. `decide` is the values-only function.
Evaluation is pure and deterministic: no I/O, no clock, no `eval` of rule text. An error
raised inside generated code is reported at the rule it came from (`EvaluationError`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Callable, Mapping, Protocol

from ..lang import ir
from ..lang.checked import Checked
from ..lang.reads import conditions_of, reads_of, thresholds
from ..lang.unknowns import why_unknown
from ..lang.shape import PathwayShape
from . import codegen
from .bytecode import Store
from .codegen.runtime import Loaded
from .codegen.walk import open_nodes
from .advice import Advice, Advisor
from .concordance import Concordance
from .needs import Relevance, answers, kept_bound
from .memo import Memo
from .result import STILL_NEEDS, Answer, Decision, Need, Result, SourceView, Trace, Undecided, still_stuck

_new = tuple.__new__  # makes a named tuple from its fields without the Python-level __new__

# The bounds of the caches kept whole, per distinct answer rather than per node (the caches kept
# per node grow with the knowledge base: needs.kept_bound). A cohort's cases repeat a few common
# answers: these bounds hold those many times over, and the memory is small and fixed (an entry
# is a tuple per source, or one case's needs), whatever the size of the knowledge base. Emptied,
# not evicted one by one, when full: a cohort of distinct answers only works them out again.
VIEWS_KEPT = 8192  # the views per source, per (recommendations, warnings) fired: kept_bound's floor
NEEDS_KEPT = 4096  # the needs of a short list of open nodes, per list: half that, an entry being larger
WHOLE_NEEDS = 8    # a longer list of open nodes seldom repeats: not kept whole (its parts are)

# (needs, per pathway the facts it waits for, per open node the facts that could decide it)
Needs = tuple[tuple[Need, ...], dict[str, tuple[str, ...]], dict[tuple[str | None, str], tuple[str, ...]]]
# an open node as (pathway, node), the facts that could decide it, each with what it would decide
Open = tuple[tuple[str | None, str], tuple[str, ...], tuple[tuple[str, Undecided], ...]]


class Decide(Protocol):
    """`decide(case, *, validated=False)`: the values only (see `Evaluator.decide`)."""

    def __call__(self, case: Mapping[str, Any], *, validated: bool = False) -> Decision: ...


class Evaluator:
    """The generated form of one checked knowledge base."""

    def __init__(self, checked: Checked, shapes: Mapping[str, PathwayShape], name: str, store: Store | None,
                 check: Callable[[], Callable[[Mapping[str, Any]], Mapping[str, Any]]]):
        """`store`: where the compiled generated code is kept between runs (bytecode.py); None: nowhere.
        `check`: gives, when `decide` is first made, the function from a raw case to the typed case
        (raises CaseError) that `decide` calls on a case not marked validated (asked for then: it
        is written on first use too)."""
        self.checked = checked
        self._check = check
        self.shapes = shapes
        self.name = name
        self._defines = checked.defines
        self.node_labels = {n.id: getattr(n, "label", None) or getattr(n, "question", None) or n.id
                            for p in checked.pathways for n in p.nodes}
        self._needs = {name: (fact.label, fact.question, ir.describe_type(fact.type))
                       for name, fact in checked.facts.items()}
        self._fact_names: dict[str, None] = dict.fromkeys(checked.facts)  # (for the trace's JSON: result.Trace)
        self._sources = tuple((sid, source.title) for sid, source in checked.sources.items())
        self._source_index: dict[str | None, int] = {sid: i for i, (sid, _) in enumerate(self._sources)}
        rules = {n.id: n for p in checked.pathways for n in p.nodes if isinstance(n, ir.Recommend)}
        self._concordance = Concordance({s.id: s.label for s in checked.sites.values()}, tuple(checked.sources),
                                        rules, checked.pathways)
        self._nodes = {n.id: n for p in checked.pathways for n in p.nodes}
        self._open_nodes = open_nodes(checked)  # what the walk records a node left open by
        # entries each cache kept per node (per (node, values read)...) holds, for the cases that repeat
        self._kept_bound = kept_bound(len(self._nodes) + len(checked.safeties))
        self._advisor = Advisor(checked, self.value)  # findings, options, why not: when a result asks
        # which missing facts an open node needs (needs.py): the generated code calls it `relevant`
        self._relevance = Relevance(checked, self._advisor.explain)
        # The walk now; `decide` (below) when first asked for: a short command runs one or the
        # other, and writing and loading the code of both was a third of a cached load.
        self._store = store
        module = codegen.generate(checked, shapes, name, kinds=("walk",))
        module.values["relevant"] = self._relevance
        self.code: Loaded = codegen.build(module, f"<consilium {name}>", store)
        self._walk = self.code["walk"]
        self._probes: dict[str, tuple[Callable[..., Any], tuple[str, ...], Loaded]] = {}
        # an expression's generated function, by the expression's id (hashing a deep frozen
        # expression costs more than running it); the expression is kept beside it, so its id
        # cannot be reused while the entry lives
        self._values: dict[int, tuple[ir.Expr, Callable[..., Any], Loaded]] = {}
        self._cuts_kept: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._stuck_words: dict[str, str] = {}  # per node: what an answer leaving it open with no need says
        self._samples: dict[tuple[str, str], tuple[Any, ...]] = {}  # per (node, fact): the values its answers try
        self._answers_kept: dict[tuple[Any, ...], tuple[Answer, ...]] = {}
        # (kept from a key's second sight: memo.py)
        self._by_source_kept: Memo = Memo(VIEWS_KEPT)  # (fired, warnings) -> tuple[SourceView, ...]
        self._open_kept: Memo = Memo(self._kept_bound)  # open key -> (node, facts, ((fact, Undecided), ...))
        self._needs_kept: Memo = Memo(NEEDS_KEPT)  # open nodes -> (needs, pending, deciding)

    @cached_property
    def decide(self) -> Decide:
        """`decide(case, *, validated=False)`: the values only, the generated function itself.

        The ids of recommendations and warnings, and the facts needed: the same walk as
        `evaluate`, without provenance, trace or the answers of needs, for callers that evaluate
        many cases and want the values alone. A case not marked `validated` is checked first
        (`check`); an error inside is reported at its rule from the function itself. Written
        and loaded when first asked for (then an attribute of the evaluator: no call per use): a
        short command runs one of decide and evaluate, and writing and loading the code of both
        was a third of a cached load."""
        module = codegen.generate(self.checked, self.shapes, self.name, kinds=("decide",))
        module.values["relevant"] = self._relevance
        module.values["check"] = self._check()
        decide: Decide = codegen.build(module, f"<consilium {self.name}>", self._store)["decide"]
        return decide

    def generated_source(self, pathways: tuple[str, ...] | None = None) -> str:
        """The Python this knowledge base is evaluated by (only `pathways`' functions, when given)."""
        return codegen.generate(self.checked, self.shapes, self.name, pathways).source()[0]

    # ---- evaluation -----------------------------------------------------------------
    def evaluate(self, case: Mapping[str, Any], identity: Any = None) -> Result:
        """Everything the rules say about a validated case: see `Result`; `identity`: what the
        knowledge base it was evaluated with is (its JSON), as the result carries it."""
        case = dict(case)  # the result's own copy
        recommendations, warnings, trace, undecided, plans, unchecked, present = self._walk(case)
        needs: tuple[Need, ...] = ()
        pending: dict[str, tuple[str, ...]] = {}
        deciding: Mapping[tuple[str | None, str], tuple[str, ...]] | None = None  # (no node left open)
        if undecided:
            try:
                needs, pending, deciding = self._needs_of(case, undecided)
            except Exception as exc:  # noqa: BLE001 - from a node's generated test: re-raised at its rule
                raise self._error(exc, self.code) from None
        # The views per source and per site depend on which rules fired (and, per site, on the
        # sites present and the facts pending): kept per distinct answer, made once each.
        fired = tuple([r.id for r in recommendations])
        key = (fired, tuple([w.id for w in warnings]))
        by_source = self._by_source_kept.get(key)
        if by_source is None:
            by_source = self._by_source_kept.keep(key, self._by_source(recommendations, warnings))
        advice = Advice(self._advisor, case, recommendations, warnings, needs)
        not_checked = tuple(unchecked)
        return _new(Result, (self.name, case, tuple(recommendations), tuple(warnings), needs, by_source,
                             self._concordance.views(fired, recommendations, present, pending) if present else (),
                             tuple(plans), not_checked, Trace(trace, case, self._fact_names, deciding, not_checked),
                             identity, advice))

    def _error(self, exc: Exception, code: Loaded) -> Exception:
        """An exception from generated code, reported at its rule; any other, as it is."""
        for loaded in (code, *(probe[2] for probe in self._probes.values())):
            error = loaded.rule_error(exc)
            if error is not None:
                return error
        return exc

    def _by_source(self, recommendations: list[Any], warnings: list[Any]) -> tuple[SourceView, ...]:
        """What each source recommends and warns of, in the order met (a rule fires once per case;
        a plan scheduled twice may warn twice: once is enough)."""
        index = self._source_index
        recs: list[list[str]] = [[] for _ in index]
        warns: list[list[str]] = [[] for _ in index]
        for r in recommendations:
            recs[index[r.source]].append(r.id)
        for w in warnings:
            i = index.get(w.source)
            if i is not None:
                warns[i].append(w.id)
        return tuple([_new(SourceView, (sid, title, tuple(r), tuple(w) if len(w) < 2 else tuple(dict.fromkeys(w))))
                      for (sid, title), r, w in zip(self._sources, recs, warns, strict=True)])

    def _needs_of(self, case: Mapping[str, Any], undecided: list[Any]) -> Needs:
        """The needs, fact by fact in the order first met; per pathway the facts it waits for; and
        per open node (pathway, node) the facts that could decide it, in the order it reads them:
        what its trace step names (result.Trace), the same facts its needs give it.

        What an open node needs, and what each answer would lead to, depends only on the
        node and the values it read: kept per (node, values read), up to a bound, for the
        cases of a cohort that repeat; and the whole answer per list of those (plain data,
        never changed once made: results may share it)."""
        if len(undecided) > WHOLE_NEEDS:
            return self._work_needs(case, undecided)
        whole = tuple(undecided)
        try:
            done, hashable = self._needs_kept.get(whole), True
        except TypeError:  # a value that cannot be hashed: nothing is kept
            done, hashable = None, False
        if done is not None:
            return done
        done = self._work_needs(case, undecided)
        return self._needs_kept.keep(whole, done) if hashable else done

    def _work_needs(self, case: Mapping[str, Any], undecided: list[Any]) -> Needs:
        decides: dict[str, list[Undecided]] = {}
        pending: dict[str, dict[str, None]] = {}
        deciding: dict[tuple[str | None, str], tuple[str, ...]] = {}
        kept = self._open_kept
        for key in undecided:  # (open node, *values read)
            try:
                found = kept.get(key)
            except TypeError:  # a value that cannot be hashed: nothing is kept
                found = None
            if found is None:
                found = self._open(key, case)
            node, facts, pairs = found
            deciding[node] = facts
            for fact, open_node in pairs:
                if open_node.pathway is not None:
                    pending.setdefault(open_node.pathway, {})[fact] = None
                decides.setdefault(fact, []).append(open_node)
        needs = tuple([_new(Need, (fact, *self._needs[fact], tuple(nodes))) for fact, nodes in decides.items()])
        return needs, {pathway: tuple(facts) for pathway, facts in pending.items()}, deciding

    def _open(self, key: tuple[Any, ...], case: Mapping[str, Any]) -> Open:
        """For one open node (as the walk recorded it: its `open_key` and the values it read),
        the node as (pathway, node), the missing facts that could decide it (needs.py's
        `Relevance`: the one answer to which facts an open node needs, for its needs and its
        trace step alike), and each of those with what each answer would lead to."""
        pathway, node_id, question = self._open_nodes[key[0]]
        node = self._nodes[node_id]
        facts = self._relevance(key)
        found = ((pathway, node_id), facts,
                 tuple([(fact, _new(Undecided, (pathway, node_id, question, self.answers(node, fact, case, key[0]))))
                        for fact in facts]))
        try:
            return self._open_kept.keep(key, found)  # (bounded: memo.py)
        except TypeError:  # a value that cannot be hashed: not kept
            return found

    # ---- what each answer would lead to ------------------------------------------------
    def answers(self, node: ir.Node, fact: str, case: Mapping[str, Any], name: str) -> tuple[Answer, ...]:
        """What each answer to `fact` would make `node` do, the rest of the case as it is; an
        answer that leaves it open names the missing facts that could then decide it (`name`:
        the node's `open_key`, by which `Relevance` knows it)."""
        test, reads, _ = self._probe(node)
        relevance = self._relevance
        values = [case.get(f) for f in reads]
        at = reads.index(fact)
        decision = isinstance(node, ir.Decide)
        labels = self.node_labels

        def probe(value: Any) -> tuple[str | None, str]:
            values[at] = value
            outcome = test(*values)
            if outcome is None:
                facts = relevance((name, *values))
                return None, STILL_NEEDS + ", ".join(facts) if facts else self._still_stuck(node)
            if not decision:
                if outcome:
                    verb = "recommend" if isinstance(node, ir.Recommend) else "warn"
                    return node.id, f"{verb}: {getattr(node, 'label', node.id)}"
                return None, "does not apply"
            if outcome == 0:
                return None, "no branch holds"
            assert isinstance(node, ir.Decide)
            target = node.branches[outcome - 1].target
            return target, "-> " + (labels.get(target, target) if target is not None else "the pathway ends")

        # The values `needs.answers` tries are the same for every case (the fact's type and the
        # node's thresholds): the answers, in words, are kept per (node, fact, what each try gave).
        key = (node.id, fact)
        samples = self._samples.get(key)
        if samples:
            found = self._answers_kept.get((key, tuple([probe(v) for v in samples])))
            if found is not None:
                return found
        tried: list[tuple[Any, tuple[str | None, str]]] = []

        def trying(value: Any) -> tuple[str | None, str]:
            gave = probe(value)
            tried.append((value, gave))
            return gave
        found = answers(self.checked.facts[fact], trying, self._cuts(node, fact))
        values_tried = tuple([value for value, _ in tried])
        if samples is None:
            samples = self._samples[key] = values_tried
        if samples and values_tried == samples:  # else what is tried depends on the case: nothing kept
            if len(self._answers_kept) >= self._kept_bound:
                self._answers_kept.clear()
            self._answers_kept[key, tuple([gave for _, gave in tried])] = found
        else:
            self._samples[key] = ()
        return found

    def _still_stuck(self, node: ir.Node) -> str:
        """What an answer says that leaves `node` open with no missing fact that could decide it
        (a condition with no value: `1 / 0`): why, worked out once per node."""
        found = self._stuck_words.get(node.id)
        if found is None:
            found = self._stuck_words[node.id] = still_stuck(why_unknown(conditions_of(node), self._defines))
        return found

    def _probe(self, node: ir.Node) -> tuple[Callable[..., Any], tuple[str, ...], Loaded]:
        found = self._probes.get(node.id)
        if found is None:
            loaded = codegen.build(codegen.probe(self.checked, node), f"<consilium {self.name} {node.id}>")
            found = self._probes[node.id] = (loaded["test"], reads_of(node, self._defines), loaded)
        return found

    def test(self, node: ir.Node, case: Mapping[str, Any]) -> Any:
        """What one node does for a case: the branch a decision takes (1 = the first, 0: none
        holds), or whether a rule's guard holds; None while a fact it reads is unknown."""
        test, reads, code = self._probe(node)
        try:
            return test(*[case.get(f) for f in reads])
        except Exception as exc:  # noqa: BLE001 - re-raised at its rule
            raise self._error(exc, code) from None

    def value(self, expr: ir.Expr, case: Mapping[str, Any]) -> Any:
        """The value of one expression (resolved against this knowledge base) for a case; None: unknown."""
        if expr.__class__ is ir.FactRef:  # a fact's value is the case's
            return case.get(expr.id)
        found = self._values.get(id(expr))
        if found is None or found[0] is not expr:
            loaded = codegen.build(codegen.expression(self.checked, expr), f"<consilium {self.name} expression>")
            found = self._values[id(expr)] = (expr, loaded["value"], loaded)
        try:
            return found[1](case.get)
        except Exception as exc:  # noqa: BLE001 - re-raised at its rule
            raise self._error(exc, found[2]) from None

    def _cuts(self, node: ir.Node, fact: str) -> tuple[Any, ...]:
        """The constants `fact` is compared with in the node's conditions: where its answers change
        (the same for every case: worked out once per node and fact)."""
        found_cuts = self._cuts_kept.get((node.id, fact))
        if found_cuts is not None:
            return found_cuts
        conditions = ([b.condition for b in node.branches if b.condition is not None]
                      if isinstance(node, ir.Decide) else [getattr(node, "guard", None)])
        found: set[Any] = set()
        for condition in conditions:
            found.update(thresholds(condition, fact, self._defines))
        cuts = self._cuts_kept[node.id, fact] = tuple(found)
        return cuts


__all__ = ["Decide", "Decision", "Evaluator"]
