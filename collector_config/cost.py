"""Cost of every LLM span from the validated price table (transform processor).

cost = ((input - cached) * input_price + cached * cached_price + output * output_price) / 1e6
The priced model is gen_ai.response.model when present (what was billed), else
gen_ai.request.model; exact names win over patterns; no match -> unpriced, never guessed.
"""
from __future__ import annotations

from collector_config.normalize import llm_condition
from collector_config.ottl import attr, lit
from settings import Settings
from settings.model import Price
from telemetry import keys as k

MODEL = 'span.cache["model"]'
LLM = 'span.cache["llm"]'


def number(x: float) -> str:
    """A decimal literal OTTL parses (no exponent form)."""
    text = f"{x:.12f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def cost_usd(price: Price, input_tokens: int, output_tokens: int, cached_tokens: int = 0) -> float:
    """The same arithmetic, in the same order, as the collector statement."""
    return ((float(input_tokens) - float(cached_tokens)) * price.input + float(cached_tokens) * price.cached_input
            + float(output_tokens) * price.output) / 1000000.0


def _set_cost(price: Price, match: str) -> str:
    """`match` first: it reads the small cache, where `cost == nil` scans every attribute of the
    span for a key it lacks (~0.5 µs per priced model on a span of 20 attributes)."""
    cost = attr("span", k.COST)
    formula = (f'((span.cache["in"] - span.cache["cached"]) * {number(price.input)} + '
               f'span.cache["cached"] * {number(price.cached_input)} + '
               f'span.cache["out"] * {number(price.output)}) / 1000000.0')
    return f"set({cost}, {formula}) where {match} and {cost} == nil"


def statements(settings: Settings) -> list[str]:
    llm = llm_condition()
    out = [f"set({MODEL}, {attr('span', k.REQUEST_MODEL)})",
           f"set({MODEL}, {attr('span', k.RESPONSE_MODEL)}) where {attr('span', k.RESPONSE_MODEL)} != nil"]
    for name, key in (("in", k.INPUT_TOKENS), ("out", k.OUTPUT_TOKENS), ("cached", k.CACHED_INPUT_TOKENS)):
        out.append(f'set(span.cache["{name}"], 0.0)')
        out.append(f'set(span.cache["{name}"], Double({attr("span", key)})) where {attr("span", key)} != nil')
    prices = settings.pricing.models
    # The LLM-operation match once per span, then an equality per model, checked first.
    out.append(f"set({LLM}, true) where {llm}")
    out += [_set_cost(p, f"{MODEL} == {lit(p.model)} and {LLM} == true") for p in prices]
    out += [_set_cost(p, f"{LLM} == true and IsMatch({MODEL}, {lit('^(?:' + p.pattern + ')$')})") for p in prices if p.pattern]
    out.append(f"set({attr('span', k.UNPRICED)}, true) where {LLM} == true and {attr('span', k.COST)} == nil")
    return out


def processor(settings: Settings) -> dict:
    return {"error_mode": "ignore", "trace_statements": [{"context": "span", "statements": statements(settings)}]}
