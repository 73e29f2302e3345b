"""Rendering templates for contacts: the exact Cloud API body, accepted by the
simulator's send check, and the filled text for the inbox."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string

from parley.core.errors import ActionError
from parley.crm.models import Contact
from parley.msgtemplates.render import (
    RenderError,
    compile_template,
    mapping_from_form,
    validate_mapping,
    variables,
)
from parley.whatsapp.models import MessageTemplate
from parley.whatsapp.simulator import templates as sim_templates


def _template(components: list[dict[str, Any]], **extra: Any) -> MessageTemplate:
    return MessageTemplate(
        name=extra.pop("name", "order_update"),
        language=extra.pop("language", "en_US"),
        category="UTILITY",
        status="APPROVED",
        components=components,
        **extra,
    )


def _sim_accepts(template: MessageTemplate, payload: dict[str, Any]) -> str:
    """What the simulator's send check says, and what the phone shows."""
    sim = sim_templates.Template(
        waba_id="1",
        name=template.name,
        language=template.language,
        category=template.category,
        components=template.components,
        status="APPROVED",
        parameter_format=template.parameter_format,
    )
    sim_templates.check_send(sim, payload["template"])
    return sim_templates.render(sim, payload["template"])


ANN = Contact(
    wa_id="15551230000",
    phone_e164="+15551230000",
    name="Ann Lee",
    email="ann@example.test",
    attributes={"city": "Lisbon", "points": 120.0, "vip": True},
)


def test_positional_body_fields_attributes_columns_and_statics() -> None:
    template = _template(
        [
            {
                "type": "BODY",
                "text": "Hi {{1}}, your {{2}} order ships to {{3}}. Code {{4}}, {{5}} points.",
            },
            {"type": "FOOTER", "text": "Reply STOP to opt out"},
        ]
    )
    renderer = compile_template(
        template,
        {
            "1": {"source": "field", "field": "first_name", "fallback": "there"},
            "2": {"source": "static", "value": "summer"},
            "3": {"source": "attribute", "key": "city", "fallback": ""},
            "4": {"source": "column", "column": "coupon", "fallback": "NONE"},
            "5": {"source": "attribute", "key": "points"},
        },
    )
    rendered = renderer.render(ANN, {"coupon": "SAVE10"})
    assert rendered.payload == {
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Ann"},
                        {"type": "text", "text": "summer"},
                        {"type": "text", "text": "Lisbon"},
                        {"type": "text", "text": "SAVE10"},
                        {"type": "text", "text": "120"},
                    ],
                }
            ],
        },
    }
    assert rendered.text == "Hi Ann, your summer order ships to Lisbon. Code SAVE10, 120 points."
    phone = _sim_accepts(template, rendered.payload)
    assert "Hi Ann, your summer order ships to Lisbon" in phone


def test_named_variables_use_parameter_name() -> None:
    template = _template(
        [
            {"type": "HEADER", "format": "TEXT", "text": "Order {{order_id}}"},
            {"type": "BODY", "text": "Hello {{first_name}}, we will call {{phone}}."},
        ],
        parameter_format="NAMED",
    )
    rendered = compile_template(
        template,
        {
            "header": {"source": "column", "column": "order"},
            "first_name": {"source": "field", "field": "first_name"},
            "phone": {"source": "field", "field": "phone"},
        },
    ).render(ANN, {"order": "A-17"})
    components = rendered.payload["template"]["components"]
    assert components == [
        {
            "type": "header",
            "parameters": [{"type": "text", "parameter_name": "order_id", "text": "A-17"}],
        },
        {
            "type": "body",
            "parameters": [
                {"type": "text", "parameter_name": "first_name", "text": "Ann"},
                {"type": "text", "parameter_name": "phone", "text": "+15551230000"},
            ],
        },
    ]
    assert rendered.text == "Hello Ann, we will call +15551230000."
    assert _sim_accepts(template, rendered.payload) == (
        "Order A-17\nHello Ann, we will call +15551230000."
    )


