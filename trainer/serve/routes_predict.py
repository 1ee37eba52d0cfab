"""The routes that put the run to work: POST /predict and POST /explain (a token needed)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from trainer.i18n import number, tr
from trainer.serve.auth import authorize
from trainer.serve.deps import ConfigDep, ServiceDep
from trainer.serve.errors import Refusal
from trainer.serve.settings import ServeConfig

router = APIRouter(dependencies=[Depends(authorize)])


class PredictBody(BaseModel):
    inputs: str | list[str]


class ExplainBody(BaseModel):
    inputs: str
    target: str | None = None


@router.post("/predict")
async def predict(body: PredictBody, service: ServiceDep, config: ConfigDep):
    one = isinstance(body.inputs, str)
    texts = [body.inputs] if one else list(body.inputs)
    problem = check_texts(texts, config, listed=not one)
    if problem:
        raise Refusal(*problem)
    results = await service.passes.submit(texts)
    service.count(results)
    if service.feed:
        service.feed.put(texts, results)
    if one:
        return {"predictions": results[0]["answer"], "trusted": results[0]["trusted"]}
    return {"predictions": [r["answer"] for r in results], "trusted": [r["trusted"] for r in results]}


@router.post("/explain")
async def explain(body: ExplainBody, service: ServiceDep, config: ConfigDep):
    problem = check_texts([body.inputs], config, listed=False)
    if problem:
        raise Refusal(422, problem[1])
    if body.target is not None and body.target not in service.model.labels:
        raise Refusal(422, tr("Unknown target {target}. This run's labels: {labels}.", target=repr(body.target),
                              labels=", ".join(service.model.labels)))  # fmt: skip
    return {"explanations": await asyncio.to_thread(service.explain, body.inputs, body.target)}


def check_texts(texts: list[str], config: ServeConfig, listed: bool = True) -> tuple[int, str] | None:
    """What is wrong with the texts of a request, as (status, sentence), or None; `listed`: they came as a
    list, so a sentence names the field as inputs[i]."""
    if not texts:
        return 422, tr("inputs is an empty list: send at least one text.")
    if len(texts) > config.max_inputs:
        return 413, tr("{n} texts are over the limit of {limit} per request: send them in parts.",
                       n=len(texts), limit=config.max_inputs)  # fmt: skip
    for i, text in enumerate(texts):
        if not text.strip():
            return 422, tr("Text {i} is empty: send some text.", i=i)
        if len(text) > config.max_chars:
            return 413, tr("Text {i} has {chars} characters, over the limit of {limit}: shorten it.", i=i,
                           chars=number(len(text)), limit=number(config.max_chars))  # fmt: skip
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return 422, tr("{field} is not text that UTF-8 can hold (a lone surrogate, half of a UTF-16 pair): "
                           "send valid Unicode text.", field=f"inputs[{i}]" if listed else "inputs")  # fmt: skip
    return None
