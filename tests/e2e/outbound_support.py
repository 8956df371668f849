"""Test citizens for the outbound-call tests: sipp user agents that answer, refuse or ignore a call.

A person answering the survey hears a question and then presses a key. sipp cannot hear, so the test's
survey handler sends a SIP MESSAGE on the call (AGI ``SEND TEXT``, which chan_pjsip turns into an in-dialog
MESSAGE) each time the survey asks; the citizen's scenario waits for it, then sends the next key as RFC 2833
(RFC 4733) telephone events from sipp's bundled pcap files. The keys are thus pressed while the question is
being asked, whatever the speed of the machine.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from ivr.agi_port import AgiCallPort
from ivr.port import CallPort
from telephony.testing import free_port

DTMF_PCAPS = Path("/usr/share/sip-tester")

# PCMU plus telephone-event on 101, the payload type of sipp's dtmf_2833_*.pcap files.
SDP = """v=0
      o=citizen 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=sendrecv"""

_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
  <recv request="INVITE" crlf="true">{capture}</recv>
"""

# The switch's Contact, where the citizen's own BYE goes.
_CAPTURE = """
    <action>
      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" check_it="true" assign_to="switch"/>
    </action>
  """

_RINGING = """  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0
    ]]>
  </send>
"""

_ANSWER = """  <pause milliseconds="{ring_ms}"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      {sdp}
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
"""

_OK = """  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0
    ]]>
  </send>
"""

_KEY = (
    """  <recv request="MESSAGE"/>
"""
    + _OK
    + """  <pause milliseconds="300"/>
  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
"""
)

# After its keys the citizen either hears the survey end (the switch's BYE) or, asked one more question,
# hangs up: that is what silence would lead to (a question unanswered), without waiting for the time-outs.
_END = (
    """  <recv request="MESSAGE" optional="true" next="9">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="remote"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="local"/>
    </action>
  </recv>
  <recv request="BYE"/>
"""
    + _OK
    + """  <nop next="10"><action><log message="survey ended by the switch"/></action></nop>
  <label id="9"/>
"""
    + _OK
    + """  <send retrans="500">
    <![CDATA[
      BYE [$switch] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$local]
      To: [$remote]
      [last_Call-ID:]
      CSeq: 2 BYE
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
  <label id="10"/>
"""
)

_BUSY = """  <send>
    <![CDATA[
      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK"/>
"""

# Ring until the caller gives up: CANCEL, 200 to the CANCEL, 487 to the INVITE.
_NO_ANSWER = """  <recv request="CANCEL"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [cseq] INVITE
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK"/>
"""

_TAIL = "</scenario>\n"


def dtmf_pcap(key: str, press: int, directory: Path) -> Path:
    """sipp's RFC 2833 capture of ``key``, renumbered as the ``press``-th key of the call.

    sipp replays a capture as it is, and its bundled files carry fixed RTP sequence numbers and timestamps
    (those of '9' are above those of '1'): Asterisk drops a key whose packets go back in sequence, so each
    press gets sequence numbers and a timestamp after the previous one.
    """
    name = {"*": "star", "#": "pound"}.get(key, key)
    data = bytearray((DTMF_PCAPS / f"dtmf_2833_{name}.pcap").read_bytes())
    offset, packet = 24, 0  # pcap global header; then 16-byte record headers
    while offset < len(data):
        (length,) = struct.unpack_from("<I", data, offset + 8)
        rtp = offset + 16 + 14 + 20 + 8  # Ethernet, IPv4, UDP
        struct.pack_into(">HI", data, rtp + 2, 1000 + 100 * press + packet, 160_000 * (press + 1))
        offset += 16 + length
        packet += 1
    path = directory / f"dtmf-{press}-{name}.pcap"
    path.write_bytes(bytes(data))
    return path


def answering_scenario(keys: Sequence[str], directory: Path, *, ring_ms: int = 200) -> str:
    """Answer, press ``keys`` one per question asked, then hang up at the next question or hear the end."""
    body = (
        _HEAD.format(name="citizen answers", capture=_CAPTURE)
        + _RINGING
        + _ANSWER.format(ring_ms=ring_ms, sdp=SDP)
    )
    for press, key in enumerate(keys):
        body += _KEY.format(pcap=dtmf_pcap(key, press, directory))
    return body + _END + _TAIL


def talking_scenario(talk_ms: int, *, ring_ms: int = 200) -> str:
    """Answer, talk ``talk_ms`` (or until the switch hangs up), then hang up."""
    capture = """
    <action>
      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" check_it="true" assign_to="switch"/>
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="remote"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="local"/>
    </action>
  """
    body = (
        _HEAD.format(name="citizen talks", capture=capture)
        + _RINGING
        + _ANSWER.format(ring_ms=ring_ms, sdp=SDP)
    )
    body += (
        f"""  <recv request="BYE" timeout="{talk_ms}" ontimeout="1"/>
"""
        + _OK
        + """  <nop next="3"><action><log message="hung up by the switch"/></action></nop>
  <label id="1"/>
  <send retrans="500">
    <![CDATA[
      BYE [$switch] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$local];tag=[pid]SIPpTag01[call_number]
      To: [$remote]
      [last_Call-ID:]
      CSeq: 2 BYE
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
  <label id="3"/>
"""
    )
    return body + _TAIL


