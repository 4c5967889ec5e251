"""GET /console/calculator: 政策计算器, a firm's profile tried against the plan in a form.

The form is sent with GET, so the page's address carries the profile and can be shared;
nothing is stored. The answer is POST /v1/match's own (`answer_profile`, the same matching,
the same reasons, read back from its JSON) laid out for people below the form. A field the
profile refuses brings the form back with that field named, in the page's language (422).
"""

from datetime import date
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from service.api.deps import iso_day
from service.console.language import LANGUAGE_NAMES, console_language
from service.console.pages import render
from service.console.session import ConsoleSession, public_page
from service.core.clock import today
from service.core.errors import Unprocessable
from service.core.i18n import Language, message, translate
from service.core.validation_messages import validation_message
from service.matching.answer import answer_profile
from service.matching.decision_log import record_decision
from service.policy.catalogue import Catalogue
from service.policy.profile import Profile
from service.policy.profile_form import field_label, form_fields, profile_form, profile_input
from service.policy.profile_words import LIST_SEPARATOR, condition_words, value_words
from service.policy.vocabulary import Vocabularies

router = APIRouter()
CALLER = "console-calculator"  # who the decision log says asked
AS_OF_LABEL = message("Decide as of")


@router.get("/console/calculator")
async def calculator(
    request: Request, session: Annotated[ConsoleSession | None, Depends(public_page)]
) -> HTMLResponse:
    """The calculator's form and, once a profile is given, what the plan offers the firm."""
    catalogue: Catalogue = request.app.state.catalogue
    language = console_language(request)
    query = request.query_params
    filled = {name: query.get(name, "") for name in (*form_fields(), "as_of")}
    context: dict[str, Any] = {
        "groups": profile_form(catalogue.vocabularies, language),
        "filled": filled,
        "errors": [],
        "answer": None,
        "separator": LIST_SEPARATOR[language],
    }
    if not any(name in query for name in filled):  # nothing asked yet: the empty form
        return render(request, "calculator.html", context)
    errors: list[dict[str, str]] = []
    as_of = _as_of(filled["as_of"].strip(), errors, language)
    try:
        profile = Profile.model_validate(profile_input(filled))
    except ValidationError as refused:
        errors += [_field_error(e, language) for e in refused.errors()]
    if errors or as_of is None:
        return render(request, "calculator.html", {**context, "errors": errors}, status=422)
    record = partial(record_decision, request.app.state.decisions, CALLER)
    body = answer_profile(catalogue, profile, as_of=as_of, language=language, record=record)
    answer = readable_answer(orjson.loads(body), catalogue.vocabularies, language)
    return render(
        request,
        "calculator.html",
        {**context, "answer": answer, "in_other_languages": _in_other_languages(request, language)},
    )


def _in_other_languages(request: Request, language: Language) -> list[tuple[str, str, str]]:
    """The same answer in the other languages: (language, its name, the page's query with it)."""
    asked = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return [
        (code, name, urlencode([*asked, ("lang", code)]))
        for code, name in LANGUAGE_NAMES.items()
        if code != language
    ]


def _as_of(raw: str, errors: list[dict[str, str]], language: Language) -> date | None:
    """The day asked for (today in Jiangmen when empty); an error named `as_of` otherwise."""
    if not raw:
        return today()
    try:
        return iso_day(raw, "as_of")
    except Unprocessable as refused:
        for item in refused.errors or ():
            errors.append(
                {
                    "field": "as_of",
                    "label": _label("as_of", language),
                    "message": _message(item, language),
                }
            )
        return None


def _field_error(error: Any, language: Language) -> dict[str, str]:
    """A refused profile field as the page names it: its label and the reason, translated."""
    loc = error.get("loc") or ("",)
    field = str(loc[0])
    return {
        "field": field,
        "label": _label(field, language),
        "message": str(translate(validation_message(error), language)),
    }


def _label(field: str, language: Language) -> str:
    """A field's label; `as_of` is the page's own."""
    return AS_OF_LABEL.translate(language) if field == "as_of" else field_label(field, language)


def _message(item: dict[str, Any], language: Language) -> str:
    return str(translate(item.get("message", ""), language))


def readable_answer(answer: dict[str, Any], vocab: Vocabularies, language: Language) -> Any:
    """POST /v1/match's answer with the words a person reads: each unmet condition and each
    missing field named as the form names it."""

    def condition(reason: dict[str, Any]) -> dict[str, Any]:
        field = reason["field"]
        words = condition_words(vocab, field, reason["operator"], reason["expected"], language)
        actual = reason["actual"]
        return {
            **reason,
            "words": reason.get("note") or words,
            "rule": words,
            "actual_words": None if actual is None else value_words(vocab, field, actual, language),
        }

    def fields(names: list[str]) -> list[dict[str, str]]:
        return [{"name": name, "label": field_label(name, language)} for name in names]

    for item in answer["near_misses"]:
        item["unmet_words"] = [condition(reason) for reason in item["unmet"]]
        item["missing"] = fields(item.get("missing_fields", []))
    for item in answer["undetermined"]:
        item["missing"] = fields(item["missing_fields"])
    contacts: dict[str, dict[str, Any]] = {}
    for item in [*answer["matched"], *answer["near_misses"]]:
        lead = item["lead_department"]
        contact = contacts.setdefault(lead["code"], {"name": lead["name"], "measures": []})
        contact["measures"].append(item["title"])
    answer["contacts"] = list(contacts.values())
    return answer
