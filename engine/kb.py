"""The orchestrator: run the stages in order and own the error policy; and the facade.

`load_kb(path)` reads, parses and lowers the rule files and checks them (or takes them checked
from the cache), works out each pathway's shape and validates it, and has the evaluator generate
and compile the knowledge base's code, collecting every diagnostic of a stage before it stops;
it raises one `KnowledgeBaseError` carrying all of them. The `KnowledgeBase` it returns is
immutable, evaluates any number of cases (`evaluate`, `decide`, `evaluate_file`), and is the
one door through which other modules read a knowledge base (`facts`, `defines`, `sources`,
`sites`, `pathways`, `plans`, `safeties`, `scenarios`, `findings`, `constraints`, `code_systems`,
`shapes`, `graphs`, `files`, `texts`).
"""

from __future__ import annotations

import gc
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from . import cache
from .lang import ir
from .inputs.case import case_name, read_case
from .inputs.fastcheck import CaseChecker
from .lang.fact_values import check_case
from .lang.checked import Checked
from .lang.records import record
from .lang.diagnostics import CaseError, Diagnostic, KnowledgeBaseError, Span, sorted_diagnostics
from .evaluation.evaluate import Decide, Evaluator
from .lang.load import Loaded, load, resolve_root
from .lang.shape import PathwayShape, shapes as shapes_of
from .evaluation.result import Result

if TYPE_CHECKING:
    import networkx as nx

    from .analysis.identity import Identity
    from .inputs.fhir import BundleCase


def bundled_kb_path() -> Path:
    """The knowledge base that ships with Consilium, the subpackage consilium.kb.

    kb/ sits beside engine/ in a checkout and is installed beside consilium.engine in a wheel."""
    return Path(__file__).resolve().parents[1] / "kb"


