import json
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.conftest import PROJECT_ROOT, VOICE_AGENT, free_port, run_cli


def test_models_verify_lists_every_file() -> None:
    result = run_cli(["models", "verify"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok  ") == 11


def test_bad_setting_is_refused_at_start() -> None:
    result = run_cli(["models", "verify"], env={"VOICE_AGENT_ASR__CPU_THREADS": "lots"})
    assert result.returncode == 2
    assert "asr.cpu_threads = 'lots' (from environment)" in result.stderr


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


def test_serve_answers_healthz_and_metrics(isolated_data_dir: dict[str, str]) -> None:
    port = free_port()
    env = {
        **isolated_data_dir,
        "VOICE_AGENT_SERVER__PORT": str(port),
        "PATH": "/usr/bin:/bin",
    }
    server = subprocess.Popen(
        [str(VOICE_AGENT), "serve"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        body = _poll(f"http://127.0.0.1:{port}/healthz", server, deadline=time.monotonic() + 180)
        assert json.loads(body)["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert "voice_agent_first_audio_sent_seconds_bucket" in metrics
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0


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