def test_named_detected_from_the_text_when_the_format_is_not_stored() -> None:
    template = _template([{"type": "BODY", "text": "Hi {{name}}"}])  # synced, default format
    rendered = compile_template(template, {"name": {"source": "field", "field": "name"}}).render(
        ANN
    )
    assert rendered.payload["template"]["components"][0]["parameters"][0]["parameter_name"] == (
        "name"
    )


def test_media_header_url_button_and_copy_code() -> None:
    template = _template(
        [
            {
                "type": "HEADER",
                "format": "IMAGE",
                "example": {"header_handle": ["https://cdn.example.test/promo.jpg"]},
            },
            {"type": "BODY", "text": "Your code is ready."},
            {
                "type": "BUTTONS",
                "buttons": [
                    {"type": "QUICK_REPLY", "text": "Stop"},
                    {
                        "type": "URL",
                        "text": "Track",
                        "url": "https://shop.example.test/track/{{1}}",
                        "example": ["https://shop.example.test/track/A-1"],
                    },
                    {"type": "COPY_CODE", "example": "SAVE10"},
                ],
            },
        ]
    )
    [header, button, code] = variables(template)
    assert (header.key, header.kind, header.example) == (
        "header",
        "media",
        "https://cdn.example.test/promo.jpg",
    )
    assert (button.key, button.example) == ("button:1", "A-1")
    assert code.key == "button:2"
    # The media header defaults to the example link it was approved with.
    renderer = compile_template(
        template,
        {
            "button:1": {"source": "column", "column": "order"},
            "button:2": {"source": "static", "value": "SAVE10"},
        },
    )
    rendered = renderer.render(ANN, {"order": "A-9"})
    assert rendered.payload["template"]["components"] == [
        {
            "type": "header",
            "parameters": [
                {"type": "image", "image": {"link": "https://cdn.example.test/promo.jpg"}}
            ],
        },
        {
            "type": "button",
            "sub_type": "url",
            "index": "1",
            "parameters": [{"type": "text", "text": "A-9"}],
        },
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "2",
            "parameters": [{"type": "coupon_code", "coupon_code": "SAVE10"}],
        },
    ]
    assert rendered.text == "Your code is ready."
    _sim_accepts(template, rendered.payload)
    # An uploaded media id goes by id.
    by_id = compile_template(
        template,
        {
            "header": {"source": "static", "value": "1234567890"},
            "button:1": {"source": "static", "value": "x"},
            "button:2": {"source": "static", "value": "y"},
        },
    ).render(ANN)
    assert by_id.payload["template"]["components"][0]["parameters"][0] == {
        "type": "image",
        "image": {"id": "1234567890"},
    }


def test_fallbacks_name_profile_name_and_phone_from_wa_id() -> None:
    template = _template([{"type": "BODY", "text": "Hi {{1}} ({{2}}), {{3}} / {{4}}"}])
    renderer = compile_template(
        template,
        {
            "1": {"source": "field", "field": "first_name", "fallback": "there"},
            "2": {"source": "field", "field": "name"},
            "3": {"source": "field", "field": "phone"},
            "4": {"source": "attribute", "key": "city", "fallback": "your city"},
        },
    )
    stranger = Contact(wa_id="4915100000", profile_name="Max Power", attributes={})
    assert renderer.render(stranger).text == "Hi Max (Max Power), +4915100000 / your city"
    nameless = Contact(wa_id="4915100001", profile_name="", attributes={})
    with pytest.raises(RenderError) as refused:
        renderer.render(nameless)
    assert refused.value.reason == (
        "Variable {{2}} (name) is empty for this contact and has no fallback."
    )


def test_values_are_cleaned_of_new_lines_and_runs_of_spaces() -> None:
    template = _template([{"type": "BODY", "text": "Note: {{1}}"}])
    renderer = compile_template(template, {"1": {"source": "column", "column": "note"}})
    rendered = renderer.render(ANN, {"note": "line one\n\tline     two "})
    assert rendered.payload["template"]["components"][0]["parameters"][0]["text"] == (
        "line one line two"
    )


