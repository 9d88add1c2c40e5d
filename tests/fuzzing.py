"""What the fuzz tests share: the example counts (hypothesis profiles) and random JSON.

FUZZ_PROFILE chooses the profile: ``ci`` (the default, in `make test`) runs a few thousand
examples per target, ``fuzz`` (`make fuzz`) many more. Only the fuzz tests use these profiles,
so the other property tests keep their own counts.
"""
import copy
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from dashboard.cards.gallery import BLANK_CARDS, starters
from dashboard.wecom.cards import CARD_TYPES, limits

settings.register_profile("ci", max_examples=2000, deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz", settings.get_profile("ci"), max_examples=50_000)
FUZZ = settings.get_profile(os.environ.get("FUZZ_PROFILE", "ci"))

# Text as JSON can carry it: any code point, lone surrogates included ("\ud800" is valid JSON).
any_text = st.text(st.characters(exclude_categories=()), max_size=20)
FIELD_NAMES = sorted({path.rsplit(".", 1)[-1].removesuffix("[]") for fields in limits().values()
                      for path in fields} | {"card_type", "task_id"})
keys = st.sampled_from(FIELD_NAMES) | any_text
scalars = (st.none() | st.booleans() | st.integers() | st.integers(-3, 300) | st.floats()
           | any_text | st.sampled_from(CARD_TYPES) | st.sampled_from(["", " ", "1", "0", "@all"]))
json_values = st.recursive(  # small: hypothesis spends more on drawing big trees than the code on them
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=8)

SAMPLE_CARDS = [starter["template_card"] for starter in starters().values()] + list(BLANK_CARDS.values())


def _slots(value, found):
    """Every (container, key) in a JSON tree, leaves first: hypothesis draws the first ones most."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in list(items):
        _slots(item, found)
        found.append((value, key))
    return found


SAME_KIND = {str: any_text, bool: st.booleans(), int: st.integers(-3, 300) | st.integers(), float: st.floats()}


@st.composite
def mutated_cards(draw, samples=SAMPLE_CARDS):
    """A starter (or blank) card with a few values changed, replaced, removed or added at random."""
    card = copy.deepcopy(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(0, 3))):
        slots = sorted(_slots(card, []), key=lambda slot: slot[1] == "card_type")  # changed last: it voids the rest
        container, key = draw(st.sampled_from(slots)) if slots else (card, "card_type")
        action = draw(st.sampled_from(["change", "replace", "remove", "add"]))
        if action == "change":  # another value of the same kind: lengths, limits, odd characters
            container[key] = draw(SAME_KIND.get(type(container[key]), json_values))
        elif action == "replace":
            container[key] = draw(json_values)
        elif action == "remove":
            del container[key]
        elif isinstance(container, dict):
            container[draw(keys)] = draw(json_values)
        else:
            container.append(draw(json_values))
    return card


template_cards = mutated_cards() | json_values
