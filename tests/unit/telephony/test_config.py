from __future__ import annotations

from telephony.config import MODULES, AgentAccount, SwitchConfig, render
from telephony.switch import ANSI_CODE


def _config(**kw: object) -> SwitchConfig:
    agents = (
        AgentAccount("agent1001", "s3cret1001", "Li Lei", ("urgent", "consultation")),
        AgentAccount("agent1002", "s3cret1002", "Han Mei", ("complaint",), logged_in=False),
    )
    values: dict[str, object] = {"instance": "main", "ari_password": "generated-ari", "agents": agents}
    values.update(kw)
    return SwitchConfig(**values)  # type: ignore[arg-type]


def test_everything_binds_to_loopback_on_the_configured_ports() -> None:
    files = render(_config(http_port=18088, sip_port=15060, rtp_start=30000, rtp_end=30099))
    assert "bindaddr = 127.0.0.1" in files["http.conf"]
    assert "bindport = 18088" in files["http.conf"]
    assert "bind = 127.0.0.1:15060" in files["pjsip.conf"]
    assert "rtpstart = 30000" in files["rtp.conf"]
    assert "media_address = 127.0.0.1" in files["pjsip.conf"]


def test_passwords_come_from_the_installation_not_the_templates() -> None:
    files = render(_config())
    assert "password = generated-ari" in files["ari.conf"]
    assert "password = s3cret1001" in files["pjsip.conf"]


def test_modules_are_explicit_with_their_dependencies() -> None:
    modules = render(_config())["modules.conf"]
    assert "autoload = no" in modules
    for needed, dependency in (
        ("res_agi", "res_speech"),
        ("res_ari", "res_websocket_client"),
        ("chan_rtp", "res_rtp_multicast"),
        ("chan_pjsip", "res_pjsip_pubsub"),
    ):
        assert f"load = {needed}.so" in modules
        assert f"load = {dependency}.so" in modules
    assert len(set(MODULES)) == len(MODULES)


def test_logged_in_agents_are_members_of_their_skill_queues() -> None:
    queues = render(_config())["queues.conf"]
    urgent = queues.split("[urgent]")[1]
    complaint = queues.split("[complaint]")[1].split("[")[0]
    assert "member => PJSIP/agent1001,0,agent1001,PJSIP/agent1001" in urgent
    assert "agent1002" not in complaint  # logged out
    consultation = queues.split("[consultation]")[1].split("[")[0]
    assert "announce-position = yes" in consultation
    assert "announce-holdtime = yes" in consultation
    assert "weight = 10" in urgent
    # app_queue rings nobody while it announces: an urgent caller gets no announcement to wait through
    assert "announce-frequency = 0" in urgent
    assert "announce-position = no" in urgent


def test_dialplan_contract_with_the_ivr() -> None:
    ext = render(_config(fastagi_host="127.0.0.1", fastagi_port=4599))["extensions.conf"]
    # Every key is kept from the first moment (type-ahead, ivr/typeahead.py), until the IVR is done.
    assert (
        "exten => 12345,1,Set(HOTLINE_KEYS=)\n same => n,StoreDTMF(RX,HOTLINE_KEYS)\n same => n,Answer()"
        in ext
    )
    assert " same => n,AGI(agi://127.0.0.1:4599/ivr)\n same => n,StoreDTMF(remove)" in ext
    assert " same => n,Set(HOTLINE_CALL_ID=${UNIQUEID})" in ext
    assert " same => n,AGI(agi://127.0.0.1:4599/ivr)" in ext
    assert " same => n,Goto(hotline-route,${HOTLINE_ROUTE},1)" in ext
    for route in ("queue-consultation", "queue-complaint", "queue-urgent", "callback", "hangup", "i", "h"):
        assert f"exten => {route}," in ext
    assert "Set(QUEUE_PRIO=" in ext
    assert "MixMonitor(${HOTLINE_RECORDING_FILE}.wav,r(" in ext
    # A waiting caller's language key, back to the place they left.
    exit_context = ext.split("\n[hotline-queue-exit]")[1].split("\n[")[0]
    assert "exten => 2,1,Set(HOTLINE_LANG=en)" in exit_context
    assert "Set(HOTLINE_REQUEUE_AT=${QUEUEPOSITION})" in exit_context
    assert "{{ queue_timeout }}" not in ext and ",,,,${position})" in ext


def test_no_colour_codes_in_cli_answers() -> None:
    assert "nocolor = yes" in render(_config())["asterisk.conf"]
    # what `queue show` printed before (hotline asterisk status showed it raw)
    coloured = (
        "agent1001 (ringinuse disabled)\x1b[0m (\x1b[1;32;40mNot in use\x1b[0m) \x1b[1;33;40m(login)\x1b[0m"
    )
    assert ANSI_CODE.sub("", coloured) == "agent1001 (ringinuse disabled) (Not in use) (login)"


def test_direct_test_extensions_can_be_left_out() -> None:
    ext = render(_config(direct_extensions=False))["extensions.conf"]
    assert "12346" not in ext
    assert "include => hotline-direct" not in ext


def test_the_queues_language_keys_are_the_menus() -> None:
    """A waiting caller's language key is the dialplan's; it must say what the IVR's no-menu mode says."""
    from ivr.model import builtin_menu
    from telephony.config import DEFAULT_LANGUAGE_KEYS

    assert dict(builtin_menu("hotline").direct.language_keys) == DEFAULT_LANGUAGE_KEYS
