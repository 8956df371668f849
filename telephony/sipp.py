"""SIPp scenarios for headless callers and auto-answering agents (end-to-end tests and load benchmarks).

sipp streams audio with ``<exec rtp_stream="FILE,LOOPS,PAYLOAD"/>``; FILE must be *raw* mu-law (a WAV
header would be streamed as sound), made with ``sox in.wav -r 8000 -c 1 -t raw -e mu-law out.ulaw``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

SDP = """v=0
      o=hotline 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=sendrecv"""

# A citizen: INVITE the service number with the number from the inf file as caller id, stream the voice,
# stay ``talk_ms`` after the answer, then hang up.
CALLER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="hotline citizen">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:[field0]@[local_ip]:[local_port]>
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
      From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec rtp_stream="{audio},-1,0"/></action></nop>
  <pause milliseconds="{talk_ms}"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
  <ResponseTimeRepartition value="100, 500, 1000, 5000, 10000"/>
</scenario>
"""

# An auto-answering agent: ring ``ring_ms``, answer, talk (stream the agent's voice) until the BYE.
AGENT = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="hotline auto-answer agent">
  <recv request="INVITE" crlf="true"/>
  <send>
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
  <pause milliseconds="{ring_ms}"/>
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
  <recv request="ACK" rtd="true" crlf="true"/>
  <nop><action><exec rtp_stream="{audio},-1,0"/></action></nop>
  <recv request="BYE"/>
  <send>
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
</scenario>
"""


# Keys for the IVR as SIP INFO (application/dtmf-relay; res_pjsip_dtmf_info takes them whatever the
# endpoint's dtmf_mode), each after a pause: a load generator cannot listen for the prompt as a test can.
DTMF_INFO = """  <pause milliseconds="{delay_ms}"/>
  <send retrans="500">
    <![CDATA[
      INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "[field0]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={key}
      Duration=160
    ]]>
  </send>
  <recv response="200"/>
"""


def write_ivr_caller(
    directory: Path, audio: Path, *, keys: list[tuple[int, str]], talk_ms: int, numbers: list[str]
) -> tuple[Path, Path]:
    """A caller through 12345 who presses ``keys`` ((pause before it in ms, key), ...) then talks."""
    infos = "".join(
        DTMF_INFO.format(delay_ms=delay, key=key, cseq=2 + i) for i, (delay, key) in enumerate(keys)
    )
    text = CALLER.format(sdp=SDP, audio=audio, talk_ms=talk_ms)
    text = text.replace(
        f'  <pause milliseconds="{talk_ms}"/>\n', infos + f'  <pause milliseconds="{talk_ms}"/>\n'
    )
    text = text.replace("CSeq: 2 BYE", f"CSeq: {2 + len(keys)} BYE")
    scenario = directory / "ivr-caller.xml"
    scenario.write_text(text, encoding="utf-8")
    inf = directory / "callers.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers), encoding="utf-8")
    return scenario, inf


def to_ulaw(wav: Path, out: Path) -> Path:
    """A raw 8 kHz mono mu-law copy of a WAV (what sipp's rtp_stream plays)."""
    subprocess.run(
        ["sox", str(wav), "-r", "8000", "-c", "1", "-t", "raw", "-e", "mu-law", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def write_caller(directory: Path, audio: Path, *, talk_ms: int, numbers: list[str]) -> tuple[Path, Path]:
    """The caller scenario and its inf file (one caller number per call, in order)."""
    scenario = directory / "caller.xml"
    scenario.write_text(CALLER.format(sdp=SDP, audio=audio, talk_ms=talk_ms), encoding="utf-8")
    inf = directory / "callers.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers), encoding="utf-8")
    return scenario, inf


def write_agent(directory: Path, audio: Path, *, ring_ms: int, name: str = "agent") -> Path:
    scenario = directory / f"{name}.xml"
    scenario.write_text(AGENT.format(sdp=SDP, audio=audio, ring_ms=ring_ms), encoding="utf-8")
    return scenario


@dataclass(frozen=True)
class SippStats:
    """Totals from sipp's ``-trace_stat`` CSV (the last line is cumulative)."""

    successful: int
    failed: int
    created: int

    @classmethod
    def from_csv(cls, path: Path) -> SippStats:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        header = lines[0].split(";")
        last = lines[-1].split(";")
        row = dict(zip(header, last, strict=False))
        return cls(int(row["SuccessfulCall(C)"]), int(row["FailedCall(C)"]), int(row["TotalCallCreated"]))


def caller_command(
    scenario: Path,
    inf: Path,
    *,
    target: str,
    service: str,
    local_port: int,
    calls: int,
    rate: float,
    limit: int,
    media_port: int,
    stats: Path | None = None,
    timeout_s: int = 120,
) -> list[str]:
    cmd = [
        "sipp",
        target,
        "-sf",
        str(scenario),
        "-inf",
        str(inf),
        "-s",
        service,
        "-i",
        "127.0.0.1",
        "-mi",
        "127.0.0.1",
        "-p",
        str(local_port),
        "-mp",
        str(media_port),
        "-m",
        str(calls),
        "-r",
        str(rate),
        "-l",
        str(limit),
        "-nostdin",
        "-timeout",
        f"{timeout_s}s",
        "-timeout_error",
        "-max_socket",
        "2000",
    ]
    if stats:
        cmd += ["-trace_stat", "-stf", str(stats), "-fd", "1"]
    return cmd


def agent_command(
    scenario: Path, *, local_port: int, media_port: int, stats: Path | None = None
) -> list[str]:
    cmd = [
        "sipp",
        "-sf",
        str(scenario),
        "-i",
        "127.0.0.1",
        "-mi",
        "127.0.0.1",
        "-p",
        str(local_port),
        "-mp",
        str(media_port),
        "-nostdin",
    ]
    if stats:
        cmd += ["-trace_stat", "-stf", str(stats), "-fd", "1"]
    return cmd
