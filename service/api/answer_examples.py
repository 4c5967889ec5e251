"""Examples of the 2xx answers, shown in the OpenAPI document beside each response.

Taken from the service's real answers for the synthetic firms of service/policy/examples.py,
shortened to one item per list. tests/test_openapi_document.py validates each against the
schema it illustrates, so an example cannot drift from the shape it shows.
"""

from typing import Any

from service.policy.examples import EXAMPLE_USCC, FULL_PROFILE

VERSION = "55308d083be889e8"
NAME = FULL_PROFILE["name"]
INDUSTRY = {"code": "industry_it", "name": "市工业和信息化局"}
FINANCE = {"code": "finance", "name": "市财政局"}
SUBSCRIPTION_ID = "sub_4f1c2a9b0d3e5f6a7b8c9d0e"
EVENT_ID = "evt_0b8e6f2c4d1a4e3b9f7a6c5d4e3f2a1b"
TAISHAN = "台山市人民政府"

_HEAD = {
    "finance": False,
    "lead_department": INDUSTRY,
    "valid_from": "2024-01-30",
    "valid_until": "2026-12-31",
    "county_discretion": False,
    "county_government": TAISHAN,
}
MATCHED = {
    **_HEAD,
    "measure_id": "ladder-training-courses",
    "clause": "二(一)",
    "kind": "training",
    "title": "优质中小企业梯度培育政策宣讲和多层次培训班",
    "departments": [INDUSTRY],
    "reasons": [
        {
            "field": "employees",
            "operator": "less_than",
            "expected": 1000,
            "note": "梯度培育面向中小企业；工业中小企业划型标准（工信部联企业〔2011〕300号）："
            "从业人员1000人以下或营业收入4亿元以下",
            "actual": 180,
            "passed": True,
        }
    ],
}
_UNMET = {
    "field": "tier",
    "operator": "is",
    "expected": "little_giant",
    "note": "须为有效期内的国家级专精特新“小巨人”企业",
    "actual": "provincial",
    "passed": False,
}
NEAR_MISS = {
    **_HEAD,
    "measure_id": "key-little-giant-funding",
    "clause": "二(二)5",
    "kind": "central_fund",
    "title": "重点“小巨人”企业中央、省财政资金支持",
    "departments": [INDUSTRY, FINANCE],
    "reasons": [
        _UNMET,
        {
            "field": "key_little_giant",
            "operator": "is",
            "expected": True,
            "note": "须入选中央财政重点支持的重点“小巨人”企业",
            "actual": None,
            "passed": None,
        },
    ],
    "unmet": [_UNMET],
    "missing_fields": ["key_little_giant"],
}
UNDETERMINED = {
    **_HEAD,
    "measure_id": "loan-interest-subsidy",
    "clause": "二(二)5",
    "kind": "loan_interest_subsidy",
    "title": "专精特新中小企业市级贷款贴息",
    "finance": True,
    "departments": [INDUSTRY, FINANCE],
    "reasons": [
        {
            "field": "has_bank_loan",
            "operator": "is",
            "expected": True,
            "actual": None,
            "passed": None,
        }
    ],
    "missing_fields": ["has_bank_loan"],
}
INDICATOR: dict[str, Any] = {
    "id": "invention-patents",
    "title": "拥有2项以上发明专利",
    "clause": "一(二)",
    "quote": "提高企業擁有2項以上發明專利的比例",
    "quote_zh_hans": "提高企业拥有2项以上发明专利的比例",
    "sentence": "提高企业拥有2项以上发明专利的比例",
    "target": {
        "text": "有效发明专利不少于2项",
        "field": "invention_patents",
        "operator": "at_least",
        "value": 2,
    },
    "measures": ["invention-patent-cultivation", "ip-demonstration-enterprise"],
    "actual": 1,
    "status": "not_met",
    "status_text": "未达到",
}
# A batch item refused (its profile is not valid): the same in both views.
REFUSED_ITEM: dict[str, Any] = {
    "index": 1,
    "ok": False,
    "errors": [
        {
            "field": "$.profiles[1].uscc",
            "in": "body",
            "message": "Value error, not a valid unified social credit code: "
            "check digit is '0', expected 'C'",
            "type": "value_error",
        }
    ],
}
MATCH = {
    "catalogue_version": VERSION,
    "as_of": "2025-06-01",
    "county_government": TAISHAN,
    "matched": [MATCHED],
    "near_misses": [NEAR_MISS],
    "undetermined": [UNDETERMINED],
    "indicators": [INDICATOR],
}
MEASURE = {
    "measure_id": "loan-interest-subsidy",
    "clause": "二(二)5",
    "kind": "loan_interest_subsidy",
    "title": "专精特新中小企业市级贷款贴息",
    "finance": True,
    "lead_department": INDUSTRY,
    "departments": [INDUSTRY, FINANCE],
    "valid_from": "2024-01-30",
    "valid_until": "2026-12-31",
    "county_discretion": False,
    "summary": "优化对专精特新中小企业（含市级）的市级贷款贴息奖补政策，对有商业银行贷款的"
    "专精特新中小企业给予贴息；各年度的申报范围和标准以当年申报通知为准。",
    "kind_name": "贷款贴息",
    "clause_heading": "加大财政扶持力度",
    "source": {
        "document": "江府辦函〔2024〕13號",
        "document_title": "江门市推动专精特新中小企业倍增发展行动方案(2024-2026年)",
        "clause": "二(二)5",
        "quote": ["優化對專精特新中小企業市級貸款貼息獎補政策。"],
        "quote_zh_hans": ["优化对专精特新中小企业市级贷款贴息奖补政策。"],
    },
    "serves": "有贷款的专精特新中小企业（含市级）",
    "county_discretion_note": None,
    "period_source": None,
    "eligibility": {
        "all": [
            {
                "field": "has_bank_loan",
                "operator": "is",
                "value": True,
                "note": None,
                "fixed": False,
                "source": {"plan": "貸款貼息", "instrument": None},
            }
        ]
    },
    "conditions": [
        {
            "field": "has_bank_loan",
            "operator": "is",
            "expected": True,
            "source": {"kind": "plan", "words": "貸款貼息"},
        }
    ],
    "indicators": [],
    "catalogue_version": VERSION,
}
SUBSCRIPTION = {
    "id": SUBSCRIPTION_ID,
    "url": "https://platform.jiangmen.gov.cn/hooks/policy-match",
    "counties": ["440781"],
    "kinds": None,
    "description": "request-response platform",
    "state": "active",
    "ended_reason": None,
    "ended_at": None,
    "created_at": "2025-06-01T08:30:00Z",
    "created_by": "demo-platform",
    "unresolved_since": None,
    "paused_at": None,
    "paused_reason": None,
    "catch_up_cursor": None,
    "capacity": {"max_pending": 10000, "events_not_queued": 0, "not_queued": None},
}
EVENT = {
    "event_id": EVENT_ID,
    "type": "measure.matched",
    "occurred_at": "2025-06-01T08:31:12Z",
    "uscc": EXAMPLE_USCC,
    "county": "440781",
    "measure_id": "ladder-training-courses",
    "clause": "二(一)",
    "kind": "training",
    "lead_department": INDUSTRY,
    "catalogue_version": VERSION,
    "cause": "profile_stored",
    "sequence": 4217,
}
EVENT_DETAIL = {
    "event": EVENT,
    "deliveries": [
        {
            "subscription_id": SUBSCRIPTION_ID,
            "state": "delivered",
            "attempts": 1,
            "next_attempt_at": None,
            "delivered_at": "2025-06-01T08:31:13Z",
            "last_status": 204,
            "last_error": None,
            "attempt_log": [
                {
                    "attempt": 1,
                    "worker": "service-4711",
                    "started_at": "2025-06-01T08:31:12Z",
                    "duration_ms": 84,
                    "status_code": 204,
                    "error": None,
                    "category": None,
                    "explanation": None,
                    "outcome": "delivered",
                }
            ],
        }
    ],
}
REMATCH = {
    "id": 12,
    "reason": "catalogue_published",
    "catalogue_version": VERSION,
    "day": "2025-06-01",
    "state": "done",
    "requested_by": "demo-admin",
    "requested_at": "2025-06-01T09:00:00Z",
    "started_at": "2025-06-01T09:00:01Z",
    "finished_at": "2025-06-01T09:03:40Z",
    "firms_total": 12000,
    "firms_done": 12000,
    "firms_changed": 310,
    "events": 420,
    "gained": {"loan-interest-subsidy": 250},
    "lost": {"tech-gap-import-substitution": 170},
}
COUNTY_TALLY = {
    "county": "440781",
    "county_name": "台山市",
    "firms": None,
    "count": 3,
    "unknown": 0,
    "share_percent": None,
}
PROGRESS = {
    "as_of": "2026-06-30",
    "county": None,
    "include_synthetic": False,
    "catalogue_version": VERSION,
    "document": "江府辦函〔2024〕13號",
    "document_title": "江门市推动专精特新中小企业倍增发展行动方案(2024-2026年)",
    "notice": "以下数字统计的是本系统登记库中企业自行报送或平台同步的档案，不是主管部门公布的"
    "官方认定名单；认定情况以工业和信息化部门公布的名单为准。",
    "items": [
        {
            "id": "little-giants",
            "title": "国家级专精特新“小巨人”企业数量",
            "clause": "一(二)",
            "quote": "力爭在現有24家國家級專精特新“小巨人”企業的基礎上實現數量翻倍,"
            "達到累計培育48家國家級專精特新“小巨人”企業",
            "sentence": "力争在现有24家国家级专精特新“小巨人”企业的基础上实现数量翻倍,"
            "达到累计培育48家国家级专精特新“小巨人”企业",
            "also": [
                {
                    "clause": "二(一)",
                    "quote": "力爭累計培育48家國家級專精特新“小巨人”企業和1400家以上"
                    "省級專精特新中小企業",
                }
            ],
            "goal": "reach",
            "unit": "家",
            "baseline": 24,
            "baseline_on": "2024-01-30",
            "target": 48.0,
            "target_max": None,
            "or_more": False,
            "per_year": False,
            "year": 2026,
            "note": None,
            "counted": True,
            "what": "认定在有效期内的国家级专精特新“小巨人”企业",
            "not_counted": None,
            "total": {"firms": None, "count": 3, "unknown": 0, "share_percent": None},
            "by_county": [COUNTY_TALLY],
        }
    ],
    "next_cursor": None,
}

