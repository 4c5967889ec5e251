"""A sheet's cells read as profile values: codes or the words offices use for them."""

from service.registry.sheet_cells import profile_value


def test_cells_name_codes_in_the_words_offices_use() -> None:
    read = {
        ("tier", "小巨人"): "little_giant",
        ("tier", "省级专精特新"): "provincial",
        ("tier", "國家級專精特新「小巨人」企業"): "little_giant",
        ("tier", "专精特新"): "专精特新",  # in three names: left for the profile to refuse
        ("county", "台山"): "440781",
        ("county", 440703): "440703",
        ("cluster", "null"): None,
        ("has_bank_loan", "否"): False,
        ("has_bank_loan", 1): True,
        ("tier_valid_until", "2026年1月31日"): "2026-01-31",
        ("tier_valid_until", "2026/1/31"): "2026-01-31",
        ("tier_valid_until", 46053): "2026-01-31",  # a day left as Excel's number
        ("tier_valid_until", "2026-02-30"): "2026-02-30",
        ("employees", "1,200"): 1200,
        ("employees", 12.0): 12,
        ("revenue_cny", "6.0E7"): 60_000_000,
        ("bank_consents", "bank-a；bank-b、bank-c"): ["bank-a", "bank-b", "bank-c"],
    }
    assert {key: profile_value(*key) for key in read} == read
