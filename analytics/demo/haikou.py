"""The shape of Haikou's 12345 traffic, as the seed articles describe it, for the demo generator.

Volumes: 5,243 calls a day on average in 2018, up to 20,000 on the worst days (typhoons); 1.91 million
orders a year. Citizens call more on Monday mornings and less at weekends and on holidays; the first working
day after a long holiday is busy. Seasonal residents (候鸟) arrive from the north in October–December and
ask water and power to be switched on (报开), and leave in March–April (报停).
"""

from __future__ import annotations

from dataclasses import dataclass

CALLS_PER_DAY = 5200
# Monday … Sunday
WEEKDAY_FACTOR = (1.14, 1.06, 1.03, 1.02, 1.00, 0.80, 0.75)
HOLIDAY_FACTOR = 0.70
AFTER_HOLIDAY_FACTOR = 1.25
# Relative call volume for each local hour (00 … 23): quiet nights, a morning peak, a lunch dip.
HOURLY = (
    0.22, 0.14, 0.10, 0.08, 0.08, 0.12, 0.35, 0.80, 1.55, 2.10, 2.20, 2.00,
    1.35, 1.30, 1.80, 1.95, 1.90, 1.65, 1.15, 1.05, 0.95, 0.80, 0.55, 0.35,
)  # fmt: skip


@dataclass(frozen=True)
class Issue:
    key: str
    category: str  # a leaf of the taxonomy (routing/data/complaint_taxonomy.csv)
    weight: float
    texts: tuple[str, ...]  # {place} is the compound or street
    on_the_spot: float = 0.0  # share answered by the agent from the knowledge base


ISSUES = (
    Issue(
        "noise_night",
        "环境保护/环境污染/噪音污染",
        9,
        (
            "{place}附近工地夜间施工噪音太大，晚上十一点还在打桩，影响休息",
            "{place}楼下夜宵店深夜喧哗，噪音扰民，多次反映未改善",
            "{place}广场舞音响声音过大，影响周边居民休息",
        ),
    ),
    Issue(
        "road_stall",
        "城乡建设/城市建设和市政管理/城管执法",
        8,
        (
            "{place}路口流动摊贩占道经营，影响通行",
            "{place}门口商铺占用人行道摆放货物，行人只能走机动车道",
        ),
    ),
    Issue(
        "garbage",
        "城乡建设/城市建设和市政管理/环境卫生",
        8,
        (
            "{place}垃圾桶满了两天没人清运，气味很大",
            "{place}路边建筑垃圾堆放很久无人清理",
        ),
    ),
    Issue(
        "streetlight",
        "城乡建设/城市建设和市政管理/城市公共设施",
        5,
        (
            "{place}一排路灯晚上不亮，行人不安全",
            "{place}人行道地砖松动破损，老人容易摔倒",
        ),
    ),
    Issue(
        "water_supply",
        "城乡建设/城市建设和市政管理/自来水供应",
        6,
        (
            "{place}停水了，一直没有通知，什么时候恢复供水",
            "{place}自来水发黄，有异味，请派人检测",
        ),
    ),
    Issue(
        "power_supply",
        "城乡建设/城市建设和市政管理/电力供应",
        6,
        (
            "{place}停电了，已经两个小时，家里有老人",
            "{place}一天停电好几次，电梯困人，请供电局处理",
        ),
    ),
    Issue(
        "property",
        "城乡建设/城市建设和市政管理/小区管理",
        7,
        (
            "{place}物业不作为，电梯经常坏，维修基金使用不公开",
            "{place}小区地下车库积水，物业不处理",
        ),
    ),
    Issue(
        "illegal_build", "城乡建设/城乡规划/违章建筑", 4, ("{place}有业主在楼顶私自加建铁皮房，存在安全隐患",)
    ),
    Issue(
        "bus",
        "城乡建设/城市建设和市政管理/公共汽车",
        4,
        (
            "{place}站的公交车班次太少，等了四十分钟",
            "{place}公交司机不按站停车，请加强管理",
        ),
    ),
    Issue("taxi", "交通运输/出租车管理/网约车问题", 3, ("在{place}打车，司机绕路多收费，要求退还",)),
    Issue(
        "food_safety", "卫生计生/食品药品监管/食品安全", 4, ("在{place}一家餐馆吃饭后腹泻，怀疑食品不卫生",)
    ),
    Issue("price", "商贸旅游/市场监管/物价监督", 3, ("{place}附近海鲜店价格不明码标价，宰客",)),
    Issue("wages", "劳动和社会保障/劳动关系/农民工权益", 5, ("在{place}工地干活，老板拖欠三个月工资不发",)),
    Issue(
        "social_card",
        "劳动和社会保障/城镇职工社会保险/职工医疗保险",
        6,
        (
            "社保卡丢了，怎么补办，需要带什么材料",
            "医保异地就医备案怎么办理",
        ),
        on_the_spot=0.85,
    ),
    Issue(
        "provident_fund",
        "劳动和社会保障/工资福利/住房公积金",
        5,
        ("住房公积金提取需要什么材料，在哪里办理",),
        on_the_spot=0.85,
    ),
    Issue(
        "hukou",
        "政法/户籍证件/户籍管理",
        5,
        (
            "小孩落户海口需要哪些材料，办理流程是什么",
            "身份证过期了，异地可以换领吗",
        ),
        on_the_spot=0.8,
    ),
    Issue(
        "school",
        "教育文体/考试招生/招生录取",
        4,
        ("孩子入学学位怎么申请，{place}附近学校的划片范围是什么",),
        on_the_spot=0.6,
    ),
    Issue("traffic", "政法/交通管理/交通安全管理", 4, ("{place}路口红绿灯时间太短，高峰期严重拥堵",)),
    Issue("medical", "卫生计生/医政监管/医疗收费", 3, ("在医院看病收费不合理，要求核实",)),
    Issue("tourism", "商贸旅游/旅游管理/旅游市场管理", 2, ("在{place}参加一日游被强制购物，要求处理",)),
)