# By the component schema a 2xx answer has (a list of them: a list of this one).
BY_SCHEMA: dict[str, Any] = {
    "MatchResponse": MATCH,
    "BatchResponse": {
        "catalogue_version": VERSION,
        "as_of": "2025-06-01",
        "results": [
            {"index": 0, "ok": True, "uscc": EXAMPLE_USCC, **{k: v for k, v in MATCH.items()}},
            REFUSED_ITEM,
        ],
    },
    "Profile": FULL_PROFILE,
    # POST /v1/match and /batch answer either view (service/api/compact_schemas.py, whose
    # schemas carry the compact view's examples): the full view's is the 200's example
    "MatchAnswer": MATCH,
    "EnterpriseHistory": {
        "uscc": EXAMPLE_USCC,
        "items": [
            {
                "version": 1,
                "action": "created",
                "changed_by": "demo-platform",
                "changed_at": "2025-06-01T08:31:12Z",
                "profile": FULL_PROFILE,
            }
        ],
        "next_cursor": None,
    },
    "EligibleEnterprises": {
        "measure_id": "loan-interest-subsidy",
        "as_of": "2025-06-01",
        "catalogue_version": VERSION,
        "items": [{"uscc": EXAMPLE_USCC, "name": NAME, "county": "440781", "tier": "provincial"}],
        "next_cursor": None,
    },
    "DisclosureList": {
        "items": [
            {
                "disclosure_id": 42,
                "disclosed_at": "2025-06-01T10:02:03Z",
                "caller": "demo-bank",
                "bank_id": "bank-demo-1",
                "measure_id": "loan-interest-subsidy",
                "as_of": "2025-06-01",
                "catalogue_version": VERSION,
                "enterprises": [EXAMPLE_USCC],
            }
        ],
        "next_cursor": None,
    },
    "SubscriptionCreated": {**SUBSCRIPTION, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
    "SubscriptionList": {"items": [SUBSCRIPTION], "next_cursor": None},
    "SubscriptionOut": {
        **SUBSCRIPTION,
        "deliveries": {"pending": 0, "delivered": 37, "dead": 0, "cancelled": 0},
    },
    "PushEventFeed": {
        "items": [EVENT],
        "next_cursor": "eyJwIjp7ImUiOjQyMTd9fQ.Lq3W1dPp0u2tZr9mJc6x8vYb4kHn7sQe5aFg0iTo2Uw",
    },
    "PushEventDetail": EVENT_DETAIL,
    "MeasureList": {
        "catalogue_version": VERSION,
        "count": 1,
        "items": [MEASURE],
        "next_cursor": None,
    },
    "MeasureOut": MEASURE,
    "DepartmentList": {
        "catalogue_version": VERSION,
        "items": [
            {
                "code": "industry_it",
                "name": "市工业和信息化局",
                "names": {
                    "zh-Hans": "市工业和信息化局",
                    "zh-Hant": "市工業和信息化局",
                    "en": "Municipal Bureau of Industry and Information Technology",
                },
                "lead_of": ["二(一)", "二(二)2", "二(二)5"],
                "clauses": ["二(一)", "二(二)1", "二(二)2", "二(二)5"],
            }
        ],
        "next_cursor": None,
    },
    "VocabularyList": {
        "catalogue_version": VERSION,
        "items": [
            {
                "vocabulary": "counties",
                "terms": [
                    {
                        "code": "440781",
                        "name": "台山市",
                        "names": {"zh-Hans": "台山市", "zh-Hant": "台山市", "en": "Taishan City"},
                        "government": TAISHAN,
                    }
                ],
            }
        ],
        "next_cursor": None,
    },
    "CatalogueReload": {
        "catalogue_version": "9c41d0e7a2b35f18",
        "previous_version": VERSION,
        "changed": True,
        "measures_added": [],
        "measures_removed": [],
        "measures_changed": ["loan-interest-subsidy"],
        "rematch": {**REMATCH, "state": "queued", "started_at": None, "finished_at": None}
        | {"firms_total": None, "firms_done": 0, "firms_changed": 0, "events": 0}
        | {"gained": {}, "lost": {}},
    },
    "RematchRunOut": REMATCH,
    "RematchList": {"items": [REMATCH], "next_cursor": None},
    "PlanProgress": PROGRESS,
    "TokenResponse": {
        "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkZW1vLXBsYXRmb3JtIn0.c2ln",
        "token_type": "bearer",
        "expires_in": 3600,
        "scope": "match",
    },
}

IMPORT_JOB = {
    "id": "3f0c2a9b0d3e4f6a8b8c9d0e1f2a3b4c",
    "file_name": "企业名单.xlsx",
    "status": "succeeded",
    "rows_read": 1200,
    "created": 1150,
    "updated": 30,
    "unchanged": 12,
    "bad": 8,
    "problem": None,
    "result": "/v1/enterprises/imports/3f0c2a9b0d3e4f6a8b8c9d0e1f2a3b4c/result.xlsx",
    "created_at": "2026-12-01T02:30:00.120000Z",
    "started_at": "2026-12-01T02:30:00.180000Z",
    "finished_at": "2026-12-01T02:30:02.950000Z",
}
BY_SCHEMA["ImportJobOut"] = IMPORT_JOB
BY_SCHEMA["ImportJobList"] = {"items": [IMPORT_JOB], "next_cursor": None}

# By operation, for answers without a component schema.
BY_OPERATION: dict[str, Any] = {
    "getLiveness": {"status": "ok"},
    "getReadiness": {"status": "ready", "catalogue_version": VERSION, "schema_revision": "0009"},
}
BY_SCHEMA["BatchAnswer"] = BY_SCHEMA["BatchResponse"]
