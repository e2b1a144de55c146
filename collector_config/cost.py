"""Cost of every LLM span from the validated price table: the project's llmcost processor.

cost = ((input - cached) * input_price + cached * cached_price + output * output_price) / 1e6
The priced model is gen_ai.response.model when present (what was billed), else
gen_ai.request.model; exact names win over patterns; no match -> unpriced, never guessed.
"""
from __future__ import annotations

from collector_config.ottl import any_of
from settings import Settings
from settings.model import Price
from telemetry import keys as k

NAME = "llmcost"


def cost_usd(price: Price, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> float:
    """The same arithmetic, in the same order, as the processor."""
    return ((float(input_tokens) - float(cached_tokens)) * price.input + float(cached_tokens) * price.cached_input
            + float(output_tokens) * price.output) / 1000000.0


def _price(p: Price) -> dict:
    out = {"model": p.model, "input": float(p.input), "cached_input": float(p.cached_input), "output": float(p.output)}
    return {**out, "pattern": p.pattern} if p.pattern else out


def processor(settings: Settings) -> dict:
    return {"model_keys": [k.RESPONSE_MODEL, k.REQUEST_MODEL], "input_tokens": k.INPUT_TOKENS,
            "output_tokens": k.OUTPUT_TOKENS, "cached_tokens": k.CACHED_INPUT_TOKENS,
            "operation_key": k.OPERATION, "operation_regex": any_of(k.LLM_OPERATIONS),
            "cost_key": k.COST, "unpriced_key": k.UNPRICED, "prices": [_price(p) for p in settings.pricing.models]}
