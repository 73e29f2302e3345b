from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class ChannelOut(Schema):
    id: int
    name: str
    phone_number_id: str
    waba_id: str
    display_phone_number: str
    verified_name: str
    access_token_hint: str
    app_secret_hint: str
    webhook_url: str
    verify_token: str
    throughput_cap: int
    status: str
    created_at: datetime
    last_tested_at: datetime | None
    last_test_ok: bool | None
    last_test_detail: str


class ChannelIn(Schema):
    name: str = Field(examples=["Support line"])
    phone_number_id: str = Field(examples=["106540352242922"])
    waba_id: str = Field(examples=["102290129340398"])
    display_phone_number: str = Field("", examples=["+1 555 0100"])
    access_token: str = Field(examples=["EAAG..."])
    app_secret: str = Field(examples=["3f1c..."])
    throughput_cap: int = Field(80, examples=[80])


class ChannelSecretsIn(Schema):
    access_token: str = ""
    app_secret: str = ""


class ChannelStatusIn(Schema):
    active: bool


class TemplateOut(Schema):
    id: int
    name: str
    language: str
    category: str
    status: str
    body_text: str
    parameter_count: int
    rejected_reason: str
    synced_at: datetime
