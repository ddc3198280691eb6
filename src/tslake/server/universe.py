"""The stocks of the simulated market: codes, listing spans, suspensions and stock_basic.

Every stock is drawn from random generators seeded by (seed, stock index, purpose),
so stock ``i`` is the same in a market of any size with the same seed. Dates are
session indexes into the SSE calendar and never depend on how far the calendar
reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tslake.registry import STOCK_BASIC
from tslake.server.calendar import TradingCalendar
from tslake.server.tables import typed_frame

# Listings are spread up to this day, so a few stocks list after any date in late 2026.
LAST_LISTING_DAY = "20270630"
# Delistings and pauses happen before this day, so most are visible by December 2026.
LAST_DELISTING_DAY = "20261130"
# A delisted or paused stock trades at least this many sessions first.
MIN_TRADING_SESSIONS = 250

# Purposes of the random streams of one stock; the price series uses the others.
STREAM_BOARD = 0
STREAM_LISTING = 1
STREAM_SUSPENSIONS = 2
STREAM_NAMES = 3
STREAM_CODES = 99

EXCHANGES = {"SH": "SSE", "SZ": "SZSE", "BJ": "BSE"}


@dataclass(frozen=True)
class Board:
    """A code range of one market board and the days its stocks list on."""

    prefix: str
    suffix: str
    market: str
    first_listing: str
    last_listing: str
    weight: float
    digits: int = 3


BOARDS: tuple[Board, ...] = (
    Board("600", "SH", "主板", "19901219", "20121231", 0.17),
    Board("601", "SH", "主板", "20060101", "20221231", 0.06),
    Board("603", "SH", "主板", "20110101", LAST_LISTING_DAY, 0.08),
    Board("605", "SH", "主板", "20200101", LAST_LISTING_DAY, 0.015),
    Board("688", "SH", "科创板", "20190722", LAST_LISTING_DAY, 0.10),
    Board("000", "SZ", "主板", "19910403", "20081231", 0.08),
    Board("001", "SZ", "主板", "20180101", LAST_LISTING_DAY, 0.01),
    Board("002", "SZ", "主板", "20040625", "20211231", 0.17),
    Board("003", "SZ", "主板", "20200101", LAST_LISTING_DAY, 0.01),
    Board("300", "SZ", "创业板", "20091030", LAST_LISTING_DAY, 0.18),
    Board("301", "SZ", "创业板", "20200824", LAST_LISTING_DAY, 0.05),
    Board("83", "BJ", "北交所", "20211115", LAST_LISTING_DAY, 0.02, digits=4),
    Board("87", "BJ", "北交所", "20211115", LAST_LISTING_DAY, 0.02, digits=4),
)

# The first stocks take these boards in turn, so even a small market has each of them.
LEADING_BOARDS: tuple[str, ...] = ("600", "000", "300", "601", "002", "688", "83")

# Chinese name parts: (characters, pinyin initials, English).
NAME_HEADS: tuple[tuple[str, str, str], ...] = (
    ("华新", "hx", "Huaxin"), ("东方", "df", "Dongfang"), ("长城", "cc", "Changcheng"),
    ("海天", "ht", "Haitian"), ("金龙", "jl", "Jinlong"), ("天成", "tc", "Tiancheng"),
    ("宏达", "hd", "Hongda"), ("恒信", "hx", "Hengxin"), ("远大", "yd", "Yuanda"),
    ("新元", "xy", "Xinyuan"), ("博源", "by", "Boyuan"), ("国泰", "gt", "Guotai"),
    ("永安", "ya", "Yongan"), ("万通", "wt", "Wantong"), ("瑞丰", "rf", "Ruifeng"),
    ("华辰", "hc", "Huachen"), ("正泰", "zt", "Zhengtai"), ("银河", "yh", "Yinhe"),
    ("明阳", "my", "Mingyang"), ("星源", "xy", "Xingyuan"), ("安达", "ad", "Anda"),
    ("汇通", "ht", "Huitong"), ("润丰", "rf", "Runfeng"), ("嘉实", "js", "Jiashi"),
    ("鼎盛", "ds", "Dingsheng"), ("凯立", "kl", "Kaili"), ("振华", "zh", "Zhenhua"),
    ("南方", "nf", "Nanfang"), ("北辰", "bc", "Beichen"), ("中科", "zk", "Zhongke"),
    ("光明", "gm", "Guangming"), ("鸿远", "hy", "Hongyuan"), ("同德", "td", "Tongde"),
    ("华光", "hg", "Huaguang"), ("盛达", "sd", "Shengda"), ("泰和", "th", "Taihe"),
    ("富春", "fc", "Fuchun"), ("龙腾", "lt", "Longteng"), ("信达", "xd", "Xinda"),
    ("联创", "lc", "Lianchuang"),
)  # fmt: skip

# (industry as Tushare names it, name tail, pinyin initials of the tail, English).
INDUSTRIES: tuple[tuple[str, str, str, str], ...] = (
    ("银行", "银行", "yh", "Bank"), ("白酒", "酒业", "jy", "Liquor"),
    ("软件服务", "软件", "rj", "Software"), ("元器件", "电子", "dz", "Electronics"),
    ("化工原料", "化工", "hg", "Chemical"), ("汽车配件", "汽配", "qp", "Auto Parts"),
    ("化学制药", "医药", "yy", "Pharmaceutical"), ("电气设备", "电气", "dq", "Electric"),
    ("全国地产", "地产", "dc", "Real Estate"), ("证券", "证券", "zq", "Securities"),
    ("食品", "食品", "sp", "Food"), ("通信设备", "通信", "tx", "Communication"),
    ("半导体", "微电", "wd", "Microelectronics"), ("建筑工程", "建设", "js", "Construction"),
    ("普钢", "钢铁", "gt", "Steel"), ("新型电力", "能源", "ny", "Energy"),
    ("专用机械", "机械", "jx", "Machinery"), ("家用电器", "电器", "dq", "Appliances"),
    ("环境保护", "环保", "hb", "Environmental Protection"), ("水运", "航运", "hy", "Shipping"),
    ("中成药", "药业", "yy", "Pharmacy"), ("纺织", "纺织", "fz", "Textile"),
    ("小金属", "矿业", "ky", "Mining"), ("互联网", "网络", "wl", "Network"),
    ("广告包装", "传媒", "cm", "Media"),
)  # fmt: skip

NAME_ENDINGS: tuple[tuple[str, str, str], ...] = (
    ("", "", ""),
    ("", "", ""),
    ("", "", ""),
    ("科技", "kj", " Technology"),
    ("股份", "gf", ""),
    ("集团", "jt", " Group"),
    ("控股", "kg", " Holdings"),
)

AREAS: tuple[str, ...] = (
    "北京", "上海", "深圳", "广东", "浙江", "江苏", "山东", "福建", "四川", "湖北",
    "湖南", "安徽", "河南", "河北", "天津", "重庆", "辽宁", "陕西", "江西", "云南",
    "吉林", "黑龙江", "新疆", "广西", "山西", "贵州", "海南", "内蒙", "甘肃", "宁夏",
)  # fmt: skip

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN_NAMES: tuple[str, ...] = (
    "建国", "伟", "芳", "志强", "秀英", "明", "丽", "军", "勇", "磊",
    "洋", "海", "文", "华", "平", "刚", "静", "涛", "斌", "辉",
)  # fmt: skip


@dataclass(frozen=True)
class Listing:
    """One simulated stock: its stock_basic fields and the sessions it trades on.

    Session indexes are positions in the calendar's ``sessions``. The stock has rows
    on the sessions in [list_index, end_index) outside its suspensions. end_index is
    the delisting or pause session for ``D`` and ``P`` stocks and None otherwise
    (trading until the calendar ends).
    """

    index: int
    ts_code: str
    board: Board
    list_index: int
    end_index: int | None
    status: str
    suspensions: tuple[tuple[int, int], ...]
    name: str
    area: str
    industry: str
    fullname: str
    enname: str
    cnspell: str
    is_hs: str
    act_name: str | None
    act_ent_type: str | None

    @property
    def symbol(self) -> str:
        return self.ts_code[:6]

    @property
    def exchange(self) -> str:
        return EXCHANGES[self.board.suffix]


def stock_rng(seed: int, index: int, stream: int) -> np.random.Generator:
    """Return the random generator of one purpose of one stock."""
    return np.random.Generator(np.random.PCG64([seed, index, stream]))


class Universe:
    """The stocks of a simulated market of ``size`` stocks drawn with ``seed``."""

    def __init__(self, size: int, seed: int, calendar: TradingCalendar) -> None:
        if size < 1:
            raise ValueError(f"股票数量必须至少为 1，而不是 {size}")
        self.size = size
        self.seed = seed
        self.calendar = calendar
        self._code_pools = _CodePools(seed)
        self.listings: list[Listing] = [self._draw_listing(index) for index in range(size)]
        self.listings.sort(key=lambda listing: listing.ts_code)
        self.by_code: dict[str, Listing] = {listing.ts_code: listing for listing in self.listings}

    def _draw_listing(self, index: int) -> Listing:
        board = self._draw_board(index)
        number = self._code_pools.take(board)
        ts_code = f"{board.prefix}{number:0{board.digits}d}.{board.suffix}"

        rng = stock_rng(self.seed, index, STREAM_LISTING)
        first = self.calendar.session_index(board.first_listing)
        last = self.calendar.session_index(LAST_LISTING_DAY)
        last_for_board = min(last, self.calendar.session_index(board.last_listing))
        list_index = int(rng.integers(first, max(first + 1, last_for_board)))

        status, end_index = self._draw_status(index, list_index, rng)
        suspensions = self._draw_suspensions(index, list_index, end_index)
        names = _draw_names(stock_rng(self.seed, index, STREAM_NAMES), board)
        if status == "D":
            names["name"] = f"{names['name']}退"
        elif status == "P":
            names["name"] = f"*ST{names['name']}"
        return Listing(
            index=index,
            ts_code=ts_code,
            board=board,
            list_index=list_index,
            end_index=end_index,
            status=status,
            suspensions=suspensions,
            **names,
        )

    def _draw_board(self, index: int) -> Board:
        boards_by_prefix = {board.prefix: board for board in BOARDS}
        if index < len(LEADING_BOARDS):
            board = boards_by_prefix[LEADING_BOARDS[index]]
            if self._code_pools.has_room(board):
                return board
        rng = stock_rng(self.seed, index, STREAM_BOARD)
        candidates = [board for board in BOARDS if self._code_pools.has_room(board)]
        if not candidates:
            raise ValueError(f"模拟市场最多容纳 {self._code_pools.capacity()} 只股票")
        weights = np.array([board.weight for board in candidates])
        return candidates[int(rng.choice(len(candidates), p=weights / weights.sum()))]

    def _draw_status(
        self, index: int, list_index: int, rng: np.random.Generator
    ) -> tuple[str, int | None]:
        # One stock in 20 is delisted and one in 50 paused, when it listed early enough
        # to trade MIN_TRADING_SESSIONS first.
        if index % 20 == 7:
            status = "D"
        elif index % 50 == 23:
            status = "P"
        else:
            return "L", None
        earliest = list_index + MIN_TRADING_SESSIONS
        horizon = self.calendar.session_index(LAST_DELISTING_DAY)
        if earliest >= horizon:
            return "L", None
        return status, int(rng.integers(earliest, horizon))

    def _draw_suspensions(
        self, index: int, list_index: int, end_index: int | None
    ) -> tuple[tuple[int, int], ...]:
        """Draw up to four suspended spans of 1 to 250 sessions after the listing day."""
        rng = stock_rng(self.seed, index, STREAM_SUSPENSIONS)
        draws = rng.random((5, 3))
        if draws[0, 0] >= 0.45:
            return ()
        count = 1 + int(draws[0, 1] * 4)
        limit = len(self.calendar.sessions) if end_index is None else end_index
        spans = []
        for offset_draw, length_draw, kind_draw in draws[1 : 1 + count]:
            start = list_index + 1 + int(offset_draw * 8000)
            if kind_draw < 0.6:
                length = 1 + int(length_draw * 10)
            elif kind_draw < 0.9:
                length = 11 + int(length_draw * 50)
            else:
                length = 61 + int(length_draw * 190)
            end = min(start + length, limit)
            if start < end:
                spans.append((start, end))
        return tuple(sorted(spans))

    def stock_basic(self) -> tuple[pd.DataFrame, pd.Series]:
        """Return the final stock_basic table (sorted by ts_code) and each stock's pause date.

        The pause date is the first session without rows of a ``P`` stock and null for
        other stocks. It is not a Tushare column.
        """
        strings = self.calendar.session_strings

        def day(position: int | None) -> str | None:
            return None if position is None else str(strings[position])

        rows = {column: [] for column in STOCK_BASIC.column_names}
        pause_dates = []
        for listing in self.listings:
            rows["ts_code"].append(listing.ts_code)
            rows["symbol"].append(listing.symbol)
            rows["name"].append(listing.name)
            rows["area"].append(listing.area)
            rows["industry"].append(listing.industry)
            rows["fullname"].append(listing.fullname)
            rows["enname"].append(listing.enname)
            rows["cnspell"].append(listing.cnspell)
            rows["market"].append(listing.board.market)
            rows["exchange"].append(listing.exchange)
            rows["curr_type"].append("CNY")
            rows["list_status"].append(listing.status)
            rows["list_date"].append(day(listing.list_index))
            rows["delist_date"].append(day(listing.end_index) if listing.status == "D" else None)
            rows["is_hs"].append(listing.is_hs)
            rows["act_name"].append(listing.act_name)
            rows["act_ent_type"].append(listing.act_ent_type)
            pause_dates.append(day(listing.end_index) if listing.status == "P" else None)
        frame = typed_frame(STOCK_BASIC, rows)
        return frame, pd.Series(pause_dates, index=frame.index, dtype="str")


class _CodePools:
    """Hands out the numbers of each board in a seeded random order, each number once."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._numbers: dict[str, np.ndarray] = {}
        self._taken: dict[str, int] = {}

    def _pool(self, board: Board) -> np.ndarray:
        if board.prefix not in self._numbers:
            position = BOARDS.index(board)
            rng = stock_rng(self._seed, position, STREAM_CODES)
            # Number 0 is skipped: codes such as 000000 do not exist.
            self._numbers[board.prefix] = 1 + rng.permutation(10**board.digits - 1)
            self._taken[board.prefix] = 0
        return self._numbers[board.prefix]

    def has_room(self, board: Board) -> bool:
        return self._taken.get(board.prefix, 0) < 10**board.digits - 1

    def take(self, board: Board) -> int:
        pool = self._pool(board)
        position = self._taken[board.prefix]
        self._taken[board.prefix] = position + 1
        return int(pool[position])

    @staticmethod
    def capacity() -> int:
        return sum(10**board.digits - 1 for board in BOARDS)


