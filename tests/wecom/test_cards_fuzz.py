"""The card validator on random JSON (and starter cards with random changes): a list of errors
or none, never an exception; a card it passes also passes the JSON Schema made from its tables."""
import json

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.wecom.cards import CardError, json_schema, validate
from tests.fuzzing import FUZZ, template_cards

SCHEMAS = {update: jsonschema.Draft202012Validator(json_schema(for_update=update)) for update in (False, True)}


@pytest.mark.slow
@FUZZ
@given(card=template_cards, for_update=st.booleans(), require_task_id=st.booleans())
def test_random_cards_get_errors_or_pass_never_an_exception(card, for_update, require_task_id):
    errors = validate(card, for_update=for_update, require_task_id=require_task_id)
    assert all(isinstance(e, CardError) and isinstance(e.path, str) and e.message for e in errors)
    json.dumps([e.message for e in errors])  # shown in pages and the API as they are
    if not errors and require_task_id:
        assert list(SCHEMAS[for_update].iter_errors(card)) == []