@record
class KnowledgeBase:
    """A loaded, checked and compiled knowledge base; evaluate cases with it."""

    root: str
    loaded: Loaded
    checked: Checked
    evaluator: Evaluator
    _graphs: dict = field(default_factory=dict, repr=False, compare=False)
    case_checker: CaseChecker | None = field(default=None, repr=False, compare=False)  # made by load_kb
    _memo: dict = field(default_factory=dict, repr=False, compare=False)
    # From the cache, `checked` holds no scenarios and `loaded` no declarations (nothing reads those
    # once checked): the scenarios come from here, decoded on first use (see `scenarios`).
    scenarios_of: Callable[[], tuple[ir.Scenario, ...]] | None = field(default=None, repr=False, compare=False)

    @property
    def identity(self) -> "Identity":
        """What this knowledge base is: name, Consilium version, digest of its files, git revision."""
        if "identity" not in self._memo:
            from .analysis.identity import identify
            self._memo["identity"] = identify(self.loaded)
        return self._memo["identity"]

    @property
    def graphs(self) -> Mapping[str, "nx.DiGraph"]:
        """The decision graph of each pathway (networkx), built on first use."""
        if not self._graphs and self.checked.pathways:
            from .lang.graph import build_graph
            self._graphs.update({p.id: build_graph(p, self.shapes[p.id]) for p in self.checked.pathways})
        return self._graphs

    @property
    def shapes(self) -> Mapping[str, PathwayShape]:
        """The shape of each pathway (entry, order, ways in and out, fixed paths), worked out once."""
        return self.evaluator.shapes

    def generated_source(self, pathway: str | None = None) -> str:
        """The Python this knowledge base is evaluated by (one pathway's functions, when named)."""
        if pathway is not None and pathway not in self.shapes:
            from .lang.diagnostics import UsageError
            raise UsageError(f"no pathway '{pathway}' in this knowledge base")
        return self.evaluator.generated_source((pathway,) if pathway is not None else None)

    @property
    def facts(self) -> Mapping[str, ir.Fact]:
        return self.checked.facts

    @property
    def sources(self) -> Mapping[str, ir.Source]:
        return self.checked.sources

    @property
    def pathways(self) -> tuple[ir.Pathway, ...]:
        return self.checked.pathways

    @property
    def scenarios(self) -> tuple[ir.Scenario, ...]:
        if self.scenarios_of is None:
            return self.checked.scenarios
        if "scenarios" not in self._memo:
            self._memo["scenarios"] = self.scenarios_of()
        return self._memo["scenarios"]

    # What the other rooms (render, analysis, inputs, cli) read: the declarations by kind and the
    # files they came from, so that nothing outside evaluation reaches into `checked`, `loaded`
    # or `evaluator`, whose shapes may change.
    @property
    def defines(self) -> Mapping[str, ir.Define]:
        return self.checked.defines

    @property
    def safeties(self) -> tuple[ir.Safety, ...]:
        return self.checked.safeties

    @property
    def sites(self) -> Mapping[str, ir.Site]:
        return self.checked.sites

    @property
    def plans(self) -> Mapping[str, ir.Plan]:
        return self.checked.plans

    @property
    def findings(self) -> tuple[ir.Finding, ...]:
        """The named clinical conclusions (`finding ID "label" when ...`), in declaration order."""
        return self.checked.findings

    @property
    def constraints(self) -> tuple[ir.Constraint, ...]:
        """The facts a case cannot hold together (`constraint ID "label" when ...`)."""
        return self.checked.constraints

    @property
    def code_systems(self) -> Mapping[str, ir.CodeSystem]:
        """The code systems declared for FHIR bindings (`codesystem NAME "uri"`), by name."""
        return self.checked.code_systems

    @property
    def files(self) -> tuple[str, ...]:
        """The rule files, as a person would type their paths, in reading order."""
        return self.loaded.files

    @property
    def paths(self) -> tuple[str, ...]:
        """The rule files' absolute paths, in reading order (the root file first)."""
        return self.loaded.paths

    @property
    def texts(self) -> Mapping[str, str]:
        """Each rule file's text, by the path in `files`: for showing the lines a diagnostic names."""
        return self.loaded.texts

    def value(self, expr: ir.Expr, case: Mapping[str, Any]) -> Any:
        """The value of one expression of this knowledge base (resolved, as `defines` and the
        pathways hold them) for a validated case; None when it is unknown."""
        if not isinstance(expr, ir.Expr):  # text, say: not for the code writer to stumble on
            example = next(iter(self.defines), "NAME")
            raise TypeError(f"value() takes an expression of the knowledge base, such as "
                            f"kb.defines[{example!r}].expr, not {type(expr).__name__}")
        return self.evaluator.value(expr, case)

    def validate_case(self, raw: Mapping[str, Any], *, name: str = "<case>") -> dict[str, Any]:
        """Typed values for a raw mapping (as read from JSON); raises CaseError."""
        return (self.case_checker or CaseChecker(self.checked.facts))(raw, name=name)

    def evaluate(self, case: Mapping[str, Any], *, validated: bool = False) -> Result:
        """Evaluate one case given as a raw mapping (validated first) or as typed values."""
        values = case if validated else self.validate_case(case)
        identity = self._memo.get("identity_json")
        if identity is None:
            identity = self._memo["identity_json"] = self.identity.to_json()
        return self.evaluator.evaluate(values, identity)  # (made with it: not rebuilt by _identified)

    @property
    def decide(self) -> Decide:
        """`kb.decide(case, *, validated=False)`: only the ids of recommendations and warnings and
        the facts needed, as a `Decision`: the fast path. A raw mapping (as read from JSON) is
        checked first (CaseError); `validated=True` takes typed values as they are.

        The generated function itself (`Evaluator.decide`), with no frame around it: a loop
        over many cases may keep `decide = kb.decide` and pay only for the rules."""
        return self.evaluator.decide

    def read_bundle(self, bundle: Any, *, name: str = "<bundle>", facts: Mapping[str, Any] | None = None
                    ) -> "BundleCase":
        """The case a FHIR R4 Bundle gives through the facts' bindings, with `facts` given flat beside
        it (what FHIR does not carry: the team's judgements); raises CaseError."""
        from .inputs.fhir import read_bundle, with_facts
        read = read_bundle(bundle, self.checked.facts, name=name)
        return read if facts is None else with_facts(read, facts, self.checked.facts)

    def evaluate_bundle(self, bundle: "Any | BundleCase", *, name: str = "<bundle>",
                        facts: Mapping[str, Any] | None = None) -> Result:
        """Evaluate a FHIR R4 Bundle (parsed JSON, or already read), with `facts` given flat beside it;
        the result names each fact's origin."""
        from .inputs.fhir import BundleCase, with_facts, with_origins
        if isinstance(bundle, BundleCase):
            read = bundle if facts is None else with_facts(bundle, facts, self.checked.facts)
        else:
            read = self.read_bundle(bundle, name=name, facts=facts)
        return with_origins(self._identified(self.evaluator.evaluate(read.values)), read)

    def evaluate_file(self, path: str | Path, *, facts: str | Path | None = None) -> Result:
        """Evaluate a case file: JSON or YAML of fact values, or a JSON FHIR Bundle (with `facts`,
        a JSON or YAML file of the facts FHIR does not carry, given beside it)."""
        if str(path).lower().endswith(".json"):  # only JSON may be a bundle: FHIR's modules for no other
            from .inputs.fhir import looks_like_bundle, read_bundle_file, with_facts, with_origins
            if looks_like_bundle(path):
                read = read_bundle_file(path, self.checked.facts)
                if facts is not None:
                    raw, positions = read_case(facts)
                    read = with_facts(read, raw, self.checked.facts, name=case_name(facts), positions=positions)
                return with_origins(self._identified(self.evaluator.evaluate(read.values)), read)
        if facts is not None:
            raise CaseError([Diagnostic("facts-without-bundle", f"facts are given beside '{path}', which is not "
                                        "a FHIR bundle", Span(str(facts), 1, 1, 1, 1),
                                        hint="a flat case holds every fact itself: add them to it")])
        raw, positions = read_case(path)
        values = check_case(raw, self.checked.facts, name=case_name(path), positions=positions)
        return self._identified(self.evaluator.evaluate(values))

    def _identified(self, result: Result) -> Result:
        """The result, carrying what it was evaluated with (its JSON's `identity`)."""
        if "identity_json" not in self._memo:
            self._memo["identity_json"] = self.identity.to_json()
        # the evaluator makes every field, identity None: this one set in place of it, by position
        at = _IDENTITY
        return tuple.__new__(Result, (*result[:at], self._memo["identity_json"], *result[at + 1:]))


