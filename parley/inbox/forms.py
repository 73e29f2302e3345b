from __future__ import annotations

from django import forms


class ComposeForm(forms.Form):
    text = forms.CharField(
        max_length=4096, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reply_to = forms.IntegerField(required=False)


class TemplateForm(forms.Form):
    # Either a picked "name|language", or both typed.
    template = forms.CharField(max_length=530, required=False)
    name = forms.CharField(max_length=512, required=False)
    language = forms.CharField(max_length=15, required=False)
    parameters = forms.CharField(
        required=False,
        help_text="One value per line, in order.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def name_and_language(self) -> tuple[str, str]:
        picked = self.cleaned_data.get("template") or ""
        if "|" in picked:
            name, _, language = picked.partition("|")
            return name, language
        return self.cleaned_data.get("name") or "", self.cleaned_data.get("language") or "en_US"

    def parameter_list(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data.get("parameters", "").splitlines()
            if line.strip()
        ]


class QuickReplyForm(forms.Form):
    shortcut = forms.CharField(max_length=40, help_text="Type /shortcut in the composer.")
    title = forms.CharField(max_length=100, required=False)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Variables: {{name}}, {{first_name}}, {{phone}}, {{agent}}.",
    )
