"""Drawing every registry record a person or company owns: deposits, real estate, land use
rights, vehicles, equity stakes and securities accounts, with the controls other courts hold on them.

``AssetDrawer`` is a mixin of the population generator (``registries.population._Generator``): it
draws from the generator's ``rng`` in a fixed order, so the same seed gives the same records, and
writes each record as the registry holds it (``self._person_owner``/``self._company_owner`` decide
how the owner was recorded) to ``self.holdings``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from decimal import Decimal

from schemas.agencies import MAX_PERIOD_DAYS, REGISTER_ACTION, AssetKind

from .population_entities import AS_OF, Company, Person, draw, luhn, money
from .population_tables import (
    BANK_NAMES,
    BANK_PREFIX,
    BRANDS,
    COURTS,
    MORTGAGEES,
    PLATE_LETTERS,
    ROADS,
    VIN_CHARS,
    VIN_VALUE,
    VIN_WEIGHTS,
    ZIHAO,
)
from .records import Control, Holding, Household, Owner

__all__ = ["AssetDrawer"]

_CONTROL_RATE = 0.05
_WAITING_RATE = 0.25
_SECURITIES_PERSON_RATE = 0.16  # people 18 and over with a securities account
_SECURITIES_COMPANY_RATE = 0.05
_BOARDS = ("600", "601", "603", "605", "000", "001", "002", "003", "300", "301", "688")
_SECURITY_SUFFIXES = ("科技", "股份", "电子", "医药", "能源", "传媒", "实业", "控股", "材料", "智能")


class AssetDrawer:
    """The asset half of the population generator (a mixin; the generator supplies the state)."""

    seed: int
    rng: random.Random
    banks: tuple[str, ...]
    holdings: list[Holding]
    households: list[Household]
    _plates: set[str]
    _serial: itertools.count[int]

    def _person_owner(self, p: Person, registry: str) -> tuple[Owner, str | None]:
        raise NotImplementedError

    def _company_owner(self, c: Company, registry: str) -> tuple[Owner, str | None]:
        raise NotImplementedError

    def _street(self) -> str:
        raise NotImplementedError

    def person_assets(self, p: Person) -> None:
        rng = self.rng
        police_owner, anomaly = self._person_owner(p, "police")
        self.households.append(Household(police_owner, p.key, anomaly))
        for _ in range(draw(rng, (20, 60, 88, 100))):
            self._deposit(p, rng.lognormvariate(9.5, 1.6))
        for _ in range(draw(rng, (55, 92, 100))):
            self._real_estate(p)
        if rng.random() < 0.07:
            self._land(p)
        for _ in range(draw(rng, (62, 94, 100))):
            self._vehicle(p, police_owner, anomaly)

    def company_assets(self, c: Company, by_key: dict[str, Person | Company]) -> None:
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            self._deposit(c, rng.lognormvariate(12.5, 1.8))
        if rng.random() < 0.15:
            self._real_estate(c)
        if rng.random() < 0.2:
            self._land(c)
        for key, bp in c.shareholders:
            subscribed = (c.registered_capital * bp / 10000).quantize(Decimal("0.01"))
            self._add(
                "commerce",
                "equity",
                c.uscc,
                subscribed,
                by_key[key],
                {
                    "company_name": c.name,
                    "company_id": c.uscc,
                    "share_ratio": f"{bp / 100:.2f}%",
                    "subscribed_capital": subscribed,
                },
            )

    def _add(
        self,
        registry: str,
        kind: str,
        ref: str,
        value: Decimal,
        who: Person | Company,
        details: dict[str, object],
        recorded: tuple[Owner, str | None] | None = None,
    ) -> None:
        if recorded is None:
            recorded = (
                self._person_owner(who, registry)
                if isinstance(who, Person)
                else self._company_owner(who, registry)
            )
        owner, anomaly = recorded
        self.holdings.append(
            Holding(registry, kind, ref, value, owner, details, self._controls(kind, value), who.key, anomaly)
        )

    def _controls(self, kind: str, value: Decimal) -> list[Control]:
        rng = self.rng
        if rng.random() >= _CONTROL_RATE:
            return []
        action = REGISTER_ACTION[AssetKind(kind)]
        at = AS_OF - dt.timedelta(days=rng.randint(1, 300), seconds=rng.randrange(86400))
        # a freeze always states an amount; on an empty account it waits for incoming funds
        amount = money(rng.randint(100, max(100, int(value * 100)))) if action == "freeze" else None
        courts = rng.sample(COURTS, 2)
        period = dt.timedelta(days=MAX_PERIOD_DAYS[AssetKind(kind)])
        out = [Control(courts[0], action, amount, at, at + period, 0, "effective")]
        if rng.random() < _WAITING_RATE:
            out.append(
                Control(
                    courts[1], action, amount, at + dt.timedelta(days=rng.randint(1, 30)), None, 1, "waiting"
                )
            )
        return out

    def _deposit(self, who: Person | Company, yuan: float) -> None:
        rng = self.rng
        code = rng.choice(self.banks)
        prefix = BANK_PREFIX.get(code, "6230" + f"{sum(map(ord, code)) % 100:02d}")
        digits = f"{prefix}{rng.randrange(10000):04d}{next(self._serial):08d}"
        balance = money(0 if rng.random() < 0.1 else int(yuan * 100))
        bank = BANK_NAMES.get(code, f"{code.upper()}银行")
        self._add(
            f"bank:{code}",
            "deposit",
            digits + luhn(digits),
            balance,
            who,
            {
                "account_type": "活期储蓄" if isinstance(who, Person) else "单位基本存款账户",
                "branch": f"{bank}{who.region.city}{who.region.district}支行",
            },
        )

    def _real_estate(self, who: Person | Company) -> None:
        rng = self.rng
        r = who.region
        area = money(rng.randint(4500, 18000))
        value = (area * rng.randint(8000, 35000)).quantize(Decimal("0.01"))
        mortgages = []
        if rng.random() < 0.3:
            mortgages.append(
                {
                    "mortgagee": rng.choice(MORTGAGEES),
                    "amount": money(int(value * 60)),
                    "registered_on": dt.date(rng.randint(2016, 2025), rng.randint(1, 12), 1),
                }
            )
        ref = f"{r.abbr}({rng.randint(2016, 2025)}){r.city}不动产权第{next(self._serial) % 10**7:07d}号"
        self._add(
            "real_estate",
            "real_estate",
            ref,
            value,
            who,
            {
                "address": f"{r.city}{r.district}{self._street()}{rng.randint(101, 3204)}室",
                "area_m2": area,
                "usage": "住宅" if isinstance(who, Person) else rng.choice(("商业", "办公", "工业")),
                "mortgages": mortgages,
            },
        )

    def _land(self, who: Person | Company) -> None:
        rng = self.rng
        r = who.region
        area = money(rng.randint(10000, 2000000))
        ref = (
            f"{r.code}{rng.randint(1, 20):03d}{rng.randint(1, 30):03d}{rng.choice(('GB', 'JC'))}"
            f"{next(self._serial) % 10**5:05d}"
        )
        self._add(
            "land",
            "land_use_right",
            ref,
            (area * rng.randint(300, 3000)).quantize(Decimal("0.01")),
            who,
            {
                "location": f"{r.city}{r.district}{rng.choice(ROADS)}以南",
                "area_m2": area,
                "usage": "宅基地" if isinstance(who, Person) else rng.choice(("工业用地", "商服用地")),
                "term_ends": dt.date(rng.randint(2040, 2076), rng.randint(1, 12), 1),
            },
        )

    def _vehicle(self, p: Person, owner: Owner, anomaly: str | None) -> None:
        rng = self.rng
        while True:
            tail = (
                f"D{rng.randrange(10**5):05d}"
                if rng.random() < 0.1
                else "".join(
                    rng.choice(PLATE_LETTERS) if i < 2 and rng.random() < 0.3 else str(rng.randrange(10))
                    for i in range(5)
                )
            )
            plate = f"{p.region.abbr}{p.region.plate}{tail}"
            if plate not in self._plates:
                self._plates.add(plate)
                break
        brand = rng.choice(list(BRANDS))
        registered = dt.date(rng.randint(2010, 2025), rng.randint(1, 12), rng.randint(1, 28))
        new_price = rng.randint(80000, 400000)
        value = money(int(new_price * 100 * 0.88 ** (AS_OF.year - registered.year)))
        self._add(
            "police",
            "vehicle",
            plate,
            value,
            p,
            {
                "brand_model": brand,
                "vin": self._vin(BRANDS[brand], registered.year),
                "registered_on": registered,
            },
            recorded=(owner, anomaly),
        )  # police hold one record of a person: household and vehicles agree

    def securities_accounts(self, people: Sequence[Person], companies: Sequence[Company]) -> None:
        """Securities accounts, drawn from a random stream of their own (the other records stay as
        they were drawn without them)."""
        main, self.rng = self.rng, random.Random(f"{self.seed}:securities")
        try:
            for p in people:
                if AS_OF.year - p.birth_date.year >= 18 and self.rng.random() < _SECURITIES_PERSON_RATE:
                    self._securities(p)
            for c in companies:
                if c.parent is None and self.rng.random() < _SECURITIES_COMPANY_RATE:
                    self._securities(c)
        finally:
            self.rng = main

    def _securities(self, who: Person | Company) -> None:
        rng = self.rng
        positions: list[dict[str, object]] = []
        codes: set[str] = set()
        for _ in range(draw(rng, (12, 40, 65, 82, 92, 100))):  # 0-5 positions; some accounts are empty
            code = f"{rng.choice(_BOARDS)}{rng.randrange(1000):03d}"
            if code in codes:
                continue
            codes.add(code)
            quantity = rng.randint(1, 50) * 100  # A-shares trade in lots of 100
            price = Decimal(str(round(rng.lognormvariate(2.7, 0.8), 2))).max(Decimal("1.00"))
            positions.append(
                {
                    "code": code,
                    "name": f"{rng.choice(ZIHAO)}{rng.choice(ZIHAO)}{rng.choice(_SECURITY_SUFFIXES)}",
                    "quantity": quantity,
                    "market_value": (price * quantity).quantize(Decimal("0.01")),
                }
            )
        total = sum((v for p in positions if isinstance(v := p["market_value"], Decimal)), Decimal("0.00"))
        adult = who.birth_date.year + 18 if isinstance(who, Person) else 2000
        opened = dt.date(
            rng.randint(min(max(2000, adult), 2025), 2025), rng.randint(1, 12), rng.randint(1, 28)
        )
        self._add(
            "securities",
            "securities",
            f"18{next(self._serial):010d}",
            total,
            who,
            {
                "account_type": "人民币普通股票账户" if isinstance(who, Person) else "机构证券账户",
                "opened_on": opened,
                "holdings": positions,
            },
        )

    def _vin(self, wmi: str, year: int) -> str:
        rng = self.rng
        body = wmi + "".join(rng.choices(VIN_CHARS[:-3], k=5))  # VDS
        tail = (
            VIN_CHARS[10 + (year - 2010) % 20] + rng.choice("123456789") + f"{next(self._serial) % 10**6:06d}"
        )
        vin = body + "0" + tail
        check = sum(VIN_VALUE[c] * w for c, w in zip(vin, VIN_WEIGHTS, strict=True)) % 11
        return body + ("X" if check == 10 else str(check)) + tail
