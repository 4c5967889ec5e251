"""`policy-match review`: docs/fidelity.md, every measure beside the plan's words, for sign-off.

One section per measure: its clause, the plan's sentence in Simplified script, whom the sentence
serves, each gate with its source (the plan, or a named instrument with number and date), its
period, whether the county decides, and the plan's indicators for it. Written in Simplified
Chinese for the policy staff who sign it off; a test keeps the file equal to this output.
"""

from collections.abc import Callable
from functools import lru_cache

from service.policy.catalogue import Catalogue, Measure
from service.policy.gate_sources import instrument_of, period_instrument
from service.policy.indicators import indicators_for
from service.policy.review_words import gate_words, instrument_words
from service.policy.rules import AllOf, AnyOf, Comparison, Condition, NotOf

HEADER = """# 措施忠实度审阅表

> 本文件由 `policy-match review` 根据 `policies/` 生成，请勿手工修改：修改措施文件后重新生成。
> 测试会核对本文件与命令输出一致。

审阅对象：{document}《{title}》；目录版本 `{version}`；措施 {count} 项。

## 审阅原则

1. **门槛**（资格条件）只在以下两种情形设定：方案原句限定了受益对象；或措施列明的文件
   （须有文号和印发日期）限定了受益对象。每个门槛都注明依据。
2. 方案的**目标指标**（如拥有2件发明专利、2个注册商标、数字化水平三级以上、市级以上研发机构
   覆盖率达100%）是对服务对象的期望，不是受益条件，列在“指标”一项。
3. 方案以外的**认定标准**（如工业和信息化部2022年印发的“小巨人”认定暂行办法，2026年4月1日起由
   修订后的《优质中小企业梯度培育管理办法》取代）不是方案的条件，不设为门槛。
4. **实施期限**：措施默认在方案期限内有效（{start} 至 {end}）；依三(三)“上级政府或现有政策有明确
   规定实施期限的，从其规定”，另有文件规定期限的，注明该文件。
5. **有条件的县（市、区）**：方案交由有条件的县（市、区）实施的措施，在每条匹配结果中明确说明由
   企业所在县（市、区）人民政府决定是否实施。

## 怎样阅读

- **原文**：方案原句，由繁体转为简体；“依据”中「」内引用的原文词句保留方案繁体原貌，以便与原件核对。
- **服务对象**：按方案原句理解的受益对象，供与门槛对照：门槛不应比服务对象更窄。
- **门槛**：企业须满足的条件；“固定”表示企业无法通过自身努力改变，不作“差一点符合”提示。
- **审阅**：逐项勾选“同意”或写明修改意见，签名并注明日期。
"""


def indicator_lines(catalogue: Catalogue, measure_id: str) -> list[str]:
    """The plan's target indicators that a measure guides, as lines in Simplified Chinese:
    each indicator, its target, and where and in what words the plan sets it."""
    return [
        f"{i.title.zh_hans}（{i.target_text.zh_hans}；{i.clause}：“{i.sentence.zh_hans}”）"
        for i in indicators_for(catalogue.indicators, measure_id)
    ]


def render_review(catalogue: Catalogue) -> str:
    """The whole review document for a catalogue, as Markdown in Simplified Chinese."""
    to_simplified = _converter()
    document = catalogue.document
    parts = [
        HEADER.format(
            document=to_simplified(document.id),
            title=document.title.zh_hans,
            version=catalogue.version,
            count=len(catalogue.measures),
            start=document.issued_on.isoformat(),
            end=document.in_force_until.isoformat(),
        ),
        _overview(catalogue),
    ]
    clause = None
    for number, measure in enumerate(catalogue.measures, start=1):
        if measure.spec.clause != clause:
            clause = measure.spec.clause
            heading = catalogue.clauses[clause].heading.zh_hans
            parts.append(f"## {clause} {heading}\n")
        parts.append(_section(catalogue, measure, number, to_simplified))
    return "\n".join(parts).rstrip("\n") + "\n"