def test_missing_variable_and_bad_sources_are_refused_at_compile_time() -> None:
    template = _template([{"type": "BODY", "text": "Hi {{1}}, see {{2}}"}])
    with pytest.raises(RenderError) as missing:
        compile_template(template, {"1": {"source": "field", "field": "name"}})
    assert "{{2}}" in missing.value.reason and missing.value.key == "2"
    with pytest.raises(RenderError, match="contact field must be one of"):
        compile_template(
            template,
            {"1": {"source": "field", "field": "age"}, "2": {"source": "static", "value": "x"}},
        )
    with pytest.raises(RenderError, match="source must be one of"):
        compile_template(
            template, {"1": {"source": "magic"}, "2": {"source": "static", "value": "x"}}
        )
    with pytest.raises(RenderError, match="type the fixed value"):
        compile_template(
            template,
            {"1": {"source": "static", "value": " "}, "2": {"source": "static", "value": "x"}},
        )
    with pytest.raises(ActionError) as action:
        validate_mapping(template, {"1": {"source": "field", "field": "name"}})
    assert action.value.field == "mapping" and "{{2}}" in action.value.message
    validate_mapping(
        template,
        {"1": {"source": "field", "field": "name"}, "2": {"source": "static", "value": "x"}},
    )


def test_template_without_variables_sends_no_components() -> None:
    template = _template([{"type": "BODY", "text": "We are open today."}])
    rendered = compile_template(template, {}).render(ANN)
    assert rendered.payload == {
        "type": "template",
        "template": {"name": "order_update", "language": {"code": "en_US"}},
    }
    assert _sim_accepts(template, rendered.payload) == "We are open today."


def test_mapping_form_round_trip() -> None:
    template = _template(
        [
            {"type": "HEADER", "format": "TEXT", "text": "For {{1}}"},
            {"type": "BODY", "text": "Hi {{1}}, {{2}} in {{3}} and {{4}}"},
        ]
    )
    html = render_to_string(
        "msgtemplates/_mapping_fields.html",
        {
            "template": template,
            "mapping": {"2": {"source": "attribute", "key": "city", "fallback": "town"}},
            "attributes": ["city", "tier"],
            "columns": ["coupon"],
            "prefix": "m",
        },
    )
    assert 'name="m-header-source"' in html and 'name="m-4-fallback"' in html
    assert '<option value="attribute:city" selected>' in html
    assert '<option value="column:coupon"' in html
    data = QueryDict(mutable=True)
    data.update(
        {
            "m-header-source": "static",
            "m-header-value": "VIP",
            "m-1-source": "field:first_name",
            "m-1-fallback": "there",
            "m-2-source": "attribute:city",
            "m-2-fallback": "town",
            "m-3-source": "column:coupon",
            "m-4-source": "",
        }
    )
    mapping = mapping_from_form(template, data, prefix="m")
    assert mapping == {
        "header": {"source": "static", "value": "VIP"},
        "1": {"source": "field", "field": "first_name", "fallback": "there"},
        "2": {"source": "attribute", "key": "city", "fallback": "town"},
        "3": {"source": "column", "column": "coupon", "fallback": ""},
    }
    with pytest.raises(ActionError, match=r"\{\{4\}\}"):
        validate_mapping(template, mapping)


def test_render_is_fast() -> None:
    template = _template(
        [
            {"type": "HEADER", "format": "TEXT", "text": "Hi {{1}}"},
            {"type": "BODY", "text": "Hello {{1}}, {{2}} from {{3}} {{4}}."},
            {
                "type": "BUTTONS",
                "buttons": [{"type": "URL", "text": "Go", "url": "https://x.test/{{1}}"}],
            },
        ]
    )
    renderer = compile_template(
        template,
        {
            "header": {"source": "field", "field": "first_name"},
            "1": {"source": "field", "field": "name"},
            "2": {"source": "attribute", "key": "city", "fallback": "x"},
            "3": {"source": "column", "column": "c", "fallback": "y"},
            "4": {"source": "static", "value": "z"},
            "button:0": {"source": "field", "field": "wa_id"},
        },
    )
    started = time.perf_counter()
    for _ in range(10_000):
        renderer.render(ANN, {"c": "1"})
    per_call = (time.perf_counter() - started) / 10_000
    assert per_call < 100e-6, f"{per_call * 1e6:.1f} µs per render"
