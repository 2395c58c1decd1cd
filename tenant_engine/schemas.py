"""Request bodies of the admin API (pydantic), each field checked with a message a person
understands."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

Tone = Literal["friendly", "formal", "casual"]
LOCALE_PATTERN = r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateSave(Strict):
    locale: str = Field("en", pattern=LOCALE_PATTERN)
    tone: Literal["any", "friendly", "formal", "casual"] = "any"
    body: str = Field(min_length=1, max_length=4000)
    author: str = Field("api", max_length=200)
    note: str = Field("", max_length=200)


class TemplateRevert(Strict):
    locale: str = Field("en", pattern=LOCALE_PATTERN)
    tone: Literal["any", "friendly", "formal", "casual"] = "any"
    version: int = Field(ge=1)
    author: str = Field("api", max_length=200)


class ToneChange(Strict):
    preset: Tone | None = None
    mode: Literal["variants", "llm"] | None = None
    emoji: bool | None = None
    greeting: str | None = Field(None, max_length=80)
    sign_off: str | None = Field(None, max_length=200)
    address: Literal["first_name", "full_name", "none"] | None = None


class LlmSettingsChange(Strict):
    base_url: HttpUrl | None = None
    model: str | None = Field(None, min_length=1, max_length=200)
    api_key: str | None = Field(None, min_length=1, max_length=500)
    use_platform_default: bool = False


class QuotaChange(Strict):
    plan: Literal["free", "premium", "custom"] | None = None
    monthly_token_budget: int | None = Field(None, ge=0, le=10**12)
    monthly_cost_budget_usd: float | None = Field(None, ge=0, le=10**6)
    conversation_token_cap: int | None = Field(None, ge=0, le=10**9)
    hard_stop: bool | None = None
    alert_email: str | None = Field(None, max_length=320, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    alert_webhook_url: str | None = Field(None, max_length=1000, pattern=r"^$|^https?://\S+$")

    @field_validator("plan", "hard_stop", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class FaqCreate(Strict):
    question: str = Field(min_length=3, max_length=500)
    answer: str = Field(min_length=1, max_length=2000)


class RenderRequestBody(Strict):
    template: str = Field(min_length=1, max_length=60)
    locale: str | None = Field(None, pattern=LOCALE_PATTERN)
    variables: dict[str, Any] = Field(default_factory=dict)
    now: str | None = None

    @field_validator("variables")
    @classmethod
    def small_enough(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 40:
            raise ValueError("at most 40 variables")
        return value


class PreviewRequest(Strict):
    template: str = Field(min_length=1, max_length=60)
    body: str | None = Field(None, max_length=4000)
    locale: str | None = Field(None, pattern=LOCALE_PATTERN)
    tone: ToneChange | None = None
    variables: dict[str, Any] = Field(default_factory=dict)


class ChatMessage(Strict):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=20000)


class LlmRequest(Strict):
    purpose: Literal["fallback", "form_answer", "paraphrase", "preview", "test"]
    messages: list[ChatMessage] = Field(min_length=1, max_length=40)
    conversation: str | None = Field(None, max_length=200)
    max_tokens: int = Field(400, ge=1, le=4000)
    temperature: float = Field(0.2, ge=0, le=2)
    json_mode: bool = False