def _overview(catalogue: Catalogue) -> str:
    lines = [
        "## 总览\n",
        "| 序号 | 条款 | 措施 | 门槛 | 其中依据其他文件 | 县（市、区）决定 |",
        "|---:|---|---|---:|---:|---|",
    ]
    for number, measure in enumerate(catalogue.measures, start=1):
        spec = measure.spec
        tests = measure.comparison_objects
        by_instrument = sum(1 for c in tests if instrument_of(spec, c.comparison) is not None)
        lines.append(
            f"| {number} | {spec.clause} | {spec.title.zh_hans}（`{spec.measure_id}`） | "
            f"{len(tests)} | {by_instrument} | {'是' if spec.county_discretion else '否'} |"
        )
    return "\n".join(lines) + "\n"


def _section(
    catalogue: Catalogue, measure: Measure, number: int, to_simplified: Callable[[str], str]
) -> str:
    spec = measure.spec
    lines = [f"### {number}. {spec.title.zh_hans}（`{spec.measure_id}`）\n"]
    lines.append(f"- **条款**：{spec.clause} {catalogue.clauses[spec.clause].heading.zh_hans}")
    lines += [f"- **原文**：{to_simplified(quote)}" for quote in spec.source.quote]
    lines.append(f"- **服务对象**：{spec.serves.zh_hans}")
    lines.append("- **门槛**：")
    lines += _gate_lines(catalogue, measure, spec.eligibility, depth=1)
    instrument = period_instrument(spec)
    period = f"{spec.valid_from.isoformat()} 至 {spec.valid_until.isoformat()}"
    lines.append(
        f"- **有效期**：{period}（"
        + (f"依据{instrument_words(instrument)}" if instrument else "方案期限")
        + "）"
    )
    discretion = catalogue.county_discretion.listing.zh_hans
    lines.append(
        f"- **县（市、区）决定**：{'是。' + discretion if spec.county_discretion else '否'}"
    )
    indicators = indicator_lines(catalogue, spec.measure_id)
    lines.append("- **指标**：" + ("；".join(indicators) if indicators else "（暂无）"))
    lines.append("- **审阅**：☐ 同意　☐ 修改意见：＿＿＿＿＿＿　审阅人：＿＿＿＿　日期：＿＿＿＿\n")
    return "\n".join(lines)


def _gate_lines(catalogue: Catalogue, measure: Measure, node: Condition, depth: int) -> list[str]:
    indent = "  " * depth
    if isinstance(node, Comparison):
        return [f"{indent}- {_gate(catalogue, measure, node)}"]
    if isinstance(node, NotOf):
        return [
            f"{indent}- 不满足以下条件：",
            *_gate_lines(catalogue, measure, node.not_, depth + 1),
        ]
    members = node.all if isinstance(node, AllOf) else node.any
    if isinstance(node, AllOf) and depth == 1:  # the usual top level: a plain list of gates
        return [line for m in members for line in _gate_lines(catalogue, measure, m, depth)]
    label = "同时满足以下各项：" if isinstance(node, AllOf) else "满足以下任一项即可："
    assert isinstance(node, AllOf | AnyOf)
    return [
        f"{indent}- {label}",
        *(line for m in members for line in _gate_lines(catalogue, measure, m, depth + 1)),
    ]


def _gate(catalogue: Catalogue, measure: Measure, test: Comparison) -> str:
    text = gate_words(catalogue.vocabularies, test)
    if test.fixed or test.field in catalogue.near_miss.fixed_fields:
        text += "（固定）"
    instrument = instrument_of(measure.spec, test)
    if instrument is not None:
        source = f"依据{instrument_words(instrument)}"
    elif test.source is not None and test.source.plan is not None:
        source = f"依据方案原文「{test.source.plan}」"
    else:
        source = "依据方案原文（本措施所引语句）"
    note = f"说明：{test.note.zh_hans}。" if test.note else ""
    return f"{text}。{source}。{note}"


@lru_cache(maxsize=1)
def _converter() -> Callable[[str], str]:
    """Traditional to Simplified script (OpenCC's t2s tables, shipped inside the package)."""
    import opencc

    convert: Callable[[str], str] = opencc.OpenCC("t2s").convert
    return convert
