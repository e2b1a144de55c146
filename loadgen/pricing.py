"""What the gateway will charge for a call: the same price table and matching rules as
collector_config/cost.py (billed = response model, else request model; exact names win
over patterns; no match = unpriced), so the loadgen's summary predicts `llm_cost_total`."""
from __future__ import annotations

import re

from collector_config.cost import cost_usd
from settings import Settings, validate
from settings.model import Price


class Pricer:
    def __init__(self, prices: tuple[Price, ...]):
        self.exact = {p.model: p for p in prices}
        self.patterns = [(re.compile(f"^(?:{p.pattern})$"), p) for p in prices if p.pattern]

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "Pricer":
        return cls((settings or validate({"target": "docker"})).pricing.models)

    def price(self, model: str) -> Price | None:
        if model in self.exact:
            return self.exact[model]
        for pattern, price in self.patterns:
            if pattern.match(model):
                return price
        return None

    def cost(self, model: str, input_tokens: int, output_tokens: int, cached: int) -> float | None:
        price = self.price(model)
        return None if price is None else cost_usd(price, input_tokens, output_tokens, cached)
