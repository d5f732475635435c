"""deploy/: the Grafana dashboard and the Prometheus alerting rules load, and every series
they query is one the agent exports, with the labels and label values they select; the
Kamailio, HAProxy, systemd and PostgreSQL files pass their own engines' checks."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships with ctranslate2; no stubs here
from prometheus_client import CollectorRegistry

from tests.deploy.support import self_signed_pem
from tests.store.postgres import find_bin_dir
from tests.transport.sip.support import KAMAILIO_MODULES
from voice_agent.agent.latency import TurnMarks
from voice_agent.agent.metrics import AgentMetrics
from voice_agent.store.writes import HandoffWrite, OrderLock, VerificationAttempt

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
DASHBOARD = DEPLOY / "grafana" / "voice-agent-dashboard.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"

_SERIES = re.compile(r"\b(voice_agent_\w+)(?:\{([^}]*)\})?")
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
_ADDED_BY_PROMETHEUS = {"instance", "job"}
_DURATION = re.compile(r"^\d+[smhdw]$")

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def _after_a_call() -> dict[str, list[dict[str, str]]]:
    """What the agent exports after a call's worth of increments: the label sets of each
    sample, by sample name."""
    metrics = AgentMetrics(CollectorRegistry())
    metrics.call_started("webrtc")
    marks = TurnMarks()
    marks.mark("user_speech_end", 1.0)
    marks.mark("first_audio_sent", 1.3)
    metrics.observe(marks)
    metrics.stored(
        [
            VerificationAttempt(order_number="4567", factor="postcode", success=False, at=AT),
            OrderLock(order_number="4567", until=AT),
            HandoffWrite(
                reference="H-1", reason="", transcript="", facts={}, callback_by=AT, created_at=AT
            ),
        ]
    )
    metrics.asr_fallback("stopped_short")
    metrics.busy_refused("sip")
    metrics.error("store")
    metrics.call_ended("webrtc", "handoff")
    samples: dict[str, list[dict[str, str]]] = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(dict(sample.labels))
    return samples


def _check_expression(expr: str, exported: dict[str, list[dict[str, str]]]) -> None:
    found = _SERIES.findall(expr)
    assert found or re.search(r"\bup\{", expr), f"no agent series in {expr!r}"
    labels_of_all = set(_ADDED_BY_PROMETHEUS)
    for name, selector in found:
        assert name in exported, f"{name} (in {expr!r}) is not exported"
        label_sets = exported[name]
        known = {key for labels in label_sets for key in labels} | _ADDED_BY_PROMETHEUS
        labels_of_all |= known
        for key, operator, value in _MATCHER.findall(selector):
            assert key in known, f"{name} has no label {key!r} (in {expr!r})"
            if operator == "=" and key not in _ADDED_BY_PROMETHEUS:
                values = {labels.get(key) for labels in label_sets}
                assert value in values, f"{name}{{{key}={value!r}}} is never exported"
    for grouping in _GROUPING.findall(expr):
        for key in filter(None, (part.strip() for part in grouping.split(","))):
            assert key in labels_of_all, f"grouping by {key!r}, a label no series has: {expr!r}"


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def _rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    assert set(loaded) == {"groups"}
    rules: list[dict[str, Any]] = [rule for group in loaded["groups"] for rule in group["rules"]]
    return rules


def test_the_dashboard_imports_with_a_prometheus_data_source_input() -> None:
    dashboard = _dashboard()
    (source,) = dashboard["__inputs"]
    assert (source["name"], source["type"], source["pluginId"]) == (
        "DS_PROMETHEUS",
        "datasource",
        "prometheus",
    )
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["title"] and panel["targets"], panel
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        assert all(t["datasource"]["uid"] == "${DS_PROMETHEUS}" for t in panel["targets"])
    (instance,) = dashboard["templating"]["list"]
    assert instance["datasource"]["uid"] == "${DS_PROMETHEUS}"


def test_the_dashboard_queries_only_series_the_agent_exports() -> None:
    exported = _after_a_call()
    expressions = [
        target["expr"].replace("$instance", ".*")
        for panel in _dashboard()["panels"]
        for target in panel["targets"]
    ]
    for expr in expressions:
        _check_expression(expr, exported)
    queried = {name for expr in expressions for name, _ in _SERIES.findall(expr)}
    assert {
        "voice_agent_calls_total",
        "voice_agent_calls_in_progress",
        "voice_agent_first_audio_sent_seconds_bucket",
        "voice_agent_handoffs_total",
        "voice_agent_claims_total",
        "voice_agent_verification_failures_total",
        "voice_agent_locks_total",
        "voice_agent_busy_refusals_total",
        "voice_agent_errors_total",
        "voice_agent_asr_fallbacks_total",
    } <= queried
    latency = [e for e in expressions if "first_audio_sent" in e]
    assert any("histogram_quantile(0.5," in e for e in latency)
    assert any("histogram_quantile(0.95," in e for e in latency)


def test_the_alerting_rules_are_well_formed() -> None:
    rules = _rules()
    names = [rule["alert"] for rule in rules]
    assert len(set(names)) == len(names)
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert isinstance(rule["expr"], str) and rule["expr"].strip()
        assert _DURATION.match(rule["for"]), rule["for"]
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]


@pytest.mark.parametrize("rule", _rules(), ids=lambda rule: str(rule["alert"]))
def test_each_alert_queries_only_series_the_agent_exports(rule: dict[str, Any]) -> None:
    _check_expression(rule["expr"], _after_a_call())


def test_the_alerts_cover_latency_errors_refusals_and_a_silent_agent() -> None:
    by_name = {rule["alert"]: rule for rule in _rules()}
    slow = by_name["VoiceAgentSlowReplies"]
    assert "histogram_quantile(0.95" in slow["expr"] and "> 0.6" in slow["expr"]
    assert slow["for"] == "10m"
    assert 'outcome="error"' in by_name["VoiceAgentCallErrors"]["expr"]
    assert "voice_agent_busy_refusals_total" in by_name["VoiceAgentBusy"]["expr"]
    assert "up{" in by_name["VoiceAgentScrapeDown"]["expr"]
    assert "absent(voice_agent_calls_in_progress)" in by_name["VoiceAgentMetricsAbsent"]["expr"]


# --- several instances: Kamailio, HAProxy, systemd, PostgreSQL (docs/scale-out.md) -------------
# tests/deploy/test_cluster.py runs Kamailio and HAProxy from these files with real agents; the
# checks here are the engines' own, on the files and example lists exactly as shipped.

KAMAILIO = DEPLOY / "kamailio"


def test_kamailio_accepts_the_config_with_the_example_lists() -> None:
    checked = subprocess.run(
        [
            "kamailio", "-c", "-f", str(KAMAILIO / "kamailio.cfg"), "-L", str(KAMAILIO_MODULES),
            "-A", f'DISPATCHER_LIST="{KAMAILIO / "dispatcher.list"}"',
            "-A", f'TRUNKS_LIST="{KAMAILIO / "trunks.list"}"',
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_haproxy_accepts_the_config_with_its_default_addresses(tmp_path: Path) -> None:
    certificate = self_signed_pem(tmp_path / "agent.pem", "127.0.0.1")
    checked = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy" / "haproxy.cfg")],
        env={**os.environ, "VA_TLS_PEM": str(certificate)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "10.0.0.11:8080" in (DEPLOY / "haproxy" / "haproxy.cfg").read_text()


def test_systemd_reads_every_line_of_the_instance_unit(tmp_path: Path) -> None:
    # an instance of the template, as `systemctl start voice-agent@agent-1` makes it
    unit = tmp_path / "voice-agent@agent-1.service"
    shutil.copy(DEPLOY / "systemd" / "voice-agent@.service", unit)
    verified = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    # the program is not installed under /opt here: only what systemd says about the file counts
    complaints = [
        line
        for line in verified.stderr.splitlines()
        if str(unit) in line and "/opt/voice-agent" not in line
    ]
    assert not complaints, verified.stderr


def test_the_postgresql_settings_are_postgresql_parameters() -> None:
    text = (DEPLOY / "postgresql" / "voice-agent.conf").read_text(encoding="utf-8")
    names = re.findall(r"^(\w+)\s*=", text, re.MULTILINE)
    known = {line.split("\t")[0] for line in _postgres("--describe-config").splitlines()}
    assert names and set(names) <= known, set(names) - known
    assert "max_connections" in names


def _postgres(*args: str) -> str:
    command = [str(find_bin_dir() / "postgres"), *args]
    if os.geteuid() == 0:  # PostgreSQL's programs refuse to run as root
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout
