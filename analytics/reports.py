"""Daily, weekly and monthly reports for the leadership: a PDF with charts (reportlab, CJK text in the
WenQuanYi Micro Hei font that scripts/system-deps.sh installs) and an Excel workbook (openpyxl).

Generated on demand (page, CLI) and on schedule (:func:`run_due`, called by the roof's periodic job): each
(kind, period, format) is claimed once in ``analytics_report_runs``, so several processes never write the
same report twice.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from analytics.errors import AnalyticsError
from analytics.hot_events import list_events
from analytics.kpis import breakdown, kpis
from analytics.orm import ReportRunRow
from analytics.periods import Period, local_today
from analytics.wiring import AnalyticsParts
from routing.views import backlog_by_unit

Kind = Literal["daily", "weekly", "monthly"]
KINDS: tuple[Kind, ...] = ("daily", "weekly", "monthly")
FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
)
TITLES = {"daily": "日报", "weekly": "周报", "monthly": "月报"}


def period_of(kind: Kind, day: date) -> Period:
    if kind == "daily":
        return Period(day, day)
    if kind == "weekly":
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=6))
    start = day.replace(day=1)
    nxt = (start + timedelta(days=32)).replace(day=1)
    return Period(start, nxt - timedelta(days=1))


@dataclass
class ReportData:
    kind: Kind
    period: Period
    kpis: dict[str, Any]
    days: list[dict[str, Any]]
    districts: list[dict[str, Any]]
    units: list[dict[str, Any]]
    overdue: list[dict[str, Any]]
    hot_events: list[dict[str, Any]]


def collect(parts: AnalyticsParts, kind: Kind, day: date) -> ReportData:
    now = parts.clock.now()
    p = period_of(kind, day)
    if p.first > local_today(now):
        raise AnalyticsError("报告期尚未开始", "the report's period has not begun")
    p = Period(p.first, min(p.last, local_today(now)))
    with parts.session_factory() as session:
        totals = kpis(session, p, now)
        days = breakdown(session, p, now, "all", "day")
        districts = breakdown(session, p, now, "district", "total")
        units = sorted(
            (r for r in breakdown(session, p, now, "unit", "total") if r["key"]),
            key=lambda r: -r["orders_accepted"],
        )[:20]
        overdue = [u.__dict__ for u in backlog_by_unit(session, now)[:15]]
        events = [
            e.as_dict() for e in list_events(session, "all", 200) if p.since <= e.window_start < p.until
        ]
    return ReportData(kind, p, totals, days, [d for d in districts if d["key"]], units, overdue, events)


# ---- Excel ----------------------------------------------------------------------------------------------
KPI_LABELS = (
    ("calls_offered", "来电量"),
    ("calls_answered", "接通量"),
    ("calls_abandoned", "放弃量"),
    ("answered_within_15s_rate", "15秒接通率"),
    ("connection_rate", "人工接通率"),
    ("average_speed_of_answer_s", "平均应答时长(秒)"),
    ("average_handle_time_s", "平均通话时长(秒)"),
    ("missed_calls_called_back", "漏接回拨"),
    ("orders_accepted", "受理工单"),
    ("on_time_response_rate", "按时签收率"),
    ("on_time_resolution_rate", "按时办结率"),
    ("first_contact_resolution_rate", "一次性办结率"),
    ("satisfaction_rate", "满意率"),
    ("callback_rate", "回访率"),
    ("supervision_resolution_rate", "督办件解决率"),
    ("returns", "退单"),
    ("appeals", "申诉"),
    ("supervisions", "督办件"),
)


def _cell(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def excel(data: ReportData) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    ws.append([f"海口12345 {TITLES[data.kind]}", f"{data.period.first} 至 {data.period.last}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["指标", "数值"])
    for key, label in KPI_LABELS:
        ws.append([label, _cell(data.kpis.get(key))])
    ws.column_dimensions["A"].width = 22
    days = wb.create_sheet("每日")
    days.append(["日期", "来电", "接通", "15秒接通率", "受理工单", "按时签收率", "满意率"])
    for d in data.days:
        days.append([d["period"], d["calls_offered"], d["calls_answered"], _cell(d["answered_within_15s_rate"]),
                     d["orders_accepted"], _cell(d["on_time_response_rate"]), _cell(d["satisfaction_rate"])])  # fmt: skip
    if len(data.days) > 1:
        chart = LineChart()
        chart.title = "来电与工单"
        chart.add_data(
            Reference(days, min_col=2, min_row=1, max_row=len(data.days) + 1), titles_from_data=True
        )
        chart.add_data(
            Reference(days, min_col=5, min_row=1, max_row=len(data.days) + 1), titles_from_data=True
        )
        chart.set_categories(Reference(days, min_col=1, min_row=2, max_row=len(data.days) + 1))
        days.add_chart(chart, "I2")
    for title, rows in (("各区", data.districts), ("各单位", data.units)):
        sheet = wb.create_sheet(title)
        sheet.append(["名称", "受理工单", "按时签收率", "按时办结率", "满意率", "督办件", "退单"])
        for r in rows:
            sheet.append([r["name"], r["orders_accepted"], _cell(r["on_time_response_rate"]),
                          _cell(r["on_time_resolution_rate"]), _cell(r["satisfaction_rate"]), r["supervisions"], r["returns"]])  # fmt: skip
        sheet.column_dimensions["A"].width = 30
    over = wb.create_sheet("超时单位")
    over.append(["单位", "在办", "签收超时", "办结超时"])
    for u in data.overdue:
        over.append([u["unit_name"], u["open_orders"], u["response_overdue"], u["resolution_overdue"]])
    hot = wb.create_sheet("热点事件")
    hot.append(["地点", "事由", "件数", "开始", "状态", "主单"])
    for e in data.hot_events:
        hot.append([e["place"], e["summary"], e["size"], e["window_start"], e["state"], e["master_number"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- PDF ------------------------------------------------------------------------------------------------
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "WQY" in pdfmetrics.getRegisteredFontNames():
        return "WQY"
    for path in FONT_PATHS:
        if path.exists():
            pdfmetrics.registerFont(TTFont("WQY", str(path), subfontIndex=0))
            return "WQY"
    raise AnalyticsError(
        "缺少中文字体 fonts-wqy-microhei（scripts/system-deps.sh 会安装）",
        "the CJK font fonts-wqy-microhei is missing (scripts/system-deps.sh installs it)",
    )


def _pct(v: Any) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def pdf(data: ReportData) -> bytes:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    h1 = ParagraphStyle("h1", fontName=font, fontSize=18, leading=24)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=8)
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13)
    style = TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 9),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dbe7ff")),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ])  # fmt: skip
    k = data.kpis
    story: list[Any] = [
        Paragraph(f"海口12345 政务服务热线 {TITLES[data.kind]}", h1),
        Paragraph(f"统计期：{data.period.first} 至 {data.period.last}（海口时间，含首尾两日）", body),
        Spacer(1, 4 * mm),
        Paragraph("一、主要指标", h2),
    ]
    rows = [["指标", "数值", "指标", "数值"]]
    pairs = [(label, _pct(k.get(key)) if key.endswith("rate") else str(k.get(key) if k.get(key) is not None else "—"))
             for key, label in KPI_LABELS]  # fmt: skip
    for i in range(0, len(pairs), 2):
        left, right = pairs[i], pairs[i + 1] if i + 1 < len(pairs) else ("", "")
        rows.append([left[0], left[1], right[0], right[1]])
    story.append(Table(rows, colWidths=[42 * mm, 38 * mm, 42 * mm, 38 * mm], style=style))
    if len(data.days) > 1:
        story.append(Paragraph("二、每日来电与工单", h2))
        drawing = Drawing(170 * mm, 60 * mm)
        plot = LinePlot()
        plot.x, plot.y, plot.width, plot.height = 12 * mm, 8 * mm, 150 * mm, 48 * mm
        plot.data = [
            [(i, d["calls_offered"]) for i, d in enumerate(data.days)],
            [(i, d["orders_accepted"]) for i, d in enumerate(data.days)],
        ]
        plot.yValueAxis.valueMin = 0
        plot.lines[0].strokeColor = colors.HexColor("#1e88e5")
        plot.lines[1].strokeColor = colors.HexColor("#e53935")
        drawing.add(plot)
        drawing.add(String(140 * mm, 57 * mm, "蓝：来电  红：工单", fontName=font, fontSize=8))
        story.append(drawing)
    if data.districts:
        story.append(Paragraph("三、各区受理工单", h2))
        drawing = Drawing(170 * mm, 55 * mm)
        bars = VerticalBarChart()
        bars.x, bars.y, bars.width, bars.height = 15 * mm, 10 * mm, 140 * mm, 40 * mm
        bars.data = [[d["orders_accepted"] for d in data.districts]]
        bars.categoryAxis.categoryNames = [d["key"] for d in data.districts]
        bars.categoryAxis.labels.fontName = font
        bars.bars[0].fillColor = colors.HexColor("#3fa7ff")
        bars.valueAxis.valueMin = 0
        drawing.add(bars)
        story.append(drawing)
    story.append(Paragraph("四、受理量前列单位", h2))
    unit_rows = [["单位", "受理", "按时签收", "按时办结", "满意率", "督办件"]]
    unit_rows += [[u["name"][:18], u["orders_accepted"], _pct(u["on_time_response_rate"]),
                   _pct(u["on_time_resolution_rate"]), _pct(u["satisfaction_rate"]), u["supervisions"]]
                  for u in data.units[:12]]  # fmt: skip
    story.append(Table(unit_rows, style=style))
    story.append(Paragraph("五、当前超时单位", h2))
    over = [["单位", "在办", "签收超时", "办结超时"]]
    over += [
        [u["unit_name"][:22], u["open_orders"], u["response_overdue"], u["resolution_overdue"]]
        for u in data.overdue[:10]
    ]
    story.append(Table(over, style=style))
    story.append(Paragraph(f"六、热点事件（{len(data.hot_events)} 起）", h2))
    for e in data.hot_events[:12]:
        story.append(Paragraph(f"{e['place']} · {e['summary']} · {e['size']} 件 · {e['state']}", body))
    out = io.BytesIO()
    SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, title=f"海口12345 {TITLES[data.kind]}"
    ).build(story)
    return out.getvalue()


# ---- on demand and on schedule ----------------------------------------------------------------------
def render(parts: AnalyticsParts, kind: Kind, day: date, fmt: str) -> bytes:
    if kind not in KINDS or fmt not in ("pdf", "xlsx"):
        raise AnalyticsError(
            "报告类型须为 daily/weekly/monthly，格式 pdf/xlsx", "kind: daily/weekly/monthly; format: pdf/xlsx"
        )
    data = collect(parts, kind, day)
    return pdf(data) if fmt == "pdf" else excel(data)


def run_due(parts: AnalyticsParts, by: str = "system:reports") -> list[Path]:
    """Write the reports of the last complete day, week and month that are not written yet."""
    today = local_today(parts.clock.now())
    yesterday = today - timedelta(days=1)
    due = [
        ("daily", yesterday),
        ("weekly", yesterday - timedelta(days=yesterday.weekday() + (0 if yesterday.weekday() == 6 else 7))),
        ("monthly", (today.replace(day=1) - timedelta(days=1)).replace(day=1)),
    ]
    written: list[Path] = []
    for kind, day in due:
        p = period_of(kind, day)  # type: ignore[arg-type]
        for fmt in ("pdf", "xlsx"):
            with parts.write_session_factory() as session:
                try:
                    with session.begin():
                        run = ReportRunRow(kind=kind, period_start=p.first, period_end=p.last, fmt=fmt,
                                           created_at=parts.clock.now(), created_by=by)  # fmt: skip
                        session.add(run)
                        session.flush()
                except IntegrityError:
                    continue  # another process has it
            started = time.perf_counter()
            path = parts.reports_dir / f"hotline-{kind}-{p.first}.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render(parts, kind, day, fmt))  # type: ignore[arg-type]
            with parts.write_session_factory() as session, session.begin():
                row = session.get(ReportRunRow, run.id)
                if row is not None:
                    row.path, row.seconds = str(path), time.perf_counter() - started
            written.append(path)
    return written


def recent_runs(parts: AnalyticsParts, limit: int = 30) -> list[ReportRunRow]:
    with parts.session_factory() as session:
        return list(session.scalars(select(ReportRunRow).order_by(ReportRunRow.id.desc()).limit(limit)))