# Fast paths of the IVR and the urgent classes: texts that the dispatcher recognises as urgent.
OUTAGE_TEXTS = (
    "{place}突然停电了，整栋楼都没电，电梯停了",
    "{place}停电快三个小时了，冰箱里的东西都坏了，什么时候来电",
    "{place}又停电了，供电中断，请尽快抢修",
)
TYPHOON_TEXTS = (
    "{place}积水严重，车辆被淹，请派人排水",
    "台风刮倒大树，{place}道路被堵断",
    "{place}小区地下室雨水倒灌，请求救援",
    "{place}停电了，台风过后一直没电",
)
# Seasonal residents' start/stop requests (报开 / 报停水电).
SEASONAL_START = (
    "我是来海口过冬的，{place}的房子要恢复供水，申请报开",
    "冬天来海口住，{place}需要开通用电，报开电表",
)
SEASONAL_STOP = (
    "要回北方了，{place}的房子申请报停水电",
    "{place}房屋暂停用水用电，申请报停",
)
SEASONAL_CATEGORY = "城乡建设/城市建设和市政管理/自来水供应"

# Hot events planted by the generator: one problem, one place, many callers within two hours.
CLUSTER_TEXTS = (
    "{place}下水道堵塞，污水冒到路面，臭气熏天",
    "{place}附近工厂排放刺鼻气味，很多居民头晕",
    "{place}小区门口的消防通道被车辆长期堵占",
    "{place}电梯困人，已经被困二十分钟",
    "{place}附近道路开挖后一直没有回填，车辆无法通行",
)
CLUSTER_CATEGORIES = (
    "城乡建设/城市建设和市政管理/环境卫生",
    "环境保护/环境污染/大气污染",
    "政法/社会治安/消防安全",
    "城乡建设/城市建设和市政管理/小区管理",
    "城乡建设/城市建设和市政管理/城市公共设施",
)

# Compounds (fictional names) by street keyword (routing/data/departments.yaml knows the streets).
COMPOUNDS = {
    "秀英区": (("西秀镇", "假日海滩", ("椰海湾小区", "西海岸花园", "海韵假日公寓")), ("秀英街道", "秀英村", ("秀英花园",)),
               ("海秀街道", "海秀西路", ("海秀新村",)), ("长流镇", "长流起步区", ("长流新城",))),
    "龙华区": (("金贸街道", "玉沙路", ("玉沙新村", "金贸花园")), ("滨海街道", "万绿园", ("滨海国际",)),
               ("中山街道", "骑楼老街", ("中山小区",)), ("城西镇", "学院路", ("沙坡小区",)),
               ("大同街道", "大同路", ("大同里",))),
    "琼山区": (("府城街道", "忠介路", ("鼓楼花园",)), ("国兴街道", "红城湖路", ("红城湖小区", "国兴家园")),
               ("凤翔街道", "凤翔路", ("凤翔湾",)), ("滨江街道", "滨江路", ("滨江海岸",))),
    "美兰区": (("海甸街道", "海甸二东路", ("椰风水韵", "海甸花园")), ("白沙街道", "海甸五东路", ("白沙门小区",)),
               ("人民路街道", "海甸三西路", ("人民里",)), ("和平南街道", "和平南路", ("和平苑",)),
               ("新埠街道", "新埠岛", ("新埠岛小区", "千江悦")), ("蓝天街道", "蓝天路", ("蓝天花园",))),
}  # fmt: skip
DISTRICT_WEIGHTS = {"秀英区": 0.18, "龙华区": 0.33, "琼山区": 0.22, "美兰区": 0.27}
# Where seasonal residents live: their out-of-province share and start/stop requests rise in winter.
MIGRATORY_COMPOUNDS = ("椰海湾小区", "西海岸花园", "海韵假日公寓", "滨江海岸", "新埠岛小区", "椰风水韵")
# Provinces the seasonal residents come from (for their phone numbers' home province).
NORTHERN_PROVINCES = ("黑龙江省", "吉林省", "辽宁省", "内蒙古", "北京市", "河北省", "山东省")