def _draw_names(rng: np.random.Generator, board: Board) -> dict[str, str | None]:
    """Draw the descriptive stock_basic fields of one stock."""
    head, head_initials, head_english = NAME_HEADS[rng.integers(len(NAME_HEADS))]
    industry, tail, tail_initials, tail_english = INDUSTRIES[rng.integers(len(INDUSTRIES))]
    ending, ending_initials, ending_english = NAME_ENDINGS[rng.integers(len(NAME_ENDINGS))]
    area = AREAS[rng.integers(len(AREAS))]
    name = f"{head}{tail}{ending}"

    if board.suffix == "BJ":
        is_hs = "N"
    elif rng.random() < 0.4:
        is_hs = "H" if board.suffix == "SH" else "S"
    else:
        is_hs = "N"

    controller_draw = rng.random()
    if controller_draw < 0.4:
        act_name, act_ent_type = None, None
    elif controller_draw < 0.55:
        act_name, act_ent_type = "国务院国有资产监督管理委员会", "中央国企"
    elif controller_draw < 0.75:
        act_name, act_ent_type = f"{area}国资委", "地方国企"
    else:
        surname = SURNAMES[rng.integers(len(SURNAMES))]
        given = GIVEN_NAMES[rng.integers(len(GIVEN_NAMES))]
        act_name, act_ent_type = f"{surname}{given}", "民营企业"

    return {
        "name": name,
        "area": area,
        "industry": industry,
        "fullname": f"{area}{head}{tail}股份有限公司",
        "enname": f"{head_english} {tail_english}{ending_english} Co., Ltd.",
        "cnspell": f"{head_initials}{tail_initials}{ending_initials}",
        "is_hs": is_hs,
        "act_name": act_name,
        "act_ent_type": act_ent_type,
    }
