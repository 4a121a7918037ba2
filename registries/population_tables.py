"""The data the synthetic population is drawn from: regions, name frequencies, streets, trades,
banks, vehicle makes, courts. Plain constants (see ``registries.population`` for how they are used).

Name frequencies follow the real skew (王/李/张 about 7 % each; 伟/芳/娜 common given names), so
homonyms arise as they do in real registries.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import NamedTuple

__all__ = [
    "BANK_NAMES",
    "BANK_PREFIX",
    "BRANDS",
    "CAPITALS",
    "COMMON_GIVEN",
    "COMMON_GIVEN_CUM",
    "COURTS",
    "GIVEN_CHARS",
    "INDUSTRIES",
    "MINORITY_FATHER",
    "MINORITY_GIVEN",
    "MORTGAGEES",
    "PLATE_LETTERS",
    "REGIONS",
    "REGION_CUM",
    "ROADS",
    "SUFFIXES",
    "SUFFIX_CUM",
    "SURNAMES",
    "SURNAME_CUM",
    "SURNAME_TABLE",
    "URUMQI",
    "USCC_BODY",
    "VIN_CHARS",
    "VIN_VALUE",
    "VIN_WEIGHTS",
    "ZIHAO",
    "Region",
]


class Region(NamedTuple):
    code: str
    abbr: str
    province: str
    city: str
    district: str
    plate: str


REGIONS = [
    Region(*r.split())
    for r in (
        "420102 鄂 湖北省 武汉市 江岸区 A",
        "420103 鄂 湖北省 武汉市 江汉区 A",
        "420104 鄂 湖北省 武汉市 硚口区 A",
        "420106 鄂 湖北省 武汉市 武昌区 A",
        "420111 鄂 湖北省 武汉市 洪山区 A",
        "420115 鄂 湖北省 武汉市 江夏区 A",
        "420202 鄂 湖北省 黄石市 黄石港区 B",
        "420502 鄂 湖北省 宜昌市 西陵区 E",
        "420602 鄂 湖北省 襄阳市 襄城区 F",
        "110101 京 北京市 北京市 东城区 A",
        "110105 京 北京市 北京市 朝阳区 B",
        "310101 沪 上海市 上海市 黄浦区 A",
        "310115 沪 上海市 上海市 浦东新区 B",
        "440305 粤 广东省 深圳市 南山区 B",
        "440106 粤 广东省 广州市 天河区 A",
        "320102 苏 江苏省 南京市 玄武区 A",
        "330106 浙 浙江省 杭州市 西湖区 A",
        "430102 湘 湖南省 长沙市 芙蓉区 A",
        "500103 渝 重庆市 重庆市 渝中区 A",
        "510104 川 四川省 成都市 锦江区 A",
        "610113 陕 陕西省 西安市 雁塔区 A",
        "410105 豫 河南省 郑州市 金水区 A",
        "650102 新 新疆维吾尔自治区 乌鲁木齐市 天山区 A",
    )
]
REGION_CUM = list(itertools.accumulate([8, 8, 6, 9, 9, 6, 4, 4, 4, *([2] * 14)]))
URUMQI = next(r for r in REGIONS if r.code == "650102")

SURNAME_TABLE = """王71 李70 张67 刘54 陈45 杨31 黄22 赵21 吴20 周19 徐16 孙15 马15 朱13 胡12 郭12 何11 林11
高11 罗10 郑9 梁9 谢8 宋7 唐7 许7 韩7 冯7 邓7 曹6 彭6 曾6 肖6 田5 董5 袁5 潘5 于5 蒋5 蔡5 余5 杜5 叶4 程4
苏4 魏4 吕4 丁4 任4 沈4 姚4 卢4 姜4 崔3 钟3 谭3 陆3 汪3 范3 金3 石3 廖3 贾3 夏3 韦3 付3 方3 白3 邹3 孟3
熊3 秦3 邱3 江3 尹3 薛2 闫2 段2 雷2 侯2 龙2 史2 陶2 黎2 贺2 顾2 毛2 郝2 龚2 邵2 万2 钱2 严2 覃2 武2 戴2
莫2 孔2 向2 汤2 欧阳1 司马1 诸葛1 於1 上官1
甯1 昇1"""
SURNAMES = [w.rstrip("0123456789") for w in SURNAME_TABLE.split()]
SURNAME_CUM = list(
    itertools.accumulate(int(w.lstrip(s)) for w, s in zip(SURNAME_TABLE.split(), SURNAMES, strict=True))
)
COMMON_GIVEN = (
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "建国",
    "志强",
    "婷婷",
    "红",
    "波",
    "辉",
    "鹏",
    "斌",
    "玲",
    "华",
    "飞",
    "鑫",
    "宇",
    "浩",
    "欣怡",
    "子涵",
    "梓涵",
    "浩然",
)
COMMON_GIVEN_CUM = list(itertools.accumulate(max(2, 30 - i) for i in range(len(COMMON_GIVEN))))
GIVEN_CHARS = "".join(
    dict.fromkeys(
        "子梓浩宇轩然晨欣怡雨嘉佳文俊杰志明海涛建国华平秀英兰红玉芳丽静敏燕霞丹萍倩雪琳婷颖慧晓凤云飞鹏鸿斌彬"
        "博峰磊军勇强刚毅振庆春秋冬梅菊竹松柏林森宏伟立新永成德福贵荣昌盛安康宁泰和顺家兴旭阳光亮辉晖晶瑞祥思雅"
        "馨蕾蓓茜璐瑶瑾瑜琪琦锦绣"
    )
)
MINORITY_GIVEN = (
    "买买提",
    "艾力",
    "阿不都",
    "吐尔逊",
    "艾买提",
    "热合曼",
    "阿依古丽",
    "古丽娜",
    "帕提古丽",
    "迪丽娜尔",
)
MINORITY_FATHER = (
    "艾力",
    "吐尔逊",
    "买买提",
    "阿布拉",
    "库尔班",
    "依明",
    "沙吾提",
)
ROADS = (
    "中山大道",
    "解放大道",
    "建设大道",
    "武珞路",
    "珞喻路",
    "民主路",
    "和平大道",
    "光谷大道",
    "人民路",
    "建设路",
    "胜利街",
    "沿江大道",
)
ZIHAO = "华鑫盛达恒通宏兴利源泰祥和安信诚金鼎汇丰博远创新星海天瑞明德凯嘉润龙腾"
INDUSTRIES = (
    "科技",
    "贸易",
    "建筑工程",
    "物流",
    "商贸",
    "置业",
    "餐饮管理",
    "电子",
    "机械设备",
    "房地产开发",
    "投资管理",
    "文化传媒",
    "环保科技",
    "医药",
    "食品",
)
SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司")
SUFFIX_CUM = (60, 88, 100)
CAPITALS = [Decimal(c) for c in ("100000", "500000", "1000000", "3000000", "5000000", "10000000", "50000000")]
USCC_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
BANK_NAMES = {
    "icbc": "中国工商银行",
    "ccb": "中国建设银行",
    "boc": "中国银行",
    "abc": "中国农业银行",
    "cmb": "招商银行",
}
BANK_PREFIX = {"icbc": "622202", "ccb": "621700", "boc": "621661", "abc": "622848", "cmb": "621483"}
BRANDS = {
    "大众朗逸": "LSV",
    "丰田卡罗拉": "LFM",
    "本田雅阁": "LHG",
    "比亚迪秦": "LC0",
    "吉利帝豪": "L6T",
    "日产轩逸": "LGB",
    "特斯拉Model 3": "LRW",
    "五菱宏光": "LZW",
    "长安CS75": "LS5",
    "别克英朗": "LSG",
}
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
# ISO 3779 transliteration of letters for the check digit (I, O, Q are never used)
VIN_VALUE = dict(
    zip(
        VIN_CHARS,
        [*range(10), *(1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9)],
        strict=True,
    )
)
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
COURTS = ("court-420106", "court-420111", "court-420102", "court-420115", "court-110105", "court-440305")
MORTGAGEES = ("中国建设银行武汉分行", "中国工商银行武汉分行", "招商银行武汉分行", "武汉农村商业银行")
