"""consilium.engine: the rooms of the engine, each a stage of the pipeline.

    lang/        text -> checked IR (parse, lower, check, load, graph validation)
    evaluation/  checked IR -> answers (generated code, results, needs, plans, concordance)
    inputs/      outside data -> validated cases (case files, cohorts)
    analysis/    questions about a knowledge base (verify, coverage, scenarios, diff)
    kb.py        the orchestrator and the KnowledgeBase facade; cache.py beside it
    cli.py       the command line

A lower room never imports a higher one. The public API is the package `consilium`.
"""
