"""Work-order intake through the HTTP API on PostgreSQL: orders per second and latency.

Each request is one intake: validation, routing (dispatch rules), the order, its assignments, response and
resolution deadlines, and audit records, all in one transaction. The server runs as uvicorn with two
worker processes; the load comes from wrk (C, so the load generator takes little of the 2 cores), with
a Lua script that varies the description and the phone number.

    .venv/bin/python bench/intake_http.py [--seconds 20] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ADMIN = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

LUA = r"""
counter = 0
descriptions = {
  "海甸五西路工地夜间施工噪音扰民，凌晨两点还在打桩",
  "小区门口路灯不亮已经一周，晚上出行不安全",
  "咨询社保卡补办需要带什么材料",
  "龙华区金贸街道某餐馆油烟直排，影响居民生活",
  "琼山区府城街道路面破损严重，电动车容易摔倒",
}
request = function()
  counter = counter + 1
  local body = string.format('{"channel":"web","description":"%s 编号%d","citizen_phone":"138%08d","location_text":"美兰区海甸岛","district":"美兰区"}',
    descriptions[(counter %% 5) + 1], counter, counter %% 100000000)
  return wrk.format("POST", "/api/work-orders", {["Content-Type"]="application/json", ["X-API-Key"]="%KEY%"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed (apt-get install wrk)")
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, "HOTLINE_DATABASE_URL": url, "HOTLINE_DATA_DIR": str(tmp)}
    server = None
    try:
        subprocess.run(
            [sys.executable, "-m", "hotline.cli", "seed"], env=env, check=True, capture_output=True
        )
        key = subprocess.run(
            [
                sys.executable,
                "-c",
                (
                    "from hotline.bootstrap import bootstrap; from routing.apikeys import create_api_key\n"
                    "hot = bootstrap()\n"
                    "with hot.session_factory() as s, s.begin(): print(create_api_key(s, 'bench', 'integration'))"
                ),
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "hotline.web:app_factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        script = tmp / "intake.lua"
        script.write_text(LUA.replace("%KEY%", key).replace("%%", "%"))
        warm = subprocess.run(
            ["wrk", "-t1", "-c4", "-d3s", "-s", str(script), f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
        )
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
        ).stdout
        engine = create_engine(url)
        with engine.connect() as c:
            orders = c.execute(text("SELECT count(*) FROM work_orders")).scalar_one()
            dispatched = c.execute(
                text("SELECT count(*) FROM work_orders WHERE state='dispatched'")
            ).scalar_one()
            audits = c.execute(text("SELECT count(*) FROM order_audit")).scalar_one()
        engine.dispose()
        print(out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out + warm.stdout)
        print(
            f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}, {datetime.now(UTC):%Y-%m-%d}"
        )
        print(
            f"orders in database: {orders} (dispatched {dispatched}), audit records {audits}, "
            f"non-2xx responses: {non2xx.group(1) if non2xx else 0}"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
