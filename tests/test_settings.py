from pathlib import Path

import pytest

from voice_agent.languages import SUPPORTED
from voice_agent.settings import AsrSettings, Settings, SettingsError, load_settings


def test_defaults_come_from_default_toml() -> None:
    settings = load_settings(environ={})
    assert settings.asr.model == "whisper-tiny-en"
    assert settings.server.port == 8080
    assert settings.vad.engine == "webrtc"


def test_config_file_overrides_defaults_and_env_overrides_file(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text('[asr]\nbeam_size = 4\nmodel = "whisper-base"\n[server]\nport = 9000\n')
    settings = load_settings(config, environ={"VOICE_AGENT_ASR__BEAM_SIZE": "3"})
    assert settings.asr.beam_size == 3  # environment wins over the file
    assert settings.asr.model == "whisper-base"  # the file wins over the default
    assert settings.server.port == 9000
    assert settings.asr.cpu_threads == AsrSettings().cpu_threads  # untouched keys: defaults


def test_environment_lists_are_json() -> None:
    environ = {"VOICE_AGENT_TTS__CACHED_PROMPTS__DE": '["Hallo.", "Tschüss."]'}
    settings = load_settings(environ=environ)
    assert settings.tts.cached_prompts["de"] == ("Hallo.", "Tschüss.")
    assert settings.tts.cached_prompts["en"] == ("One moment.",)  # the default file's, kept


def test_unrelated_environment_is_ignored() -> None:
    settings = load_settings(environ={"HOME": "/root", "VOICE_AGENTX": "1"})
    assert settings == load_settings(environ={})


def test_bad_value_names_key_value_source_and_rule() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environ={"VOICE_AGENT_ASR__BEAM_SIZE": "0"})
    message = str(error.value)
    assert "asr.beam_size" in message
    assert "'0'" in message
    assert "environment" in message
    assert "greater than or equal to 1" in message


def test_bad_choice_in_file_lists_allowed_values(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[vad]\nengine = "magic"\n')
    with pytest.raises(SettingsError) as error:
        load_settings(config, environ={})
    message = str(error.value)
    assert "vad.engine = 'magic'" in message
    assert str(config) in message
    assert "'webrtc'" in message and "'silero'" in message


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "typo.toml"
    config.write_text("[asr]\nbeam = 2\n")
    with pytest.raises(SettingsError, match=r"asr\.beam = 2 .*unknown key"):
        load_settings(config, environ={})


def test_broken_toml_and_missing_file_are_clear(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[asr\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(broken, environ={})
    with pytest.raises(SettingsError, match="config file not found"):
        load_settings(tmp_path / "missing.toml", environ={})
    broken.write_bytes(b'[tts]\nvoice = "caf\xe9"\n')  # found by fuzzing: a UnicodeDecodeError
    with pytest.raises(SettingsError, match=r"not valid TOML: not UTF-8 text \(line 2"):
        load_settings(broken, environ={})


def test_settings_are_frozen() -> None:
    settings = load_settings(environ={})
    with pytest.raises(ValueError):
        settings.asr.beam_size = 5
    assert isinstance(settings, Settings)


def test_the_advertised_sip_address_must_be_an_address() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environ={"VOICE_AGENT_SIP__ADVERTISED_HOST": "pbx.example.com"})
    assert "sip.advertised_host = 'pbx.example.com'" in str(error.value)
    assert "not a host name" in str(error.value)
    settings = load_settings(environ={"VOICE_AGENT_SIP__ADVERTISED_HOST": "203.0.113.10"})
    assert settings.sip.advertised_host == "203.0.113.10"


def test_session_timers_default_to_1800_s_and_min_se_may_not_exceed_the_interval() -> None:
    settings = load_settings(environ={})
    assert (settings.sip.session_expires_s, settings.sip.min_se_s) == (1800, 90)
    with pytest.raises(SettingsError) as error:
        load_settings(
            environ={"VOICE_AGENT_SIP__SESSION_EXPIRES_S": "60", "VOICE_AGENT_SIP__MIN_SE_S": "90"}
        )
    assert "min_se_s must not exceed session_expires_s" in str(error.value)


def test_the_transfer_target_must_be_a_sip_uri() -> None:
    assert load_settings(environ={}).sip.transfer_to == ""  # off unless configured
    with pytest.raises(SettingsError) as error:
        load_settings(environ={"VOICE_AGENT_SIP__TRANSFER_TO": "team@example.com"})
    assert "sip.transfer_to" in str(error.value) and "not a sip:" in str(error.value)
    settings = load_settings(environ={"VOICE_AGENT_SIP__TRANSFER_TO": "sip:team@10.0.0.5:5070"})
    assert settings.sip.transfer_to == "sip:team@10.0.0.5:5070"


def test_a_short_metrics_token_is_refused_and_instance_ids_default_to_host_and_port() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environ={"VOICE_AGENT_SERVER__METRICS_TOKEN": "secret"})
    assert "server.metrics_token" in str(error.value)
    settings = load_settings(environ={"VOICE_AGENT_SERVER__PORT": "9100"})
    assert settings.server.resolved_instance_id().endswith(":9100")
    named = load_settings(environ={"VOICE_AGENT_SERVER__INSTANCE_ID": "agent-2"})
    assert named.server.resolved_instance_id() == "agent-2"


def test_digits_prompts_are_given_for_every_language_english_as_before() -> None:
    prompts = AsrSettings().digits_prompts
    assert set(prompts) == set(SUPPORTED)
    assert prompts["en"] == "The number is 1 2 3 4 5 6 7 8 9 0."
    assert all("1 2 3 4 5 6 7 8 9 0" in prompt for prompt in prompts.values())
    assert AsrSettings().email_prompts == {}
    # config/default.toml says the same
    assert load_settings(environ={}).asr.digits_prompts == prompts


def test_prompts_are_keyed_by_language_codes() -> None:
    with pytest.raises(ValueError, match="two-letter language codes"):
        AsrSettings(digits_prompts={"German": "Die Nummer ist 1 2 3."})
