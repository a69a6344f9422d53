"""How Django forms are drawn on the product's pages (settings.FORM_RENDERER).

Every field goes through ``processes/forms/field.html``, which marks a required field's label with an
asterisk and the words "required" for screen readers, so no form template has to remember to.
"""

from django.forms.renderers import DjangoTemplates


class FormRenderer(DjangoTemplates):
    field_template_name = "processes/forms/field.html"
