"""Meta's rules for a template, checked before submitting, with the field at fault."""

from __future__ import annotations

import pytest

from parley.core.errors import ActionError
from parley.msgtemplates.spec import (
    ButtonSpec,
    TemplateSpec,
    components,
    from_components,
    require_valid,
    validate,
)


def _spec(**overrides: object) -> TemplateSpec:
    values: dict[str, object] = {
        "name": "order_update",
        "category": "UTILITY",
        "language": "en_US",
        "body": "Hi {{1}}, order {{2}} shipped.",
        "examples": {"1": "Ann", "2": "A-1"},
    }
    values.update(overrides)
    return TemplateSpec(**values).normalized()  # type: ignore[arg-type]


def test_a_valid_template_has_no_errors() -> None:
    assert validate(_spec()) == {}
    assert _spec().parameter_format == "POSITIONAL"
    named = _spec(
        body="Hi {{first_name}}, see {{city}}.", examples={"first_name": "A", "city": "B"}
    )
    assert validate(named) == {} and named.parameter_format == "NAMED"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"name": "Order Update"}, "name", "lowercase letters, digits and underscores"),
        ({"name": ""}, "name", "Give the template a name"),
        ({"category": "PROMO"}, "category", "Marketing, Utility or Authentication"),
        ({"language": "english"}, "language", "en_US"),
        ({"body": ""}, "body", "Write the message body"),
        ({"body": "x" * 1025}, "body", "at most 1024"),
        ({"body": "Hi {{1}} and {{3}}.", "examples": {"1": "a", "3": "c"}}, "body", "without gaps"),
        ({"body": "Hi {{2}}.", "examples": {"2": "a"}}, "body", "from {{1}}"),
        (
            {"body": "Hi {{1}} and {{name}}.", "examples": {"1": "a", "name": "b"}},
            "body",
            "not both",
        ),
        ({"body": "Hi {{First}}."}, "body", "lowercase names"),
        ({"body": "Hi {{1}}{{2}} x"}, "body", "between variables"),
        ({"body": "{{1}} is your code", "examples": {"1": "a"}}, "body", "start or end"),
        ({"examples": {"1": "Ann"}}, "examples.2", "example value for {{2}}"),
        ({"footer": "f" * 61}, "footer", "at most 60"),
        ({"footer": "Bye {{1}}"}, "footer", "cannot have variables"),
        ({"header_format": "TEXT"}, "header_text", "Type the header text"),
        ({"header_format": "TEXT", "header_text": "A {{1}} {{2}}"}, "header_text", "one variable"),
        ({"header_format": "TEXT", "header_text": "h" * 61}, "header_text", "at most 60"),
        ({"header_format": "TEXT", "header_text": "Hi {{1}}"}, "examples.header", "Header {{1}}"),
        ({"header_format": "IMAGE"}, "header_media", "example image"),
        ({"header_format": "GIF"}, "header_format", "none, text, image"),
        (
            {
                "header_format": "TEXT",
                "header_text": "For {{name}}",
                "examples": {"1": "a", "2": "b", "header": "x"},
            },
            "header_text",
            "same kind of variables",
        ),
    ],
)
def test_rule_violations_name_their_field(
    overrides: dict[str, object], field: str, words: str
) -> None:
    errors = validate(_spec(**overrides))
    assert field in errors, errors
    assert words in errors[field]


@pytest.mark.parametrize(
    ("buttons", "field", "words"),
    [
        ([ButtonSpec("QUICK_REPLY", "")], "buttons.0.text", "label"),
        ([ButtonSpec("QUICK_REPLY", "x" * 26)], "buttons.0.text", "at most 25"),
        ([ButtonSpec("URL", "Go", url="ftp://x")], "buttons.0.url", "https://"),
        ([ButtonSpec("URL", "Go", url="https://x.test/{{1}}/y")], "buttons.0.url", "very end"),
        ([ButtonSpec("URL", "Go", url="https://x.test/{{1}}")], "buttons.0.example", "example"),
        ([ButtonSpec("PHONE_NUMBER", "Call", phone_number="555")], "buttons.0.phone_number", "+1"),
        ([ButtonSpec("FLOW", "Go")], "buttons.0.type", "quick reply, a URL or a phone"),
        ([ButtonSpec("QUICK_REPLY", f"b{i}") for i in range(11)], "buttons", "at most 10"),
        (
            [ButtonSpec("URL", f"u{i}", url="https://x.test") for i in range(3)],
            "buttons",
            "at most 2 URL",
        ),
        (
            [
                ButtonSpec("QUICK_REPLY", "a"),
                ButtonSpec("URL", "u", url="https://x.test"),
                ButtonSpec("QUICK_REPLY", "b"),
            ],
            "buttons",
            "together",
        ),
    ],
)
def test_button_rules(buttons: list[ButtonSpec], field: str, words: str) -> None:
    errors = validate(_spec(buttons=buttons))
    assert field in errors, errors
    assert words in errors[field]


def test_require_valid_raises_the_first_problem_as_an_action_error() -> None:
    with pytest.raises(ActionError) as refused:
        require_valid(_spec(name="Bad Name"))
    assert refused.value.field == "name" and refused.value.code == "invalid_template"


def test_components_round_trip_for_editing() -> None:
    spec = _spec(
        header_format="TEXT",
        header_text="Order {{1}}",
        footer="Bye",
        buttons=[
            ButtonSpec("URL", "Track", url="https://x.test/t/{{1}}", example="A-1"),
            ButtonSpec("PHONE_NUMBER", "Call", phone_number="+15551234567"),
        ],
        examples={"1": "Ann", "2": "A-1", "header": "A-1"},
    )
    items = components(spec)
    back = from_components(
        name=spec.name, category=spec.category, language=spec.language, items=items
    )
    assert back == spec
    media = _spec(header_format="VIDEO", header_media="https://cdn.test/v.mp4")
    assert components(media)[0] == {
        "type": "HEADER",
        "format": "VIDEO",
        "example": {"header_handle": ["https://cdn.test/v.mp4"]},
    }
    again = from_components(name="n", category="UTILITY", language="en_US", items=components(media))
    assert again.header_media == "https://cdn.test/v.mp4"