_IDENTITY = Result._fields.index("identity")


def load_kb(path: str | Path | None = None, *, use_cache: bool = True,
            allow_outside_includes: bool = False) -> KnowledgeBase:
    """Load a knowledge base from a folder (its main.rules) or a root rule file.

    A parse cached from an earlier load is used when no rule file has changed since.
    Includes must stay inside the knowledge base's folder unless `allow_outside_includes`.
    """
    collecting = gc.isenabled()
    gc.disable()  # loading makes objects that all live on: scanning them for cycles finds none
    try:
        return _load_kb(path, use_cache, allow_outside_includes)
    finally:
        if collecting:
            gc.enable()


def _load_kb(path: str | Path | None, use_cache: bool, allow_outside_includes: bool) -> KnowledgeBase:
    root, problems = resolve_root(path if path is not None else bundled_kb_path())
    if root is None:
        raise KnowledgeBaseError(problems)
    cached = cache.get(root, allow_outside_includes) if use_cache else None
    scenarios: Callable[[], tuple[ir.Scenario, ...]] | None = None
    if cached is not None:  # checked and validated when it was cached
        loaded, checked = cached.loaded, cached.checked
        shapes = shapes_of(checked.pathways)

        def scenarios() -> tuple[ir.Scenario, ...]:
            found = cache.scenarios(cached.scenarios)
            # (None only for an entry whose seal verified and whose data is not the engine's own:
            # a bug; the knowledge base is read again rather than shown without its scenarios)
            return found if found is not None else _load_kb(root, False, allow_outside_includes).scenarios
    else:
        loaded, problems = load(root, allow_outside_includes)
        _stop_on(problems, loaded)
        from .lang.check import check  # only here: a load from the cache runs no check
        checked, problems = check(list(loaded.declarations))
        _stop_on(problems, loaded)
        shapes = shapes_of(checked.pathways)
        from .lang.graph import validate
        _stop_on([d for pathway in checked.pathways for d in validate(pathway, shapes[pathway.id])], loaded)
        if use_cache:
            cache.put(root, loaded, checked, [Path(p) for p in loaded.paths], allow_outside_includes)
    checker = CaseChecker(checked.facts)
    kb = KnowledgeBase(root=loaded.root, loaded=loaded, checked=checked,
                       evaluator=Evaluator(checked, shapes, loaded.root, cache if use_cache else None,
                                           checker.function),
                       case_checker=checker, scenarios_of=scenarios)
    # A knowledge base is many long-lived objects (hundreds of thousands for a large one). Left to
    # the garbage collector, every full collection while cases are evaluated scans them all again;
    # frozen, they are never scanned (nor freed: a process that reloads often may gc.unfreeze()).
    gc.freeze()
    return kb


def _stop_on(problems: list[Diagnostic], loaded: Loaded) -> None:
    errors = [d for d in problems if d.severity == "error"]
    if errors:
        raise KnowledgeBaseError(sorted_diagnostics(problems), texts=loaded.texts)
