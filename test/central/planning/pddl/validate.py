"""Validates plans with unified-planning's sequential plan validator (an independent checker).

Reads a JSON list of jobs on stdin: {"id", "domain", "problem", "plans": {name: plan text}};
writes a JSON list of {"id", "plans": {name: {"valid", "reason"}}} on stdout.
"""
import json
import sys

from unified_planning.engines import ValidationResultStatus
from unified_planning.io import PDDLReader
from unified_planning.shortcuts import PlanValidator, get_environment

get_environment().credits_stream = None
results = []
for job in json.load(sys.stdin):
    reader = PDDLReader()
    problem = reader.parse_problem(job["domain"], job["problem"])
    checked = {}
    with PlanValidator(problem_kind=problem.kind, name="sequential_plan_validator") as validator:
        for name, text in job["plans"].items():
            plan = reader.parse_plan_string(problem, text)
            outcome = validator.validate(problem, plan)
            checked[name] = {
                "valid": outcome.status == ValidationResultStatus.VALID,
                "reason": None if outcome.reason is None else str(outcome.reason),
            }
    results.append({"id": job["id"], "plans": checked})
json.dump(results, sys.stdout)
