"""Name normalisation levels: writing differences fold, name differences never do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.names import (
    SURNAME_EXCEPTIONS,
    branch_parent,
    is_branch,
    name_variant_key,
    normalize_name,
    org_form_key,
    search_key,
)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("张 伟", "张伟"),
        ("张\u3000伟", "张伟"),  # ideographic space
        (" 张伟\t", "张伟"),
        ("张\u200b伟", "张伟"),  # zero-width space pasted from a web form
        ("\ufeff张伟", "张伟"),  # byte-order mark
        ("ＡＢＣ科技（北京）有限公司", "ABC科技(北京)有限公司"),  # full-width letters and brackets
        ("abc科技(北京)有限公司", "ABC科技(北京)有限公司"),  # letter case
        ("【华鑫】贸易有限公司", "[华鑫]贸易有限公司"),
        ("〔2020〕华鑫贸易有限公司", "(2020)华鑫贸易有限公司"),
        ("阿依古丽•买买提", "阿依古丽买买提"),  # U+2022
        ("阿依古丽・买买提", "阿依古丽买买提"),  # U+30FB
        ("阿依古丽･买买提", "阿依古丽买买提"),  # U+FF65 half-width katakana middle dot
        ("阿依古丽‧买买提", "阿依古丽买买提"),  # U+2027
        ("阿依古丽·买买提", "阿依古丽买买提"),
        ("买买提．吐尔逊", "买买提吐尔逊"),  # U+FF0E full-width full stop
        ("买买提.吐尔逊", "买买提吐尔逊"),
        ("买买提ㆍ吐尔逊", "买买提吐尔逊"),  # U+318D Hangul araea
        ("买买提 吐尔逊", "买买提吐尔逊"),
        ("买买提吐尔逊", "买买提吐尔逊"),
        ("买买提-吐尔逊", "买买提吐尔逊"),
        ("李〇华", "李〇华"),
        ("李○华", "李〇华"),  # U+25CB white circle
        ("李◯华", "李〇华"),  # U+25EF large circle
        ("李零华", "李〇华"),
        ("李O华", "李〇华"),  # a Latin O among Chinese characters
        ("李o华", "李〇华"),
        ("李0华", "李〇华"),  # a digit zero among Chinese characters
        ("李０华", "李〇华"),
        ("王OO", "王〇〇"),
        ("O2O科技有限公司", "O2O科技有限公司"),  # beside Latin letters or digits it stays itself
        ("ABCO贸易有限公司", "ABCO贸易有限公司"),
        ("武汉3O1科技有限公司", "武汉3O1科技有限公司"),
    ],
)
def test_normalize_name(raw: str, normalised: str) -> None:
    assert normalize_name(raw) == normalised


def test_normalize_keeps_traditional_characters() -> None:
    """Script conversion is the weaker variant level, not normalisation."""
    assert normalize_name("張偉") == "張偉" != normalize_name("张伟")


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("張偉", "张伟"),
        ("劉國強", "刘国强"),
        ("華鑫貿易有限責任公司", "华鑫贸易有限责任公司"),
        ("乾隆", "乾隆"),  # the phrase dictionary keeps 乾 here ...
        ("乾燥設備有限公司", "干燥设备有限公司"),  # ... and converts it here (an organisation)
    ],
)
def test_variant_key_traditional_to_simplified(traditional: str, simplified: str) -> None:
    person = len(simplified) <= 3
    assert name_variant_key(traditional, person=person) == name_variant_key(simplified, person=person)
    assert name_variant_key(traditional, person=person) == simplified


def test_variant_key_never_converts_simplified_to_traditional() -> None:
    assert name_variant_key("张伟") == "张伟"
    assert name_variant_key("后来") == "后来"  # 后 has two traditional sources; it is left alone


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("於國強", "于国强"),
        ("乾明", "干明"),
        ("甯海", "宁海"),
        ("昇明", "升明"),
        ("陞平", "升平"),
        ("釐華", "厘华"),
    ],
)
def test_variant_key_keeps_distinct_surnames(a: str, b: str) -> None:
    """於/于, 乾/干, 甯/宁, 昇/升, 陞/升, 釐/厘 are different surnames: conversion must not merge them."""
    assert name_variant_key(a) != name_variant_key(b)
    assert name_variant_key(a) == a[0] + name_variant_key(b)[1:]


def test_surname_exceptions_come_from_the_general_standard_table() -> None:
    """Every traditional character OpenCC would rewrite that the 通用规范汉字表 (2013) lists as a
    standard character of its own, not a hand-picked pair."""
    assert {"甯", "昇", "於", "乾", "陞", "釐"} <= SURNAME_EXCEPTIONS
    assert not SURNAME_EXCEPTIONS & set("張劉鍾陳華國")  # plain traditional forms still convert
    assert name_variant_key("鍾海") == "钟海"


def test_search_key_folds_what_a_registry_search_folds() -> None:
    keys = {search_key(n) for n in ("买买提·吐尔逊", "买买提．吐尔逊", "买买提吐尔逊", "买买提・吐尔逊")}
    assert keys == {"买买提吐尔逊"}
    assert search_key("华鑫贸易有限责任公司") == search_key("华鑫贸易有限公司")
    assert search_key("华鑫贸易股份有限公司") != search_key("华鑫贸易有限公司")
    assert search_key("張偉") != search_key("张伟")  # no script conversion in a registry's search


def test_standard_name_characters_are_kept_anywhere_in_a_persons_name_only() -> None:
    """The 通用规范汉字表 keeps 昇, 甯, 陞, ... for surnames and personal names: 李昇 is not 李升."""
    assert name_variant_key("李昇") == "李昇" != name_variant_key("李升")
    assert name_variant_key("張甯") == "张甯"
    assert name_variant_key("甯國強") == "甯国强"
    assert name_variant_key("乾燥設備有限公司", person=False) == "干燥设备有限公司"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("华鑫贸易有限责任公司", "华鑫贸易有限公司"),
        ("華鑫貿易有限責任公司", "华鑫贸易有限公司"),
        ("华鑫贸易（武汉）有限责任公司", "华鑫贸易(武汉)有限公司"),
    ],
)
def test_org_form_limited_liability_equal(a: str, b: str) -> None:
    assert org_form_key(a) == org_form_key(b)


def test_org_form_joint_stock_differs() -> None:
    assert org_form_key("华鑫贸易股份有限公司") != org_form_key("华鑫贸易有限公司")
    assert org_form_key("华鑫贸易股份有限公司") != org_form_key("华鑫贸易有限责任公司")


@pytest.mark.parametrize(
    ("name", "branch", "parent"),
    [
        ("武汉华鑫贸易有限公司江岸分公司", True, "武汉华鑫贸易有限公司"),
        ("武汉华鑫贸易有限责任公司江岸分公司", True, "武汉华鑫贸易有限公司"),
        ("中国工商银行股份有限公司武汉分行", True, "中国工商银行股份有限公司"),
        ("中国工商银行武汉市江岸区支行", True, None),  # no legal form inside to name the parent
        ("武汉华鑫贸易有限公司", False, None),
        ("张伟", False, None),
    ],
)
def test_branch(name: str, branch: bool, parent: str | None) -> None:
    assert is_branch(name) is branch
    assert branch_parent(name) == parent


def test_branch_never_equals_parent() -> None:
    parent = "武汉华鑫贸易有限公司"
    branch = "武汉华鑫贸易有限公司江岸分公司"
    for key in (normalize_name, name_variant_key, org_form_key):
        assert key(branch) != key(parent)


_names = st.text(
    alphabet=st.sampled_from("张王李伟芳娜有限公司责任股份分 　·•．.ㆍ（）()ABCabcO0o零○〇甯於"), max_size=12
)


@given(_names)
def test_levels_are_idempotent_and_nested(name: str) -> None:
    """Each level is a function of the previous: equal at one level means equal at every weaker one."""
    norm = normalize_name(name)
    assert normalize_name(norm) == norm
    assert name_variant_key(norm) == name_variant_key(name)
    assert org_form_key(name_variant_key(name, person=False)) == org_form_key(name)
    assert not any(c.isspace() for c in norm)