def busy_scenario() -> str:
    return _HEAD.format(name="citizen busy", capture="") + _BUSY + _TAIL


def no_answer_scenario() -> str:
    return _HEAD.format(name="citizen does not answer", capture="") + _RINGING + _NO_ANSWER + _TAIL


@contextlib.contextmanager
def citizen(work: Path, scenarios: Sequence[str], *, port: int | None = None) -> Iterator[int]:
    """One sipp UAS per scenario, one after the other on the same port; yields the port.

    Each scenario handles one call (``-m 1``); the next one starts when the previous call is over.
    """
    port = port or free_port(socket.SOCK_DGRAM)
    procs: list[subprocess.Popen[bytes]] = []
    stop = False

    def run_all() -> None:
        for i, text in enumerate(scenarios):
            if stop:
                return
            path = work / f"citizen{port}-{i}.xml"
            path.write_text(text, encoding="utf-8")
            proc = subprocess.Popen(
                [
                    "sipp",
                    "-sf",
                    str(path),
                    "-i",
                    "127.0.0.1",
                    "-mi",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-mp",
                    str(free_port(socket.SOCK_DGRAM)),
                    "-m",
                    "1",
                    "-nostdin",
                    "-trace_err",
                    "-error_file",
                    str(work / f"citizen{port}-{i}.err"),
                    "-trace_msg",
                    "-message_file",
                    str(work / f"citizen{port}-{i}.msg"),
                ],
                cwd=work,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            procs.append(proc)
            proc.wait()

    thread = threading.Thread(target=run_all, daemon=True)
    thread.start()
    _wait_bound(port)
    try:
        yield port
    finally:
        stop = True
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
        thread.join(timeout=5)


def _wait_bound(port: int, within: float = 5.0) -> None:
    """Until sipp listens on ``port`` (an INVITE sent before would be lost to ICMP)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise RuntimeError(f"sipp did not start listening on {port}")


class AskingPort:
    """The survey's call port as a person experiences it: each question is announced to the test citizen."""

    def __init__(self, inner: CallPort) -> None:
        self.inner = inner

    def play(self, prompt: str) -> None:
        self.inner.play(prompt)

    def read_digits(self, prompt: str, max_digits: int, timeout_ms: int) -> str | None:
        if isinstance(self.inner, AgiCallPort):
            self.inner.agi.send_text(f"question {prompt}")
        return self.inner.read_digits(prompt, max_digits, timeout_ms)

    def pending(self) -> str:
        return self.inner.pending()

    def set_variable(self, name: str, value: str) -> None:
        self.inner.set_variable(name, value)

    def hangup(self) -> None:
        self.inner.hangup()


# ---- callers (user agent clients) -----------------------------------------------------------------------
_CALL = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{number}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      {sdp}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{number}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""

_CALLER_BYE = """  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{number}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:{number}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
"""


def callback_caller_scenario(number: str, directory: Path, *, presses: int = 8) -> str:
    """Call, and once waiting press * (again each second, until the switch hangs up: a key pressed before the
    caller is in the queue is not an exit key yet)."""
    body = _CALL.format(name="caller asks for a callback", number=number, sdp=SDP)
    for press in range(presses):
        body += f"""  <label id="{press + 1}"/>
  <pause milliseconds="700"/>
  <nop><action><exec play_pcap_audio="{dtmf_pcap("*", press, directory)}"/></action></nop>
  <recv request="BYE" timeout="1000" ontimeout="{press + 2}" next="99"/>
"""
    body += (
        f"""  <label id="{presses + 1}"/>
  <recv request="BYE"/>
  <label id="99"/>
"""
        + _OK
    )
    return body + _TAIL


def waiting_caller_scenario(number: str, wait_ms: int) -> str:
    """Call and wait (in the queue, or talking) ``wait_ms``, then hang up; or be hung up."""
    body = _CALL.format(name="caller waits", number=number, sdp=SDP)
    body += (
        f"""  <recv request="BYE" timeout="{wait_ms}" ontimeout="1"/>
"""
        + _OK
        + """  <nop next="3"><action><log message="hung up by the switch"/></action></nop>
  <label id="1"/>
"""
        + _CALLER_BYE.format(number=number)
        + """  <label id="3"/>
"""
    )
    return body + _TAIL


def caller(
    work: Path, scenario: str, *, switch_port: int, service: str, name: str
) -> subprocess.Popen[bytes]:
    """Start one call (a sipp client) to ``service`` on the switch; the caller's process is returned."""
    path = work / f"{name}.xml"
    path.write_text(scenario, encoding="utf-8")
    return subprocess.Popen(
        [
            "sipp",
            f"127.0.0.1:{switch_port}",
            "-sf",
            str(path),
            "-s",
            service,
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-p",
            str(free_port(socket.SOCK_DGRAM)),
            "-mp",
            str(free_port(socket.SOCK_DGRAM)),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "60s",
            "-trace_err",
            "-error_file",
            str(work / f"{name}.err"),
            "-trace_msg",
            "-message_file",
            str(work / f"{name}.msg"),
        ],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
