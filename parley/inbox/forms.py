from __future__ import annotations

from django import forms


class ComposeForm(forms.Form):
    text = forms.CharField(
        max_length=4096, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    reply_to = forms.IntegerField(required=False)


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=512)
    language = forms.CharField(max_length=15, initial="en_US")
    parameters = forms.CharField(
        required=False,
        help_text="One value per line, in order.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def parameter_list(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data.get("parameters", "").splitlines()
            if line.strip()
        ]


class NoteForm(forms.Form):
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class QuickReplyForm(forms.Form):
    shortcut = forms.CharField(max_length=40, help_text="Type /shortcut in the composer.")
    title = forms.CharField(max_length=100, required=False)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Variables: {{name}}, {{first_name}}, {{phone}}, {{agent}}.",
    )
