"""Write sample_data/chinese_entities.conll: made-up Chinese sentences tagged for named entities.

One character per line with its BIO tag (PER, ORG, LOC), a blank line between sentences, as Chinese NER
corpora are usually written (MSRA, People's Daily). Every name, company and event is invented; real
cities appear only as place names. Deterministic: `python bench/make_chinese_entities.py` rewrites the
same file.
"""

from __future__ import annotations

import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sample_data" / "chinese_entities.conll"
PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周婷", "吴刚", "孙悦", "林晓",
          "郭建华", "何雨晴", "马超", "高远"]  # fmt: skip
PLACES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "南京", "武汉", "西安", "重庆", "苏州", "青岛",
          "长江", "黄山", "浦东新区", "云南"]  # fmt: skip
ORGS = ["星辰科技", "青禾银行", "远航物流", "明湖大学", "北辰医院", "蓝海电子", "华岳集团", "云帆汽车",
        "晨光出版社", "东湖研究所", "金桥保险", "山川食品公司"]  # fmt: skip
TEMPLATES = [
    "{PER}在{LOC}的{ORG}工作。",
    "{PER}昨天去了{LOC}。",
    "{ORG}宣布在{LOC}开设新的研发中心。",
    "记者从{ORG}获悉，{PER}将出任公司总经理。",
    "{PER}和{PER}一起在{LOC}参加了马拉松比赛。",
    "{ORG}与{ORG}签署了合作协议。",
    "今年夏天，{LOC}的游客比去年多了三成。",
    "{PER}毕业于{ORG}，现在住在{LOC}。",
    "{ORG}发布的报告显示，{LOC}的房价有所回落。",
    "据{ORG}介绍，新产品下个月在{LOC}上市。",
    "{PER}说，这次活动得到了{ORG}的大力支持。",
    "从{LOC}到{LOC}的高铁每天有二十多班。",
    "{ORG}的工程师{PER}获得了年度创新奖。",
    "这家店的咖啡很好喝，价格也不贵。",
    "周末天气晴朗，适合出门散步。",
    "{PER}在{LOC}开了一家小书店。",
    "{ORG}今年第三季度的营收增长了百分之十二。",
    "{LOC}市政府邀请{ORG}参与城市规划。",
]
KINDS = {"PER": PEOPLE, "LOC": PLACES, "ORG": ORGS}


def sentence(rng: random.Random, template: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    rest = template
    while rest:
        start = rest.find("{")
        if start < 0:
            rows.extend((ch, "O") for ch in rest)
            break
        rows.extend((ch, "O") for ch in rest[:start])
        kind = rest[start + 1 : rest.index("}", start)]
        name = rng.choice(KINDS[kind])
        rows.extend((ch, ("B-" if i == 0 else "I-") + kind) for i, ch in enumerate(name))
        rest = rest[rest.index("}", start) + 1 :]
    return rows


def main(n: int = 240, seed: int = 7) -> None:
    rng = random.Random(seed)
    seen: set[str] = set()
    blocks = []
    while len(blocks) < n:
        rows = sentence(rng, rng.choice(TEMPLATES))
        text = "".join(ch for ch, _ in rows)
        if text in seen:
            continue
        seen.add(text)
        blocks.append("\n".join(f"{ch} {tag}" for ch, tag in rows))
    OUT.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(blocks)} sentences)")


if __name__ == "__main__":
    main()
