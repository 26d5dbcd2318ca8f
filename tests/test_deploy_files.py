"""The shipped deployment files: systemd units that ``systemd-analyze verify`` accepts, alert
rules that ``promtool`` checks and whose tests fire every alert, a Grafana dashboard that
queries only metrics the app exports, and docs that name only files that exist."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from app import metrics
from tests.services_required import require

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
MONITORING = DEPLOY / "monitoring"
pytestmark = pytest.mark.one_database


def tool(name: str) -> str:
    """The tool's path; skipped with the reason (a failure under REQUIRE_SERVICES=1)."""
    path = shutil.which(name)
    package = {"promtool": "prometheus", "systemd-analyze": "systemd"}[name]
    require(name, path is not None, f"{name} not installed (apt install {package})")
    return path


def test_systemd_units_verify(tmp_path):
    """As shipped; only ExecStart's interpreter is one that exists here (verify checks
    that the program is executable)."""
    analyze = tool("systemd-analyze")
    for name in ("orderpulse.service", "orderpulse.socket"):
        text = (DEPLOY / name).read_text()
        text = text.replace("/srv/orderpulse/current/venv/bin/python", shutil.which("python3"))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", "orderpulse.socket", "orderpulse.service"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_the_service_unit_has_what_an_operator_needs():
    unit = (DEPLOY / "orderpulse.service").read_text()
    for setting in (
        "EnvironmentFile=/etc/orderpulse.env",
        "LimitNOFILE=65536",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ExecReload=",
        "Requires=orderpulse.socket",
        "NotifyAccess=all",
    ):
        assert setting in unit
    reload_script = DEPLOY / "orderpulse-reload"
    assert reload_script.stat().st_mode & 0o111, "ExecReload's script is executable"
    assert "/srv/orderpulse/current/deploy/orderpulse-reload" in unit


def test_alert_rules_check_and_every_alert_fires_in_the_tests():
    promtool = tool("promtool")
    rules = MONITORING / "orderpulse-alerts.yml"
    check = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    tests = MONITORING / "orderpulse-alerts.test.yml"
    run = subprocess.run(
        [promtool, "test", "rules", tests.name], cwd=MONITORING, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    alerts = {r["alert"] for g in yaml.safe_load(rules.read_text())["groups"] for r in g["rules"]}
    fired = set()
    for case in yaml.safe_load(tests.read_text())["tests"]:
        for check_ in case.get("alert_rule_test", []):
            if check_.get("exp_alerts"):
                fired.add(check_["alertname"])
    assert alerts == fired, f"alerts no test fires: {alerts - fired}"
    for wanted in ("Down", "WorkerDown", "ErrorRatio", "Delivery", "Drops", "Database", "Redis"):
        assert any(wanted in alert for alert in alerts), wanted
    assert any("Disk" in alert for alert in alerts)


EXPORTERS = re.compile(r"^(up|process_\w+|node_\w+)$")
FUNCTIONS = {
    "sum", "rate", "increase", "histogram_quantile", "by", "max", "min", "count", "on",
    "clamp_min", "predict_linear", "le", "without", "and", "or", "unless", "avg",
}  # fmt: skip


def exported_names() -> set[str]:
    names = set()
    for value in vars(metrics).values():
        describe = getattr(value, "describe", None)
        if describe and hasattr(value, "_name"):
            for family in describe():
                names.add(family.name)
                suffixes = ("_total", "_bucket", "_count", "_sum")
                names.update(family.name + suffix for suffix in suffixes)
    return names


def metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # selectors
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {w for w in words if w not in FUNCTIONS and not re.fullmatch(r"\d+|e\d+", w)} - {
        "instance", "route", "status", "kind", "backend", "job", "mountpoint",
    }  # fmt: skip


def test_dashboard_and_alerts_query_only_metrics_that_exist():
    names = exported_names()
    dashboard = json.loads((MONITORING / "orderpulse-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = yaml.safe_load((MONITORING / "orderpulse-alerts.yml").read_text())
    exprs += [r["expr"] for g in rules["groups"] for r in g["rules"]]
    assert len(exprs) > 20
    for expr in exprs:
        for name in metric_names(expr):
            assert name in names or EXPORTERS.match(name), f"{name} in {expr!r}"
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for wanted in ("database", "redis", "requests", "latency", "streams", "pool", "memory"):
        assert wanted in titles


def test_docs_and_deploy_files_name_only_files_that_exist():
    """Every ``deploy/...`` and ``docs/...`` path the operations guide and the shipped files
    mention exists (nginx.conf once pointed at a page that did not)."""
    sources = [ROOT / "docs" / "operations.md", ROOT / "README.md"]
    sources += [p for p in DEPLOY.rglob("*") if p.is_file()]
    missing = []
    for source in sources:
        for path in re.findall(r"\b((?:deploy|docs|bench|tests)/[\w./-]+\w)", source.read_text()):
            if not (ROOT / path).exists():
                missing.append(f"{source.relative_to(ROOT)}: {path}")
    assert missing == []
