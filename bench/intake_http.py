"""Work-order intake through the HTTP API on PostgreSQL: orders per second and latency, and how close
that comes to what the database itself can do with the same writes.

Each request is one intake: validation, routing (dispatch rules), the order, its assignments, response and
resolution deadlines, audit records and outbox rows, all in one transaction. The server runs as uvicorn
with two worker processes; the load comes from wrk (C, so the load generator takes little of the 2 cores),
with a Lua script that varies the description and the phone number.

Right after the HTTP measurement, in the same run, pgbench replays exactly the rows that intakes wrote
(one script per kind of order the load produced, copied from the database: the number drawn from the
sequence, the order, its assignments, deadlines, audit and outbox rows) as one transaction per intake,
statement by statement as the ORM sends them, with as many clients and for as long. The ratio of the two
rates is the figure to compare between runs: the machine is shared, and both halves see the same load.

    .venv/bin/python bench/intake_http.py [--seconds 20] [--connections 16] [--workers 2]
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
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

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


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# ---- pgbench: the same writes, straight into the database ---------------------------------------------
CHILDREN = ("order_assignments", "order_deadlines", "order_audit")


def _literal(value: str | None) -> str:
    """A string constant PostgreSQL coerces to the column's type. Written with Unicode escapes (U&'…')
    so that no colon is left in it: pgbench would read ``:name`` inside a literal as its own variable."""
    if value is None:
        return "NULL"
    escaped = value.replace("\\", "\\\\").replace("'", "''").replace(":", "\\003A")
    return f"U&'{escaped}'"


def _literals(c: Connection, table: str, where: str, skip: tuple[str, ...], **params: object) -> list[str]:
    """The rows of ``table`` as SQL value lists, columns in table order (first item: the column list)."""
    cols = [
        r[0]
        for r in c.execute(
            text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
                "ORDER BY ordinal_position"
            ),
            {"t": table},
        )
        if r[0] not in skip
    ]
    as_text = ", ".join(f'CAST("{col}" AS text)' for col in cols)
    rows = c.execute(text(f"SELECT {as_text} FROM {table} WHERE {where} ORDER BY id"), params).all()
    return [", ".join(f'"{col}"' for col in cols), *(", ".join(_literal(v) for v in row) for row in rows)]


def replay_scripts(c: Connection, directory: Path) -> list[Path]:
    """One pgbench script per kind of order the run wrote (by number of assignments, deadlines, audit
    and outbox rows), each the statements one intake sends, with that order's own values."""
    scripts: list[Path] = []
    seen: set[tuple[int, ...]] = set()
    recent = c.execute(text("SELECT id, number FROM work_orders ORDER BY id DESC LIMIT 50")).all()
    for order_id, number in recent:
        counts = tuple(
            int(
                c.execute(text(f"SELECT count(*) FROM {t} WHERE order_id = :o"), {"o": order_id}).scalar_one()
            )
            for t in CHILDREN
        )
        outbox = c.execute(
            text("SELECT count(*) FROM event_outbox WHERE payload LIKE :n"), {"n": f'%"{number}"%'}
        ).scalar_one()
        shape = (*counts, int(outbox))
        if shape in seen:
            continue
        seen.add(shape)
        order_cols, order_row = _literals(c, "work_orders", "id = :o", ("id", "number"), o=order_id)
        prefix = number[:-7]
        lines = [
            "BEGIN;",
            "SELECT nextval('hotline_number_seq') AS seq \\gset",
        ]
        out_cols, *out_rows = _literals(
            c, "event_outbox", "payload LIKE :n", ("id", "published_at"), n=f'%"{number}"%'
        )
        if out_rows:
            values = ", ".join(f"({r})" for r in out_rows)
            lines.append(f"INSERT INTO event_outbox ({out_cols}) VALUES {values};")
        lines.append(
            f"INSERT INTO work_orders (number, {order_cols}) VALUES "
            f"('{prefix}' || lpad(CAST(:seq AS text), 7, '0'), {order_row}) RETURNING id AS oid \\gset"
        )
        for table in CHILDREN:
            cols, *rows = _literals(c, table, "order_id = :o", ("id", "order_id"), o=order_id)
            if rows:
                values = ", ".join(f"(:oid, {r})" for r in rows)
                lines.append(f"INSERT INTO {table} (order_id, {cols}) VALUES {values};")
        lines.append("COMMIT;")
        path = directory / f"replay_{len(scripts)}.sql"
        path.write_text("\n".join(lines) + "\n")
        scripts.append(path)
    return scripts


def pgbench(url: str, scripts: list[Path], clients: int, seconds: int) -> tuple[float, str]:
    u = make_url(url)
    env = {**os.environ, "PGPASSWORD": u.password or ""}
    args = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds)]
    args += ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    for script in scripts:
        args += ["-f", f"{script}@1"]
    out = subprocess.run([*args, u.database or "postgres"], capture_output=True, text=True, env=env)
    found = re.search(r"tps = ([\d.]+)", out.stdout)
    if found is None:
        sys.exit(f"pgbench failed:\n{out.stdout}\n{out.stderr}")
    return float(found.group(1)), out.stdout


def wrk_figures(out: str) -> dict[str, str]:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    figures = {"orders/s": rate.group(1) if rate else "?"}
    for pct in ("50", "99"):
        found = re.search(rf"\s{pct}%\s+([\d.]+\w+)", out)
        figures[f"p{pct}"] = found.group(1) if found else "?"
    return figures


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    for tool, package in (("wrk", "wrk"), ("pgbench", "postgresql-client")):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (apt-get install {package})")
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
        load_http = load()
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
        server.terminate()
        server.wait(timeout=20)
        server = None
        engine = create_engine(url)
        with engine.connect() as c:
            orders = c.execute(text("SELECT count(*) FROM work_orders")).scalar_one()
            dispatched = c.execute(
                text("SELECT count(*) FROM work_orders WHERE state='dispatched'")
            ).scalar_one()
            audits = c.execute(text("SELECT count(*) FROM order_audit")).scalar_one()
            outbox = c.execute(text("SELECT count(*) FROM event_outbox")).scalar_one()
            scripts = replay_scripts(c, tmp)
        engine.dispose()
        load_pg = load()
        tps, pg_out = pgbench(url, scripts, args.connections, args.seconds)
        print(out)
        print(pg_out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out + warm.stdout)
        figures = wrk_figures(out)
        print(
            f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        print(f"load before HTTP:    {load_http}")
        print(f"load before pgbench: {load_pg}")
        print(
            f"orders in database: {orders} (dispatched {dispatched}), audit records {audits}, "
            f"outbox rows {outbox}, non-2xx responses: {non2xx.group(1) if non2xx else 0}"
        )
        rate = float(figures["orders/s"]) if figures["orders/s"] != "?" else 0.0
        print(
            f"HTTP intake: {figures['orders/s']} orders/s, p50 {figures['p50']}, p99 {figures['p99']} "
            f"({args.workers} workers, {args.connections} connections, {args.seconds} s)"
        )
        print(f"pgbench replay of the same writes ({len(scripts)} order shapes): {tps:.0f} tps")
        print(f"ratio HTTP / pgbench: {rate / tps:.3f}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
