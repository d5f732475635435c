import json
import platform
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, VOICE_AGENT, free_port, run_cli
from tests.store.test_commands import orders_in
from tests.store.test_shopfile import EXAMPLE


def test_models_verify_lists_every_file() -> None:
    result = run_cli(["models", "verify"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok  ") == 13


def test_bad_setting_is_refused_at_start() -> None:
    result = run_cli(["models", "verify"], env={"VOICE_AGENT_ASR__CPU_THREADS": "lots"})
    assert result.returncode == 2
    assert "asr.cpu_threads = 'lots' (from environment)" in result.stderr


def test_say_speaks_in_the_language_asked_for(tmp_path: Path) -> None:
    wav = tmp_path / "antwort.wav"
    said = run_cli(["say", "--language", "de", "Ihr Paket kommt morgen.", "-o", str(wav)])
    assert said.returncode == 0, said.stderr
    assert wav.stat().st_size > 16_000  # over half a second of 16 kHz audio
    refused = run_cli(["say", "--language", "it", "Il pacco arriva domani.", "-o", str(wav)])
    assert refused.returncode != 0
    assert "no voice for language 'it'" in refused.stderr


def test_say_then_transcribe_round_trip(tmp_path: Path) -> None:
    wav = tmp_path / "reply.wav"
    said = run_cli(
        ["say", "Your parcel is out for delivery today.", "-o", str(wav), "--rate", "8000"]
    )
    assert said.returncode == 0, said.stderr
    heard = run_cli(["transcribe", "--json", str(wav)])
    assert heard.returncode == 0, heard.stderr
    line = json.loads(heard.stdout.strip().splitlines()[-1])
    assert line["file"] == str(wav)
    words = set(line["text"].lower().replace(".", "").replace(",", "").split())
    assert {"parcel", "delivery", "today"} <= words
    assert line["language"] == "en"
    assert 0.0 < line["confidence"] <= 1.0
    assert line["timings"]["decode_ms"] > 0


def test_transcribe_reports_a_bad_file_and_goes_on(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    result = run_cli(["transcribe", str(junk)])
    assert result.returncode == 1
    assert "junk.wav: not a readable PCM WAV file" in result.stderr


def _config_file(tmp_path: Path, **sections: dict[str, object]) -> Path:
    """A TOML file of the given sections, with the data directory and database in tmp_path."""
    sections = {
        "paths": {"data_dir": str(tmp_path / "var")},
        "store": {"url": f"sqlite:///{tmp_path / 'var' / 'voice_agent.sqlite3'}"},
        "sip": {"listen_port": 0},
        **sections,
    }
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path = tmp_path / "site.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_serve_honours_the_config_before_the_command_and_guards_metrics(
    tmp_path: Path,
) -> None:
    port = free_port()
    token = "metrics-token-0123456789"
    config = _config_file(tmp_path, server={"port": port, "metrics_token": token})
    server = subprocess.Popen(
        [str(VOICE_AGENT), "--config", str(config), "serve"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = _poll(f"http://127.0.0.1:{port}/healthz", server, deadline=time.monotonic() + 180)
        assert json.loads(body)["status"] == "ok"
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert anonymous.value.code == 401
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            metrics = response.read().decode()
        assert "voice_agent_first_audio_sent_seconds_bucket" in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0
    assert (tmp_path / "var" / "voice_agent.sqlite3").exists()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc arenas")
def test_serve_limits_the_malloc_arenas_first_of_all(tmp_path: Path) -> None:
    """Before any thread of the server's exists (here it stops at once: its port is taken)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = _config_file(tmp_path, server={"port": port, "malloc_arena_max": 3})
        result = run_cli(["serve", "--config", str(config)], env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "malloc arenas limited to 3" in result.stderr


def test_serve_on_a_busy_port_says_so_before_loading_models(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = _config_file(tmp_path, server={"port": port})
        result = run_cli(["serve", "--config", str(config)], env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert f"cannot listen for HTTP on 127.0.0.1:{port}: the port is already in use" in (
        result.stderr
    )
    assert "server.port" in result.stderr
    assert "Traceback" not in result.stderr
    assert "models loaded" not in result.stderr


@pytest.mark.parametrize("config_first", [True, False], ids=["before", "after"])
def test_data_import_writes_where_the_config_says(tmp_path: Path, config_first: bool) -> None:
    config = ["--config", str(_config_file(tmp_path))]
    before, after = (config, []) if config_first else ([], config)
    result = run_cli([*before, "data", "import", *after, str(EXAMPLE)])
    assert result.returncode == 0, result.stderr
    url = f"sqlite:///{tmp_path / 'var' / 'voice_agent.sqlite3'}"
    assert orders_in(url, ["4567", "4568"]) == {"4567": True, "4568": True}


def test_a_setting_given_after_the_command_wins_over_one_before(tmp_path: Path) -> None:
    first = tmp_path / "first"
    second = tmp_path / "second"
    first.mkdir()
    second.mkdir()
    before, after = _config_file(first), _config_file(second)
    result = run_cli(
        ["--config", str(before), "data", "import", "--config", str(after), str(EXAMPLE)]
    )
    assert result.returncode == 0, result.stderr
    assert (second / "var" / "voice_agent.sqlite3").exists()
    assert not (first / "var" / "voice_agent.sqlite3").exists()


def _poll(url: str, server: subprocess.Popen[bytes], deadline: float) -> bytes:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read().decode() if server.stdout else ""
            raise AssertionError(f"server exited with {server.returncode}: {output}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                assert response.status == 200
                body: bytes = response.read()
                return body
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in time")


def test_call_runs_a_whole_call_from_a_wav_file(
    tmp_path: Path, isolated_data_dir: dict[str, str]
) -> None:
    from voice_agent.audio import AudioFrame
    from voice_agent.audio.wav import read_wav, write_wav
    from voice_agent.bench.voices import EspeakVoice

    loaded = run_cli(["data", "demo"], env=isolated_data_dir)
    assert loaded.returncode == 0, loaded.stderr
    # The caller speaks after the greeting, then stays on the line a while.
    question = EspeakVoice("en-gb+f3").speak("Where is my order?")
    caller = AudioFrame.concat([AudioFrame.silence(5.0), question, AudioFrame.silence(6.0)])
    write_wav(tmp_path / "caller.wav", caller)
    result = run_cli(
        ["call", "--transport", "wav", "--play", str(tmp_path / "caller.wav"),
         "--record", str(tmp_path / "agent.wav"), "--fast"],
        env=isolated_data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "caller: Where is my order" in result.stdout
    assert "order number" in result.stdout  # the agent asks for it
    assert "latency (ms after speech end)" in result.stdout
    recorded = read_wav(tmp_path / "agent.wav")
    assert recorded.duration >= caller.duration


def test_a_claim_update_call_needs_a_known_decided_claim(isolated_data_dir: dict[str, str]) -> None:
    to = ["call", "--transport", "sip", "--to", "sip:shopper@127.0.0.1:9"]
    unknown = run_cli([*to, "--purpose", "claim-update", "--claim", "99999999"], isolated_data_dir)
    assert unknown.returncode != 0
    assert "no claim with reference '99999999'" in unknown.stderr
    missing = run_cli([*to, "--purpose", "claim-update"], isolated_data_dir)
    assert missing.returncode != 0
    assert "--purpose claim-update needs --claim REF" in missing.stderr


def test_a_return_update_call_needs_a_known_refunded_return(
    isolated_data_dir: dict[str, str],
) -> None:
    to = ["call", "--transport", "sip", "--to", "sip:shopper@127.0.0.1:9"]
    unknown = run_cli([*to, "--purpose", "return-update", "--return", "R-0"], isolated_data_dir)
    assert unknown.returncode != 0
    assert "no return with reference 'R-0'" in unknown.stderr
    missing = run_cli([*to, "--purpose", "return-update"], isolated_data_dir)
    assert "--purpose return-update needs --return REF" in missing.stderr
    crossed = run_cli([*to, "--purpose", "claim-update", "--return", "R-0"], isolated_data_dir)
    assert "--return goes with --purpose return-update" in crossed.stderr
